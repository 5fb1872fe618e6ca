/**
 * Smoke test of the embedders bench (bench/embedders.ts, issue 12 point 4): the
 * built bench compares local and transformers (the real all-MiniLM-L6-v2 of
 * `npm run model:test`) end to end at N = 100 over stdio, and prints
 * well-formed JSON lines with every case, the ratios and the targets. Timing
 * is never asserted here: the numbers belong in bench/RESULTS.md.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchScript, runBench } from './_run.js';
import { testModelDir } from '../helpers/test-model.js';

const BENCH = benchScript('embedders');
const N = 100;

type Line = Record<string, any>;

describe('embedders bench smoke', () => {
  it('compares local and transformers at N = 100 through MCP and alone, with ratios and the issue 12 targets', { timeout: 120_000 }, async () => {
    expect(existsSync(BENCH), `${BENCH} is missing: npm test builds it first`).toBe(true);
    const res = await runBench(BENCH, ['--n', String(N), '--queries', '4', '--passages', '20', '--loads', '1'], { MEMLANE_MODEL_DIR: await testModelDir() });
    expect(res.code, res.stderr.slice(-4000)).toBe(0);

    const lines: Line[] = res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
    const run = lines[0]!.run;
    for (const l of lines) expect(l).toMatchObject({ bench: 'memlane-embedders', run });
    expect(lines[0]!.case).toBe('machine');
    expect(lines[0]!.packages['@huggingface/transformers']).toMatch(/^\d+\.\d+/);
    expect(res.stdout).toContain('issue 12 targets');

    for (const embedder of ['local', 'transformers']) {
      const probe = lines.find((l) => l.case === 'probe' && l.embedder === embedder)!;
      expect(probe.provider).toBe(embedder);
      expect(probe.query_ms.calls).toBe(4);
      expect(probe.passages.per_s).toBeGreaterThan(0);
      expect(probe.rss_after_mb).toBeGreaterThan(0);
      const server = lines.find((l) => l.case === 'server' && l.embedder === embedder)!;
      expect(server.ingest).toMatchObject({ items: N, batch: 100, errors: 0 });
      expect(server.search.map((s: Line) => s.mode)).toEqual(['hybrid', 'vector']);
      for (const s of server.search) {
        expect(s.errors).toBe(0);
        expect(s.call_ms.calls).toBe(4);
      }
      expect(server.rss_mb.serving).toBeGreaterThan(0);
    }
    expect(lines.find((l) => l.case === 'probe' && l.embedder === 'local')!.load_ms).toBeNull();
    expect(lines.find((l) => l.case === 'probe' && l.embedder === 'transformers')!.load_ms).toBeGreaterThan(0);
    const ratios = lines.filter((l) => l.case === 'ratio');
    for (const metric of ['ingest_per_s', 'search_hybrid_p50_ms', 'query_embed_p50_ms', 'serving_rss_mb']) {
      expect(ratios.find((r) => r.metric === metric)?.ratio, metric).toBeGreaterThan(0);
    }
    const targets = lines.filter((l) => l.case === 'target');
    expect(targets.map((t) => t.target)).toEqual(['ingest_per_s', 'query_embed_p50_ms', 'load_ms', 'rss_added_mb']);
    for (const t of targets) expect(typeof t.met).toBe('boolean');
  });
});
