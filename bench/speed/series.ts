import { HitTally, type Hit10, type Workload } from './cases.js';
import type { BenchQuery, QueryKind } from './corpus.js';
import { type Latency, latency, round } from './stats.js';

/** Ranked ids per query of one call, in query order; `undefined` for a query that failed. */
export type RunQueries = (queries: BenchQuery[]) => Promise<Array<readonly string[] | undefined>>;

export interface SearchSeries {
  call_ms: Latency;
  qps: number;
  hit10: Hit10;
  queries: Record<QueryKind, number>;
  errors: number;
}

/**
 * Times one call per group of queries (after `warmup` unmeasured calls) and
 * counts, per query kind, whether the query's target id is in its top 10.
 */
export async function searchSeries(
  w: Workload,
  groups: BenchQuery[][],
  idOf: (target: number) => string | undefined,
  run: RunQueries,
): Promise<SearchSeries> {
  for (let i = 0; i < Math.min(w.warmup, groups.length); i++) await run(groups[i]!);
  const tally = new HitTally();
  const ms: number[] = [];
  let errors = 0;
  let queries = 0;
  for (const group of groups) {
    const t0 = performance.now();
    const ranked = await run(group);
    ms.push(performance.now() - t0);
    queries += group.length;
    group.forEach((q, i) => {
      const ids = ranked[i];
      if (ids === undefined) errors++;
      const want = idOf(q.target);
      tally.add(q, ids !== undefined && want !== undefined && ids.slice(0, 10).includes(want));
    });
  }
  const call_ms = latency(ms);
  const totalSec = ms.reduce((a, b) => a + b, 0) / 1000;
  return { call_ms, qps: round(totalSec === 0 ? 0 : queries / totalSec, 1), hit10: tally.hit10(), queries: tally.queries(), errors };
}

export interface WriteSeries {
  items: number;
  seconds: number;
  per_s: number;
  call_ms: Latency;
  /** The first call alone: on a fresh server it also waits for the database to open. */
  first_ms: number;
  errors: number;
}

/** Writes `items` in calls of `batch`; `run` returns how many items of the call failed. */
export async function writeSeries<T>(items: readonly T[], batch: number, run: (chunk: T[]) => Promise<number>): Promise<WriteSeries> {
  const ms: number[] = [];
  let errors = 0;
  for (let i = 0; i < items.length; i += batch) {
    const chunk = items.slice(i, i + batch);
    const t = performance.now();
    errors += await run(chunk);
    ms.push(performance.now() - t);
  }
  return summary(items.length, ms, errors);
}

/** The indices 0..n-1, `count` of them, spread evenly (offset by `phase` of a step). */
export function spread(n: number, count: number, phase = 0): number[] {
  const c = Math.min(n, count);
  return Array.from({ length: c }, (_, k) => Math.min(n - 1, Math.floor(((k + phase) * n) / c)));
}

/**
 * Ingest of memory indices [0, n) in calls of `batch`, made a batch at a time (a
 * million memories are never held at once). Throughput counts the calls' time
 * only, not the making of the items.
 */
export async function ingestSeries<T>(
  n: number,
  batch: number,
  make: (from: number, to: number) => T[],
  run: (items: T[], from: number) => Promise<number>,
  progress?: (done: number) => void,
): Promise<WriteSeries> {
  const ms: number[] = [];
  let errors = 0;
  let lastLog = performance.now();
  for (let i = 0; i < n; i += batch) {
    const items = make(i, Math.min(n, i + batch));
    const t = performance.now();
    errors += await run(items, i);
    const now = performance.now();
    ms.push(now - t);
    if (progress && (now - lastLog > 5_000 || i + batch >= n)) {
      lastLog = now;
      progress(Math.min(n, i + batch));
    }
  }
  return summary(n, ms, errors);
}

function summary(items: number, ms: number[], errors: number): WriteSeries {
  const seconds = ms.reduce((a, b) => a + b, 0) / 1000;
  return { items, seconds: round(seconds, 3), per_s: round(seconds === 0 ? 0 : items / seconds, 0), call_ms: latency(ms), first_ms: round(ms[0] ?? 0, 1), errors };
}
