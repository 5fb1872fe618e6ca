/**
 * Two memlane server processes write to ONE database directory at the same
 * time (contract §3/§6, STACK-FACTS §5: concurrent merges of the same new keys
 * duplicate rows unless writes are serialised across processes; memlane's
 * WriteLock does that with a lock directory). Nothing may be lost, duplicated
 * or reported as STORAGE_ERROR, and content dedupe must hold across processes.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, chunks, cleanup, envFor, memoriesOf, type McpChild, type Result, startMcp, stats, tempDir } from './_util.js';

const CALLS = 50;
const PER_CALL = 20;
const IN_FLIGHT = 3;

/** Runs `CALLS` batch_remember calls on one client, `IN_FLIGHT` at a time, collecting every result. */
async function writer(m: McpChild, tag: string, salt: string): Promise<{ contents: string[]; results: Result[]; ms: number[] }> {
  const contents: string[] = [];
  const results: Result[] = [];
  const ms: number[] = [];
  let next = 0;
  const lane = async () => {
    for (;;) {
      const call = next++;
      if (call >= CALLS) return;
      const memories = Array.from({ length: PER_CALL }, (_, i) => ({
        content: `writer ${tag} call ${call} item ${i} salt ${salt}: the ${tag}${call}x${i} harbour lamp is lit at dusk`,
        tags: [`w${tag}`, `c${call}`],
        metadata: { writer: tag, call, i },
      }));
      const t0 = performance.now();
      const out = await m.ok('batch_remember', { memories });
      ms.push(performance.now() - t0);
      expect(out.total).toBe(PER_CALL);
      out.results.forEach((r: Result, i: number) => {
        contents[call * PER_CALL + i] = memories[i]!.content;
        results[call * PER_CALL + i] = r;
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { contents, results, ms };
}

describe('two writer processes on one database', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it('2 processes × 50 concurrent batch_remember calls × 20 items: 2000 rows, all created, none lost or duplicated', { timeout: 85_000 }, async () => {
    const dir = tempDir('memlane-dur-2w-');
    const salt = randomBytes(4).toString('hex');
    const [a, b] = await Promise.all([startMcp(envFor(dir)), startMcp(envFor(dir))]);
    expect(a.pid).not.toBe(b.pid);

    const t0 = performance.now();
    const [ra, rb] = await Promise.all([writer(a, 'A', salt), writer(b, 'B', salt)]);
    const wall = performance.now() - t0;

    const all = [...ra.results, ...rb.results];
    const contents = [...ra.contents, ...rb.contents];
    expect(all).toHaveLength(2 * CALLS * PER_CALL);
    const bad = all.filter((r) => r.status !== 'ok' || r.action !== 'created');
    expect(bad.slice(0, 5), `${bad.length} items not ok/created; stderr A:\n${a.stderr()}\nstderr B:\n${b.stderr()}`).toEqual([]);
    expect(a.stderr() + b.stderr()).not.toMatch(/STORAGE_ERROR/);
    const ids = all.map((r) => r.id!);
    expect(new Set(ids).size).toBe(2000);

    await Promise.all([a.close(), b.close()]);

    // A third process reads every id back.
    const c = await startMcp(envFor(dir));
    for (const [k, part] of chunks(ids, 100).entries()) {
      const got = await c.ok('batch_get', { ids: part });
      expect(got.succeeded).toBe(part.length);
      got.results.forEach((r: Result & { memory: { id: string; content: string } }, i: number) => {
        expect(r.status).toBe('ok');
        expect(r.memory.id).toBe(part[i]);
        expect(r.memory.content).toBe(contents[k * 100 + i]);
      });
    }
    await c.close();

    const { stats: s } = await stats(dir);
    expect(memoriesOf(s, 'default')).toBe(2000);
    const mean = (xs: number[]) => Math.round(xs.reduce((x, y) => x + y, 0) / xs.length);
    console.info(
      `[two-writers] 2000 items in ${Math.round(wall)} ms; per-call latency A mean ${mean(ra.ms)} ms (max ${Math.round(Math.max(...ra.ms))}), ` +
        `B mean ${mean(rb.ms)} ms (max ${Math.round(Math.max(...rb.ms))}); versions ${s.versions}, fragments ${s.fragments}`,
    );
  });

  it('the same 30 contents remembered by both processes at the same moment are stored once, and both report the same ids', { timeout: 60_000 }, async () => {
    const dir = tempDir('memlane-dur-dedupe-');
    const [a, b] = await Promise.all([startMcp(envFor(dir)), startMcp(envFor(dir))]);
    const ROUNDS = 4;
    let stored = 0;
    const tally = { created: 0, deduplicated: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const salt = randomBytes(6).toString('hex');
      const tag = `round-${round}-${salt}`;
      const contents = Array.from({ length: 30 }, (_, i) => `round ${round} shared fact ${i} ${salt}: the ferry to isle ${i} leaves at ${i + 6} am`);
      // Case and whitespace differ between the processes: the normalised content is the same (contract §4).
      const variant = contents.map((c) => `  ${c.toUpperCase().replace(/ /g, '   ')} `);
      const [ra, rb] = await Promise.all([
        a.ok('batch_remember', { memories: contents.map((content) => ({ content, tags: [tag] })) }),
        b.ok('batch_remember', { memories: variant.map((content) => ({ content, tags: [tag] })) }),
      ]);
      for (let i = 0; i < 30; i++) {
        const x: Result = ra.results[i];
        const y: Result = rb.results[i];
        expect(x.status, JSON.stringify(x)).toBe('ok');
        expect(y.status, JSON.stringify(y)).toBe('ok');
        expect(['created', 'deduplicated']).toContain(x.action);
        expect(['created', 'deduplicated']).toContain(y.action);
        // Exactly one of the two created it; the other points at that very id.
        expect([x.action, y.action].sort()).toEqual(['created', 'deduplicated']);
        expect(y.id).toBe(x.id);
        tally[x.action as 'created' | 'deduplicated']++;
      }
      stored += 30;
      const ids = ra.results.map((r: Result) => r.id!);
      const got = await b.ok('batch_get', { ids });
      expect(got.succeeded).toBe(30);
      // Exactly 30 rows carry this round's tag (an exact filter): 30 and no more.
      const found = await a.ok('batch_search', { queries: [{ query: 'ferry isle leaves', limit: 100, filter: { tags_all: [tag] } }] });
      expect(found.results[0].results.map((h: { id: string }) => h.id).sort()).toEqual([...ids].sort());
    }
    await Promise.all([a.close(), b.close()]);
    const { stats: s } = await stats(dir);
    expect(memoriesOf(s, 'default')).toBe(stored);
    console.info(`[two-writers] dedupe across processes: ${ROUNDS}×30 shared contents → ${memoriesOf(s, 'default')} rows; process A created ${tally.created}, deduplicated ${tally.deduplicated}`);
  });
});
