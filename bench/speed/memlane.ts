/**
 * memlane through the real MCP client, over stdio (the built `dist/src/cli.js`
 * as a child process, as an IDE runs it) or in-process (InMemoryTransport).
 * Only the contract's tools and CLI are used, plus `openApp`/`createServer` for
 * the in-process mode, so the bench keeps working while the store is rewritten.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emit, Log, Mode, Transport, Workload } from './cases.js';
import { type BenchQuery, memoryAt } from './corpus.js';
import { type Connection, callTool, childEnv, connectClient, connectStdio, once, runNode } from './mcp.js';
import { ingestSeries, type RunQueries, searchSeries, spread, writeSeries } from './series.js';
import { MiB, bytesOnDisk, currentRss, latency, peakRss, resetPeakRss, round } from './stats.js';

export interface MemlaneOptions {
  transport: Transport;
  /** The built CLI, dist/src/cli.js. */
  cli: string;
  /** MEMLANE_MAX_BATCH for the server. */
  maxBatch: number;
  keep: boolean;
}

interface ItemResult {
  id?: string;
  status: string;
}

const AGENT = 'default';

export async function benchMemlane(w: Workload, opts: MemlaneOptions, emit: Emit, log: Log): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `memlane-bench-${w.n}-`));
  const env = { MEMLANE_DB: dir, MEMLANE_MAX_BATCH: String(opts.maxBatch), MEMLANE_AGENT: AGENT, MEMLANE_LOG_LEVEL: 'warn' };
  const base = { system: 'memlane', transport: opts.transport, n: w.n } as const;
  const tag = `[memlane ${opts.transport} n=${w.n}]`;
  const open = opts.transport === 'stdio' ? () => connectStdio(opts.cli, env) : await inProcess(env);
  const mb = (b: number | undefined) => (b === undefined ? null : round(b / MiB, 1));
  const ids: string[] = new Array<string>(w.n);
  const idOf = (i: number) => ids[i];
  // Every connection made, closed in `finally` too, so a failure leaves no child running.
  const opened: Connection[] = [];
  const connect = async () => {
    const c = await open();
    opened.push(c);
    return c;
  };
  try {
    // ---- ingest, then a search right after it (rows not yet compacted or indexed)
    resetPeakRss();
    let conn = await connect();
    const ingest = await ingestSeries(
      w.n,
      w.batch,
      (from, to) => Array.from({ length: to - from }, (_, j) => toItem(from + j, w.seed)),
      async (memories, from) => {
        const res = (await callTool(conn, 'batch_remember', { memories, options: { dedupe: false } })) as { results: ItemResult[] };
        let failed = 0;
        res.results.forEach((r, j) => {
          if (r.status === 'ok' && r.id) ids[from + j] = r.id;
          else failed++;
        });
        return failed;
      },
      (done) => log(`${tag} ingest ${done}/${w.n}`),
    );
    emit({ ...base, case: 'ingest', batch: w.batch, ...ingest });
    if (w.fresh > 0) {
      const fresh = await searchSeries(w, w.single.slice(0, w.fresh).map((q) => [q]), idOf, searcher(conn, 'hybrid'));
      emit({ ...base, case: 'search', state: 'fresh', mode: 'hybrid', queries_per_call: 1, ...fresh });
    }
    const ingestRss = conn.peakRss();
    await conn.close();
    const bytesAfterIngest = bytesOnDisk(dir);

    // ---- `memlane compact`: what the background maintainer converges to
    log(`${tag} compact`);
    const t0 = performance.now();
    await runNode(opts.cli, ['compact'], env);
    emit({ ...base, case: 'compact', seconds: round((performance.now() - t0) / 1000, 3) });
    emit({ ...base, case: 'disk', bytes_after_ingest: bytesAfterIngest, bytes_settled: bytesOnDisk(dir) });

    // ---- startup on the existing database; the last start stays up for the rest
    resetPeakRss();
    const starts: number[] = [];
    for (let k = 0; k < w.startups; k++) {
      conn = await connect();
      starts.push(conn.startupMs);
      if (k < w.startups - 1) await conn.close();
    }
    const s = [...starts].sort((a, b) => a - b);
    emit({ ...base, case: 'startup', runs: s.length, ms: { median: round(s[Math.floor((s.length - 1) / 2)]!), min: round(s[0]!), max: round(s[s.length - 1]!) } });

    // ---- searches on the settled table
    for (const mode of w.modes) {
      for (const [perCall, groups] of [
        [1, w.single.map((q) => [q])],
        [w.batched[0]?.length ?? 0, w.batched],
      ] as const) {
        if (groups.length === 0) continue;
        log(`${tag} search ${mode} ×${perCall}`);
        const r = await searchSeries(w, groups, idOf, searcher(conn, mode));
        emit({ ...base, case: 'search', state: 'settled', mode, queries_per_call: perCall, ...r });
      }
    }

    // ---- get, update, delete
    const live = ids.filter((id) => id !== undefined);
    if (w.gets > 0 && live.length > 0) {
      const per = Math.min(w.batch, live.length);
      const ms: number[] = [];
      for (let g = 0; g < w.gets; g++) {
        const pick = spread(live.length, per, g / w.gets).map((i) => live[i]!);
        const t = performance.now();
        await callTool(conn, 'batch_get', { ids: [...new Set(pick)] });
        ms.push(performance.now() - t);
      }
      emit({ ...base, case: 'get', ids_per_call: per, call_ms: latency(ms) });
    }
    if (w.updates > 0) {
      log(`${tag} update`);
      const updates = spread(w.n, w.updates)
        .filter((i) => ids[i] !== undefined)
        .map((i) => ({ id: ids[i]!, content: `${memoryAt(w.seed, i).content} (Confirmed again in the weekly sync.)`, importance: 0.9 }));
      const r = await writeSeries(updates, w.batch, async (chunk) => failures(await callTool(conn, 'batch_update', { updates: chunk })));
      emit({ ...base, case: 'update', batch: w.batch, ...r });
    }
    if (w.deletes > 0) {
      log(`${tag} delete`);
      const doomed = spread(w.n, Math.min(w.deletes, Math.floor(w.n / 2)), 0.5)
        .map((i) => ids[i])
        .filter((id): id is string => id !== undefined);
      const r = await writeSeries([...new Set(doomed)], w.batch, async (chunk) => failures(await callTool(conn, 'batch_delete', { ids: chunk })));
      emit({ ...base, case: 'delete', batch: w.batch, ...r });
    }
    emit({ ...base, case: 'memory', peak_rss_mb: { ingest: mb(ingestRss), serve: mb(conn.peakRss()) } });
    await conn.close();
  } finally {
    for (const c of opened) await c.close().catch(() => undefined);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`${tag} kept ${dir}`);
  }
}

/** Memory `i` of the seeded corpus as a `batch_remember` item. */
export function toItem(i: number, seed: number) {
  const m = memoryAt(seed, i);
  return { content: m.content, type: m.type, tags: m.tags, importance: m.importance, metadata: m.metadata };
}

const failures = (res: { results: ItemResult[] }) => res.results.filter((r) => r.status !== 'ok').length;

/** Single or batched `batch_search` calls in one mode, `limit` 10: the ranked ids per query. */
export function searcher(conn: Connection, mode: Mode): RunQueries {
  return async (queries: BenchQuery[]) => {
    const res = (await callTool(conn, 'batch_search', { queries: queries.map((q) => ({ query: q.query, mode, limit: 10 })) })) as {
      results: Array<{ status: string; results?: Array<{ id: string }> }>;
    };
    return queries.map((_, i) => {
      const r = res.results[i];
      return r?.status === 'ok' ? (r.results ?? []).map((h) => h.id) : undefined;
    });
  };
}

/**
 * In-process: the same server over InMemoryTransport, opened the way the stdio
 * entry point opens it (an open local session for the default agent). Startup is
 * openApp → first `tools/list` answer; modules are loaded beforehand.
 */
async function inProcess(env: Record<string, string>): Promise<() => Promise<Connection>> {
  const [{ openApp }, { loadConfig }, { createServer }] = await Promise.all([
    import('../../src/app.js'),
    import('../../src/config.js'),
    import('../../src/server.js'),
  ]);
  return async () => {
    const t0 = performance.now();
    const app = await openApp(loadConfig(childEnv(env)));
    const { token } = await app.sessions.create(AGENT);
    const server = createServer(app, { defaultToken: token });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = await connectClient(clientSide);
    const startupMs = performance.now() - t0;
    return {
      client,
      startupMs,
      peakRss: () => peakRss('self'),
      rss: () => currentRss('self'),
      stderr: () => '(in-process: see this process’s stderr)',
      close: once(async () => {
        await client.close();
        await server.close();
        await app.close();
      }),
    };
  };
}
