/**
 * The official `@modelcontextprotocol/server-memory` (a knowledge graph in one
 * JSON Lines file) over stdio, on the same corpus and queries: one entity per
 * memory (its name the memory's index, its content the one observation) made
 * with `create_entities`, searched with `search_nodes`. It has no batch search,
 * so a "10-query call" is 10 calls one after another. It returns every entity
 * whose name, type or observations contain the query (in file order); the
 * first 10 count for hit@10.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Emit, Log, Workload } from './cases.js';
import { type BenchQuery, memoryAt } from './corpus.js';
import { type Connection, callTool, connectStdio } from './mcp.js';
import { ingestSeries, type RunQueries, searchSeries } from './series.js';
import { MiB, bytesOnDisk, round } from './stats.js';

export const PEER_PACKAGE = '@modelcontextprotocol/server-memory';

/** The peer's entry point (its `bin`), from its package.json. */
export function peerScript(): { script: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve(`${PEER_PACKAGE}/package.json`);
  const pkg = require(pkgPath) as { version: string; bin: Record<string, string> };
  return { script: join(dirname(pkgPath), Object.values(pkg.bin)[0]!), version: pkg.version };
}

const entityName = (i: number) => `m${i}`;

export async function benchPeer(w: Workload, opts: { keep: boolean }, emit: Emit, log: Log): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `server-memory-bench-${w.n}-`));
  const file = join(dir, 'memory.jsonl');
  const { script } = peerScript();
  const base = { system: 'server-memory', transport: 'stdio', n: w.n } as const;
  const tag = `[server-memory stdio n=${w.n}]`;
  const open = () => connectStdio(script, { MEMORY_FILE_PATH: file });
  const mb = (b: number | undefined) => (b === undefined ? null : round(b / MiB, 1));
  // Every connection made, closed in `finally` too, so a failure leaves no child running.
  const opened: Connection[] = [];
  const connect = async () => {
    const c = await open();
    opened.push(c);
    return c;
  };
  try {
    let conn = await connect();
    const ingest = await ingestSeries(
      w.n,
      w.batch,
      (from, to) =>
        Array.from({ length: to - from }, (_, j) => {
          const m = memoryAt(w.seed, from + j);
          return { name: entityName(from + j), entityType: m.type, observations: [m.content] };
        }),
      async (entities) => {
        const res = (await callTool(conn, 'create_entities', { entities })) as { entities: unknown[] };
        return entities.length - res.entities.length;
      },
      (done) => log(`${tag} ingest ${done}/${w.n}`),
    );
    emit({ ...base, case: 'ingest', batch: w.batch, ...ingest });
    const ingestRss = conn.peakRss();
    await conn.close();
    const bytes = bytesOnDisk(file);
    emit({ ...base, case: 'disk', bytes_after_ingest: bytes, bytes_settled: bytes });

    const starts: number[] = [];
    for (let k = 0; k < w.startups; k++) {
      conn = await connect();
      starts.push(conn.startupMs);
      if (k < w.startups - 1) await conn.close();
    }
    const s = [...starts].sort((a, b) => a - b);
    emit({ ...base, case: 'startup', runs: s.length, ms: { median: round(s[Math.floor((s.length - 1) / 2)]!), min: round(s[0]!), max: round(s[s.length - 1]!) } });

    const idOf = (i: number) => entityName(i);
    for (const [perCall, groups] of [
      [1, w.single.map((q) => [q])],
      [w.batched[0]?.length ?? 0, w.batched],
    ] as const) {
      if (groups.length === 0) continue;
      log(`${tag} search ×${perCall}`);
      const r = await searchSeries(w, groups, idOf, searcher(conn));
      emit({ ...base, case: 'search', state: 'settled', mode: 'substring', queries_per_call: perCall, ...r });
    }
    emit({ ...base, case: 'memory', peak_rss_mb: { ingest: mb(ingestRss), serve: mb(conn.peakRss()) } });
    await conn.close();
  } finally {
    for (const c of opened) await c.close().catch(() => undefined);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`${tag} kept ${dir}`);
  }
}

function searcher(conn: Connection): RunQueries {
  return async (queries: BenchQuery[]) => {
    const out: Array<readonly string[]> = [];
    for (const q of queries) {
      const res = (await callTool(conn, 'search_nodes', { query: q.query })) as { entities: Array<{ name: string }> };
      out.push(res.entities.slice(0, 10).map((e) => e.name));
    }
    return out;
  };
}
