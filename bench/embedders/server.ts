/**
 * One embedder through the real MCP client over stdio (the built server as a
 * child process): start-up, the first call that needs a vector (which loads a
 * model), ingest with `batch_remember`, then, after `memlane compact` and a
 * restart, single-query `batch_search` calls per mode; the server's resident
 * set before anything was embedded and while serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mode, Workload } from '../speed/cases.js';
import { callTool, connectStdio, runNode, type Connection } from '../speed/mcp.js';
import { searcher, toItem } from '../speed/memlane.js';
import { ingestSeries, searchSeries, type SearchSeries, type WriteSeries } from '../speed/series.js';
import { MiB, round } from '../speed/stats.js';

export interface ServerResult {
  /** spawn → connected → first `tools/list` answer, on the empty database and again on the ingested one. */
  startup_ms: { empty: number; ingested: number };
  /** The first `batch_search` (vector mode) after a start: for transformers, loading the model in the server. */
  first_vector_call_ms: { empty: number; ingested: number };
  ingest: WriteSeries & { batch: number };
  search: Array<{ mode: Mode } & SearchSeries>;
  /** MiB. `idle`: after start-up, before any call (no model loaded); `serving`: after the searches; `peak`: VmHWM of the serving server. */
  rss_mb: { idle: number | null; serving: number | null; peak: number | null; ingest_peak: number | null };
}

type Log = (line: string) => void;

export async function benchServer(
  w: Workload,
  opts: { cli: string; env: Record<string, string>; maxBatch: number; keep: boolean; tag: string },
  log: Log,
): Promise<ServerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'memlane-bench-embedders-'));
  const env = { ...opts.env, MEMLANE_DB: dir, MEMLANE_MAX_BATCH: String(opts.maxBatch), MEMLANE_AGENT: 'default', MEMLANE_LOG_LEVEL: 'warn' };
  const mb = (b: number | undefined) => (b === undefined ? null : round(b / MiB, 1));
  const opened: Connection[] = [];
  const connect = async () => {
    const c = await connectStdio(opts.cli, env);
    opened.push(c);
    return c;
  };
  // A model loading on a busy machine may take longer than the default 30 s; the bench measures it, it must not cut it short.
  const firstVectorCall = async (conn: Connection) => {
    const t = performance.now();
    const res = (await callTool(conn, 'batch_search', { queries: [{ query: 'warm up', mode: 'vector', limit: 1 }], options: { timeout_ms: 60_000 } })) as {
      results: Array<{ status: string; error?: { message: string } }>;
    };
    const r = res.results[0];
    if (r?.status !== 'ok') throw new Error(`${opts.tag} the first vector search failed: ${r?.error?.message ?? JSON.stringify(r)}`);
    return round(performance.now() - t, 1);
  };
  try {
    let conn = await connect();
    const startEmpty = round(conn.startupMs, 1);
    const idle = mb(conn.rss());
    const firstEmpty = await firstVectorCall(conn);
    const ids: string[] = new Array<string>(w.n);
    const ingest = await ingestSeries(
      w.n,
      w.batch,
      (from, to) => Array.from({ length: to - from }, (_, j) => toItem(from + j, w.seed)),
      async (memories, from) => {
        const res = (await callTool(conn, 'batch_remember', { memories, options: { dedupe: false, timeout_ms: 60_000 } })) as {
          results: Array<{ id?: string; status: string }>;
        };
        let failed = 0;
        res.results.forEach((r, j) => {
          if (r.status === 'ok' && r.id) ids[from + j] = r.id;
          else failed++;
        });
        return failed;
      },
      (done) => log(`${opts.tag} ingest ${done}/${w.n}`),
    );
    const ingestPeak = mb(conn.peakRss());
    await conn.close();

    log(`${opts.tag} compact`);
    await runNode(opts.cli, ['compact'], env);

    conn = await connect();
    const startIngested = round(conn.startupMs, 1);
    const firstIngested = await firstVectorCall(conn);
    const search: ServerResult['search'] = [];
    for (const mode of w.modes) {
      log(`${opts.tag} search ${mode} ×1`);
      search.push({ mode, ...(await searchSeries(w, w.single.map((q) => [q]), (i) => ids[i], searcher(conn, mode))) });
    }
    const result: ServerResult = {
      startup_ms: { empty: startEmpty, ingested: startIngested },
      first_vector_call_ms: { empty: firstEmpty, ingested: firstIngested },
      ingest: { batch: w.batch, ...ingest },
      search,
      rss_mb: { idle, serving: mb(conn.rss()), peak: mb(conn.peakRss()), ingest_peak: ingestPeak },
    };
    await conn.close();
    return result;
  } finally {
    for (const c of opened) await c.close().catch(() => undefined);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`${opts.tag} kept ${dir}`);
  }
}
