import type { Table } from '@lancedb/lancedb';
import type { Embedder } from '../embed/embedder.js';
import { openOrCreateMemories, type Database, type EmbedderInfo } from './db.js';
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
const COPIED = ['pk', 'search_text', ...recordColumns];

/**
 * Re-embeds every memory with `embedder` into a new generation of memories
 * tables, then switches the database to it in one meta commit and drops the
 * old tables.
 *
 * Resumable: the target embedder and generation are recorded in meta before
 * the first row is written, and a re-run with the same embedder skips rows
 * already copied. An interrupted run leaves the database exactly as it was,
 * still served by the old embedder. It holds the write lock for the whole run,
 * so servers on the same database wait (stop them first on large databases).
 */
export async function reembedAll(db: Database, embedder: Embedder, onProgress?: (p: ReembedProgress) => void): Promise<ReembedResult> {
  const to: EmbedderInfo = { provider: embedder.provider, model: embedder.model, dim: embedder.dim };
  const from = db.embedder;
  return db.lock.run(async () => {
    const pending = await db.getMeta('reembed_target');
    const target = pending ? (JSON.parse(pending) as EmbedderInfo & { generation: number }) : undefined;
    const resuming = target !== undefined && target.provider === to.provider && target.model === to.model && target.dim === to.dim;
    const generation = resuming ? target.generation : db.generation + 1;
    if (!resuming) {
      // A different target than an interrupted run's: its partial tables are useless.
      if (target) await dropGeneration(db, target.generation);
      await db.setMeta({ reembed_target: JSON.stringify({ ...to, generation }) });
    }

    const sources = await db.memoryTables();
    let total = 0;
    for (const t of sources) total += await t.countRows();
    let done = 0;
    let resumed = 0;
    const names = new Set(await db.conn.tableNames());
    for (const source of sources) {
      const agentId = await agentOfTable(source);
      if (agentId === undefined) continue; // an empty table: nothing to carry over
      const next = await openOrCreateMemories(db.conn, names, memoriesTableName(agentId, generation), to.dim);
      const already = await next.countRows();
      resumed += already;
      done += already;
      onProgress?.({ done, total });
      await copyTable(source, next, embedder, (n) => {
        done += n;
        onProgress?.({ done, total });
      });
      const copied = await next.countRows();
      const expected = await source.countRows();
      if (copied !== expected) throw new Error(`re-embedding copied ${copied} of ${expected} memories of agent ${agentId}; run memlane reembed again`);
    }

    await db.switchGeneration(generation, to);
    await db.setMeta({ reembed_target: null });
    await dropGeneration(db, db.generation);
    return { from, to, memories: total, resumed };
  });
}

async function copyTable(source: Table, next: Table, embedder: Embedder, onCopied: (n: number) => void): Promise<void> {
  for (let offset = 0; ; offset += PAGE) {
    const rows = await source.query().select(COPIED).limit(PAGE).offset(offset).toArray();
    if (rows.length === 0) return;
    const pks = rows.map((r) => String(r.pk));
    const copied = new Set((await next.query().where(`${col('pk')} IN (${sqlStrList(pks)})`).select(['pk']).toArray()).map((r) => String(r.pk)));
    const todo = rows.filter((r) => !copied.has(String(r.pk)));
    if (todo.length === 0) continue;
    // The vector embeds what the full-text index sees (see tools/remember.ts).
    const vectors = await embedder.embed(todo.map((r) => String(r.search_text)));
    const out = todo.map((r, i) => ({ ...plain(r), vector: Array.from(vectors[i]!) }));
    await next.mergeInsert('pk').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(out);
    onCopied(todo.length);
  }
}

async function agentOfTable(table: Table): Promise<string | undefined> {
  const rows = await table.query().select(['agent_id']).limit(1).toArray();
  return rows[0] === undefined ? undefined : String(rows[0].agent_id);
}

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
