/**
 * End to end over stdio: the BUILT server (dist/src/cli.js) as a real child
 * process behind the SDK's StdioClientTransport. 100 memories in one call,
 * found again by search, surviving a restart of the process.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES, assertBuilt, cleanup, startMcp, tempDir } from './_spawn.js';

const PREFIXES = ['Zar', 'Quel', 'Mor', 'Vint', 'Brak', 'Solt', 'Tyr', 'Harn', 'Oph', 'Kel'];
const SUFFIXES = ['ova', 'ith', 'mere', 'gard', 'ulon', 'esh', 'amar', 'pike', 'dor', 'wyn'];
const GOODS = ['amber glass', 'salt cod', 'copper bells', 'blue wool', 'river pearls', 'pepper wine', 'clockwork toys', 'cedar boats', 'honey cakes', 'slate tiles', 'moon lilies'];

/** 100 fictional cities, each with a one-word name no other city shares. */
const CITIES = PREFIXES.flatMap((p) => SUFFIXES.map((s) => `${p}${s}`));
const fact = (i: number) =>
  `The city of ${CITIES[i]} is famous for its ${GOODS[i % GOODS.length]}; it has ${1000 + i * 37} inhabitants and its mayor is called Ser${CITIES[i]!.toLowerCase()}.`;

describe('stdio end to end (built server as a child process)', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it('remembers 100 memories in one call, finds them, exits on stdin close, and finds them again after a restart', { timeout: 30_000 }, async () => {
    expect(new Set(CITIES).size).toBe(100);
    const dir = tempDir();

    // ---- first process
    const first = await startMcp({ MEMLANE_DB: dir });
    const { tools } = await first.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);

    const memories = CITIES.map((city, i) => ({ content: fact(i), tags: ['city', city.toLowerCase()], type: 'fact' }));
    const remembered = await first.ok('batch_remember', { memories });
    expect(remembered.total).toBe(100);
    expect(remembered.succeeded).toBe(100);
    expect(remembered.failed).toBe(0);
    expect(remembered.results).toHaveLength(100);
    const ids: string[] = remembered.results.map((r: { id: string; status: string; action: string; index: number }, i: number) => {
      expect(r).toMatchObject({ index: i, status: 'ok', action: 'created' });
      return r.id;
    });
    expect(new Set(ids).size).toBe(100);

    const probes = [0, 37, 64, 99];
    const search = async (s: typeof first) =>
      s.ok('batch_search', { queries: probes.map((i) => ({ query: `What is ${CITIES[i]} famous for?`, limit: 5 })) });

    const found = await search(first);
    expect(found.results).toHaveLength(probes.length);
    probes.forEach((cityIndex, q) => {
      const r = found.results[q];
      expect(r.status).toBe('ok');
      expect(r.results.length).toBeGreaterThan(0);
      expect(r.results[0].id).toBe(ids[cityIndex]);
      expect(r.results[0].content).toBe(fact(cityIndex));
    });

    // ---- stdin closes: the server must exit by itself, cleanly. The SDK's client sends SIGTERM to a child
    // that is still running 2 s after stdin closed; memlane would log that shutdown as "(SIGTERM)".
    const exit = await first.close();
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
    expect(first.stderr()).toContain('shutting down (stdin closed)');
    expect(first.stderr()).not.toMatch(/shutting down \((SIGTERM|SIGINT)\)/);
    expect(() => process.kill(first.pid, 0)).toThrow(); // gone

    // ---- second process on the same directory
    const second = await startMcp({ MEMLANE_DB: dir });
    const again = await search(second);
    probes.forEach((cityIndex, q) => {
      expect(again.results[q].results[0]?.id).toBe(ids[cityIndex]);
    });

    const got = await second.ok('batch_get', { ids });
    expect(got.succeeded).toBe(100);
    got.results.forEach((r: { index: number; id: string; status: string; memory: { id: string; content: string; tags: string[] } }, i: number) => {
      expect(r.status).toBe('ok');
      expect(r.id).toBe(ids[i]);
      expect(r.memory.id).toBe(ids[i]);
      expect(r.memory.content).toBe(fact(i));
      expect(r.memory.tags).toEqual(['city', CITIES[i]!.toLowerCase()]);
    });

    const exit2 = await second.close();
    expect(exit2).toMatchObject({ code: 0, signal: null });
  });
});
