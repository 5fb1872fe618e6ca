import type { Embedder } from '../embed/embedder.js';
import { openOrCreateMemories, type Database, type EmbedderInfo } from './db.js';
import { MEMORIES, recordColumns } from './schema.js';
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
 * Re-embeds every memory with `embedder` into a new memories table, then
 * switches the database to it in one meta commit and drops the old table.
 *
 * Resumable: the target table and embedder are recorded in meta before the
 * first row is written, and a re-run with the same embedder skips rows already
 * copied. An interrupted run leaves the database exactly as it was, still
 * served by the old embedder. It holds the write lock for the whole run, so
 * servers on the same database wait (stop them first on large databases).
 */
export async function reembedAll(db: Database, embedder: Embedder, onProgress?: (p: ReembedProgress) => void): Promise<ReembedResult> {
  const to: EmbedderInfo = { provider: embedder.provider, model: embedder.model, dim: embedder.dim };
  const from = db.embedder;
  return db.lock.run(async () => {
    const pending = await db.getMeta('reembed_target');
    const target = pending ? (JSON.parse(pending) as EmbedderInfo & { table: string }) : undefined;
    let table: string;
    const names = new Set(await db.conn.tableNames());
    if (target && target.provider === to.provider && target.model === to.model && target.dim === to.dim && names.has(target.table)) {
      table = target.table;
    } else {
      if (target && names.has(target.table)) await db.conn.dropTable(target.table);
      table = `${MEMORIES}_${Date.now()}`;
      await db.setMeta({ reembed_target: JSON.stringify({ ...to, table }) });
    }
    const next = await openOrCreateMemories(db.conn, new Set(await db.conn.tableNames()), table, to.dim);

    const source = db.memories;
    const total = await source.countRows();
    const resumed = await next.countRows();
    let done = resumed;
    onProgress?.({ done, total });
    for (let offset = 0; ; offset += PAGE) {
      const rows = await source.query().select(COPIED).limit(PAGE).offset(offset).toArray();
      if (rows.length === 0) break;
      const copied = new Set(
        (await next.query().where(`${col('pk')} IN (${sqlStrList(rows.map((r) => String(r.pk)))})`).select(['pk']).toArray()).map((r) => String(r.pk)),
      );
      const todo = rows.filter((r) => !copied.has(String(r.pk)));
      if (todo.length === 0) continue;
      const vectors = await embedder.embed(todo.map((r) => String(r.content)));
      const out = todo.map((r, i) => ({ ...plain(r), vector: Array.from(vectors[i]!) }));
      await next.mergeInsert('pk').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(out);
      done += todo.length;
      onProgress?.({ done, total });
    }

    const copiedRows = await next.countRows();
    if (copiedRows !== total) throw new Error(`re-embedding copied ${copiedRows} of ${total} memories; run memlane reembed again`);
    const old = source.name;
    await db.switchMemories(table, to);
    await db.setMeta({ reembed_target: null });
    await db.conn.dropTable(old);
    return { from, to, memories: total, resumed };
  });
}

/** Arrow row values → plain JS values that LanceDB accepts on write. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'vector') continue;
    out[k] = k === 'tags' ? Array.from((v ?? []) as Iterable<string>) : v;
  }
  return out;
}

