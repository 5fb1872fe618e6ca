import type { BenchQuery, QueryKind } from './corpus.js';
import type { Latency } from './stats.js';

/** What one JSON line of the speed bench says. Every line has `bench`, `run` and `case`. */
export type System = 'memlane' | 'server-memory' | 'lancedb-raw';
export type Transport = 'stdio' | 'inproc';
export type Mode = 'vector' | 'text' | 'hybrid';
/** server-memory's `search_nodes` has one way to search: a case-insensitive substring test. */
export type SearchMode = Mode | 'substring';

interface Base {
  system: System;
  transport: Transport;
  n: number;
}

export type Hit10 = Record<QueryKind, number>;

export type Case =
  | (Base & { case: 'ingest'; items: number; batch: number; seconds: number; per_s: number; call_ms: Latency; first_ms?: number; errors: number })
  | (Base & { case: 'compact'; seconds: number })
  | (Base & {
      case: 'search';
      /** `settled`: after `memlane compact` (or LanceDB's optimize); `fresh`: right after the ingest. */
      state: 'settled' | 'fresh';
      mode: SearchMode;
      queries_per_call: number;
      call_ms: Latency;
      /** Queries per second at the mean call time. */
      qps: number;
      hit10: Hit10;
      queries: Record<QueryKind, number>;
      errors: number;
    })
  | (Base & { case: 'get'; ids_per_call: number; call_ms: Latency })
  | (Base & { case: 'update' | 'delete'; items: number; batch: number; seconds: number; per_s: number; call_ms: Latency; errors: number })
  | (Base & { case: 'startup'; runs: number; ms: { median: number; min: number; max: number } })
  | (Base & { case: 'memory'; peak_rss_mb: { ingest: number | null; serve: number | null } })
  | (Base & { case: 'disk'; bytes_after_ingest: number; bytes_settled: number })
  /** A system that failed at this size; the run goes on with the others and exits 1. */
  | (Base & { case: 'error'; message: string })
  | {
      case: 'ratio';
      n: number;
      /** memlane's value divided by the other system's, measured in the same run. */
      vs: 'server-memory' | 'lancedb-raw';
      metric: 'ingest_per_s' | 'search_p50_ms' | 'search_p99_ms';
      mode?: Mode;
      queries_per_call?: number;
      memlane: number;
      other: number;
      ratio: number;
    };

export type Emit = (c: Case) => void;
export type Log = (line: string) => void;

/** Everything one size's run needs, the same for every system. */
export interface Workload {
  seed: number;
  n: number;
  /** Items per write call (`batch_remember`, `batch_update`, `batch_delete`; server-memory's `create_entities`). */
  batch: number;
  /** Queries of the single-query calls, one call each. */
  single: BenchQuery[];
  /** Queries of the batched calls, one call per group. */
  batched: BenchQuery[][];
  /** Single-query hybrid calls right after the ingest, before compaction. */
  fresh: number;
  /** Unmeasured calls before each measured series. */
  warmup: number;
  updates: number;
  deletes: number;
  gets: number;
  startups: number;
  modes: Mode[];
}

/** Counts hits@10 per query kind. */
export class HitTally {
  private hits: Record<QueryKind, number> = { phrase: 0, keyword: 0 };
  private total: Record<QueryKind, number> = { phrase: 0, keyword: 0 };

  add(q: BenchQuery, hit: boolean): void {
    this.total[q.kind]++;
    if (hit) this.hits[q.kind]++;
  }

  hit10(): Hit10 {
    const share = (k: QueryKind) => (this.total[k] === 0 ? 0 : Math.round((this.hits[k] / this.total[k]) * 1000) / 1000);
    return { phrase: share('phrase'), keyword: share('keyword') };
  }

  queries(): Record<QueryKind, number> {
    return { ...this.total };
  }
}
