/**
 * One embedder alone, in a process of its own (bench/embedders.ts spawns it
 * with the embedder's environment): how long the model takes to load from its
 * folder, how long one search query takes to embed, how many stored texts it
 * embeds per second in batches, and what the process's resident set was before
 * the model and after it. A fresh process per probe, so a load is a cold start
 * of the model (files in the page cache, modules not yet imported), as when a
 * server starts. Prints one JSON line (a ProbeResult) on stdout.
 *
 * Usage: node dist/bench/embedders/probe.js --seed 42 --n 2000 --queries 200 --passages 500 [--load-only]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { createEmbedder } from '../../src/embed/index.js';
import { querySets, memoryAt } from '../speed/corpus.js';
import { MiB, currentRss, latency, peakRss, round, type Latency } from '../speed/stats.js';

export interface ProbeResult {
  provider: string;
  model: string;
  dim: number;
  /** `prepare()`: thread, ONNX Runtime session, one probe inference. null: nothing to load. */
  load_ms: number | null;
  /** Resident set (VmRSS) with the modules imported and the embedder made, before any model is loaded. */
  rss_before_mb: number;
  /** After the load and every embedding below. */
  rss_after_mb: number;
  peak_rss_mb: number;
  /** One query per call, `kind: 'query'` (as batch_search asks). Absent with --load-only. */
  query_ms?: Latency;
  /** Stored texts per second, `batch` per call. */
  passages?: { texts: number; batch: number; per_s: number; call_ms: Latency };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '42' },
      n: { type: 'string', default: '2000' },
      queries: { type: 'string', default: '200' },
      passages: { type: 'string', default: '500' },
      batch: { type: 'string', default: '100' },
      'load-only': { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  const mb = (b: number | undefined) => round((b ?? 0) / MiB, 1);
  const embedder = await createEmbedder(loadConfig().embedder);
  const rssBefore = currentRss('self');
  let loadMs: number | null = null;
  if (embedder.prepare) {
    const t0 = performance.now();
    await embedder.prepare();
    loadMs = round(performance.now() - t0, 1);
  }
  const result: ProbeResult = { provider: embedder.provider, model: embedder.model, dim: embedder.dim, load_ms: loadMs, rss_before_mb: mb(rssBefore), rss_after_mb: 0, peak_rss_mb: 0 };
  if (!values['load-only']) {
    const [queries] = querySets(seed, Number(values.n), [Number(values.queries)]);
    // Unmeasured: the first inferences of a session are slower (allocations, kernel choice).
    for (const q of queries!.slice(0, 5)) await embedder.embed([q.query], { kind: 'query' });
    const qms: number[] = [];
    for (const q of queries!) {
      const t = performance.now();
      await embedder.embed([q.query], { kind: 'query' });
      qms.push(performance.now() - t);
    }
    result.query_ms = latency(qms);
    const texts = Number(values.passages);
    const batch = Number(values.batch);
    const pms: number[] = [];
    for (let i = 0; i < texts; i += batch) {
      const chunk = Array.from({ length: Math.min(batch, texts - i) }, (_, j) => memoryAt(seed, i + j).content);
      const t = performance.now();
      await embedder.embed(chunk);
      pms.push(performance.now() - t);
    }
    const seconds = pms.reduce((a, b) => a + b, 0) / 1000;
    result.passages = { texts, batch, per_s: round(texts / seconds, 0), call_ms: latency(pms) };
  }
  result.rss_after_mb = mb(currentRss('self'));
  result.peak_rss_mb = mb(peakRss('self'));
  await embedder.close?.();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
