import type { Table } from '@lancedb/lancedb';
import type { Embedder } from '../embed/embedder.js';
import { openOrCreateMemories, type Database, type EmbedderInfo } from './db.js';
import { readRows, withRetry } from './memories.js';
import { memoriesTableName, memoriesTablePrefix, recordColumns } from './schema.js';
import { col, sqlStrList } from './sql.js';

export interface ReembedProgress {
  done: number;
  total: number;
}

export interface ReembedResult {
  from: EmbedderInfo;
  to: EmbedderInfo;
  memories: number;
  resumed: number;
}

const PAGE = 256;
/** Every column but the vector, which is what gets replaced. */
const COPIED = ['pk', 'seq', 'search_text', ...recordColumns];
/** What tells a copied row from its source row: any write changes one of these. */
const FINGERPRINT = ['pk', 'version', 'updated_at', 'content_hash', 'search_text'];

/**
 * Re-embeds every memory with `embedder` into a new generation of memories
 * tables, then switches the database to it in one meta commit and drops the
 * old tables.
 *
 * Servers keep running meanwhile: the bulk of the copy happens a page at a
 * time, each page written under the write lock (so their writes interleave
 * and wait at most a page), and they keep writing to the old generation. The
 * final pass, under the lock, copies what changed since (and removes what was
 * deleted), then switches; a running server sees the new generation at its
 * next call (Database.refresh).
 *
 * Resumable: the target embedder and generation are recorded in meta before
 * the first row is written. A re-run with the same embedder compares every
 * copied row with its source (version, updated_at, content) and copies again
 * what changed since, so a memory updated between two runs never comes back
 * at its old version. An interrupted run leaves the database as it was, still
 * served by the old embedder.
 */
export async function reembedAll(db: Database, embedder: Embedder, onProgress?: (p: ReembedProgress) => void): Promise<ReembedResult> {
  const to: EmbedderInfo = { provider: embedder.provider, model: embedder.model, dim: embedder.dim };
  const from = db.embedder;
  const { generation, resuming } = await db.lock.run(async () => {
    const pending = await db.getMeta('reembed_target');
    const target = pending ? (JSON.parse(pending) as EmbedderInfo & { generation: number }) : undefined;
    const resuming = target !== undefined && target.provider === to.provider && target.model === to.model && target.dim === to.dim;
    const generation = resuming ? target.generation : db.generation + 1;
    if (!resuming) {
      // A different target than an interrupted run's: its partial tables are useless.
      if (target) await dropGeneration(db, target.generation);
      await db.setMeta({ reembed_target: JSON.stringify({ ...to, generation }) });
    }
    return { generation, resuming };
  });

  let total = 0;
  for (const t of await db.memoryTables()) total += await t.countRows();
  let done = 0;
  const bulk = await syncGeneration(db, generation, embedder, (n) => {
    done = Math.min(total, done + n);
    onProgress?.({ done, total });
  });

  return db.lock.run(async () => {
    // Under the lock nobody writes: what changed during the bulk pass is copied now, then the switch.
    const final = await syncGeneration(db, generation, embedder, () => undefined, { locked: true });
    const old = db.generation;
    await db.switchGeneration(generation, to);
    await db.setMeta({ reembed_target: null });
    await dropGeneration(db, old);
    await db.refresh();
    onProgress?.({ done: final.total, total: final.total });
    return { from, to, memories: final.total, resumed: resuming ? bulk.inSync : 0 };
  });
}

interface SyncReport {
  /** Source rows. */
  total: number;
  /** Rows that were already copied and unchanged. */
  inSync: number;
}

/** Makes every target table of `generation` hold what its source table holds, vectors from `embedder`. */
async function syncGeneration(
  db: Database,
  generation: number,
  embedder: Embedder,
  onCopied: (n: number) => void,
  opts: { locked?: boolean } = {},
): Promise<SyncReport> {
  const report: SyncReport = { total: 0, inSync: 0 };
  const sources = await db.memoryTables();
  for (const source of sources) {
    const agentId = await agentOfTable(source);
    if (agentId === undefined) continue; // an empty table: nothing to carry over
    const name = memoriesTableName(agentId, generation);
    const underLock = <T>(fn: () => Promise<T>) => (opts.locked ? fn() : db.lock.run(fn));
    const target = await underLock(async () => openOrCreateMemories(db.conn, new Set(await db.conn.tableNames()), name, embedder.dim));
    const r = await syncTable(db, source, target, embedder, underLock, onCopied);
    report.total += r.total;
    report.inSync += r.inSync;
  }
  return report;
}

async function syncTable(
  db: Database,
  source: Table,
  target: Table,
  embedder: Embedder,
  underLock: <T>(fn: () => Promise<T>) => Promise<T>,
  onCopied: (n: number) => void,
): Promise<SyncReport> {
  const have = await fingerprints(source);
  const copied = await fingerprints(target);
  const stale = [...have].filter(([pk, f]) => copied.get(pk) !== f).map(([pk]) => pk);
  const gone = [...copied.keys()].filter((pk) => !have.has(pk));
  if (gone.length > 0) {
    await underLock(async () => {
      db.lock.assertHeld();
      for (let i = 0; i < gone.length; i += PAGE) {
        const where = `${col('pk')} IN (${sqlStrList(gone.slice(i, i + PAGE))})`;
        await withRetry('reembed delete', () => target.delete(where));
      }
    });
  }
  onCopied(have.size - stale.length);
  for (let i = 0; i < stale.length; i += PAGE) {
    const pks = stale.slice(i, i + PAGE);
    const rows = await readRows(source.query().where(`${col('pk')} IN (${sqlStrList(pks)})`).select(COPIED));
    if (rows.length === 0) continue; // deleted meanwhile: the final pass removes any copy
    // The vector embeds what the full-text index sees (see tools/remember.ts). Embedded outside the lock.
    const vectors = await embedder.embed(rows.map((r) => String(r.search_text)));
    const out = rows.map((r, j) => ({ ...plain(r), vector: Array.from(vectors[j]!) }));
    await underLock(async () => {
      db.lock.assertHeld();
      await withRetry('reembed write', () => target.mergeInsert('pk').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(out));
    });
    onCopied(rows.length);
  }
  return { total: have.size, inSync: have.size - stale.length };
}

/** pk → a string that changes whenever the row is written. */
async function fingerprints(table: Table): Promise<Map<string, string>> {
  const rows = await readRows(table.query().select(FINGERPRINT));
  return new Map(rows.map((r) => [String(r.pk), JSON.stringify([Number(r.version), Number(r.updated_at), String(r.content_hash), String(r.search_text)])]));
}

async function agentOfTable(table: Table): Promise<string | undefined> {
  const rows = await table.query().select(['agent_id']).limit(1).toArray();
  return rows[0] === undefined ? undefined : String(rows[0].agent_id);
}

/** Drops the memories tables of `generation`. Call under the write lock. */
async function dropGeneration(db: Database, generation: number): Promise<void> {
  const prefix = memoriesTablePrefix(generation);
  for (const name of await db.conn.tableNames()) if (name.startsWith(prefix)) await db.conn.dropTable(name);
}

/** Arrow row values → plain JS values that LanceDB accepts on write. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = k === 'tags' ? Array.from((v ?? []) as Iterable<string>) : v;
  return out;
}
