/**
 * Smoke test of the speed bench (bench/speed.ts, issue 9): the built bench runs
 * end to end at N = 200 over stdio, with server-memory and raw LanceDB, and
 * prints well-formed JSON lines with every expected case and hit@10 in [0, 1].
 * Timing is never asserted here: the numbers belong in bench/RESULTS.md.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchScript, runBench } from './_run.js';

const BENCH = benchScript('speed');
const N = 200;
const MODES = ['vector', 'text', 'hybrid'];

type Line = Record<string, any>;

describe('speed bench smoke', () => {
  it('runs at N = 200 over stdio with peers and emits one well-formed JSON line per case', { timeout: 180_000 }, async () => {
    expect(existsSync(BENCH), `${BENCH} is missing: npm test builds it first`).toBe(true);
    const res = await runBench(BENCH, [
      '--sizes', String(N), '--peers', '--queries', '6', '--batched', '2', '--fresh', '3', '--warmup', '1',
      '--updates', '20', '--deletes', '20', '--gets', '2', '--startups', '1',
    ]);
    expect(res.code, res.stderr.slice(-4000)).toBe(0);

    const jsonLines = res.stdout.split('\n').filter((l) => l.startsWith('{'));
    const lines: Line[] = jsonLines.map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThan(20);
    const run = lines[0]!.run;
    for (const l of lines) {
      expect(l.bench).toBe('memlane-speed');
      expect(l.run).toBe(run);
      expect(typeof l.case).toBe('string');
    }
    expect(lines.filter((l) => l.case === 'error')).toEqual([]);
    // The human table follows the JSON lines.
    expect(res.stdout).toContain(`N = ${N}`);

    const machine = lines.find((l) => l.case === 'machine')!;
    expect(machine.cores).toBeGreaterThan(0);
    expect(machine.memory_gib).toBeGreaterThan(0);
    expect(machine.node).toBe(process.version);
    for (const pkg of ['@lancedb/lancedb', '@modelcontextprotocol/sdk', '@modelcontextprotocol/server-memory']) expect(machine.packages[pkg]).toMatch(/^\d+\.\d+/);

    const of = (system: string, kind: string, pred: (l: Line) => boolean = () => true) => lines.filter((l) => l.system === system && l.case === kind && l.n === N && pred(l));
    const one = (system: string, kind: string, pred?: (l: Line) => boolean) => {
      const found = of(system, kind, pred);
      expect(found, `${system} ${kind}`).toHaveLength(1);
      return found[0]!;
    };
    const checkSearch = (l: Line) => {
      expect(l.call_ms.calls).toBeGreaterThan(0);
      for (const k of ['p50', 'p95', 'p99']) expect(Number.isFinite(l.call_ms[k])).toBe(true);
      for (const kind of ['phrase', 'keyword']) {
        expect(l.queries[kind]).toBeGreaterThan(0);
        expect(l.hit10[kind]).toBeGreaterThanOrEqual(0);
        expect(l.hit10[kind]).toBeLessThanOrEqual(1);
      }
      expect(l.errors).toBe(0);
    };

    // memlane: every case of the spec.
    expect(one('memlane', 'ingest')).toMatchObject({ transport: 'stdio', items: N, batch: 100, errors: 0 });
    checkSearch(one('memlane', 'search', (l) => l.state === 'fresh'));
    for (const mode of MODES) {
      for (const perCall of [1, 10]) checkSearch(one('memlane', 'search', (l) => l.state === 'settled' && l.mode === mode && l.queries_per_call === perCall));
    }
    expect(one('memlane', 'update')).toMatchObject({ items: 20, errors: 0 });
    expect(one('memlane', 'delete')).toMatchObject({ items: 20, errors: 0 });
    one('memlane', 'get');
    one('memlane', 'compact');
    expect(one('memlane', 'disk').bytes_settled).toBeGreaterThan(0);
    expect(one('memlane', 'startup').runs).toBe(1);
    const rss = one('memlane', 'memory').peak_rss_mb;
    expect(rss.ingest).toBeGreaterThan(0);
    expect(rss.serve).toBeGreaterThan(0);

    // server-memory over stdio: ingest and its one search mode.
    expect(one('server-memory', 'ingest')).toMatchObject({ transport: 'stdio', items: N, errors: 0 });
    for (const perCall of [1, 10]) checkSearch(one('server-memory', 'search', (l) => l.mode === 'substring' && l.queries_per_call === perCall));
    one('server-memory', 'startup');
    one('server-memory', 'memory');

    // raw LanceDB in-process: ingest and every mode.
    expect(one('lancedb-raw', 'ingest')).toMatchObject({ items: N, errors: 0 });
    for (const mode of MODES) {
      for (const perCall of [1, 10]) checkSearch(one('lancedb-raw', 'search', (l) => l.mode === mode && l.queries_per_call === perCall));
    }

    // Ratios against both, for ingest and for every mode's search.
    const ratios = lines.filter((l) => l.case === 'ratio' && l.n === N);
    for (const vs of ['server-memory', 'lancedb-raw']) {
      expect(ratios.some((r) => r.vs === vs && r.metric === 'ingest_per_s')).toBe(true);
      for (const mode of MODES) expect(ratios.some((r) => r.vs === vs && r.metric === 'search_p50_ms' && r.mode === mode)).toBe(true);
    }
    for (const r of ratios) expect(r.ratio).toBeGreaterThan(0);
  });
});
