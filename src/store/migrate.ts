import type { Table } from '@lancedb/lancedb';
import { log } from '../log.js';
import type { Database } from './db.js';
import { withRetry } from './memories.js';
import { SCHEMA_VERSION } from './schema.js';
import { col, sqlStr } from './sql.js';
import { CONTENT_HASH_RULE, contentHash } from './text.js';

const HASH_RULE_KEY = 'content_hash_rule';

/**
 * Brings a database written by an older memlane up to SCHEMA_VERSION, once,
 * under the write lock (a second process starting at the same moment finds it
 * done). Nothing is checked at an ordinary start: only a recorded schema
 * version below SCHEMA_VERSION runs this. The new version is recorded last,
 * so an interrupted migration runs again at the next start; every step is
 * idempotent.
 *
 * - 2: memories tables get `seq`, the write sequence other processes catch up
 *   by (rows written before it count as 0). An older memlane refuses a newer
 *   database at start, so no writer without `seq` is left.
 * - 3: `content_hash` recomputed where the normalisation rule changed (it once
 *   only lower-cased; it now case-folds), so dedupe treats old and new
 *   memories alike; rows whose hash does not change are not rewritten. The
 *   rule is recorded in meta.
 */
export async function migrate(db: Database): Promise<void> {
  await db.lock.run(async () => {
    const from = Number((await db.getMeta('schema_version')) ?? SCHEMA_VERSION);
    if (from >= SCHEMA_VERSION) return;
    const started = performance.now();
    const tables = await db.memoryTablesOfEveryGeneration();
    try {
      for (const table of tables) {
        const fields = (await table.schema()).fields.map((f) => f.name);
        if (!fields.includes('seq')) {
          db.lock.assertHeld();
          await table.addColumns([{ name: 'seq', valueSql: 'cast(0 as double)' }]);
        }
      }
      if ((await db.getMeta(HASH_RULE_KEY)) !== CONTENT_HASH_RULE) {
        let changed = 0;
        for (const table of tables) changed += await rehash(db, table);
        await db.setMeta({ [HASH_RULE_KEY]: CONTENT_HASH_RULE });
        if (changed > 0) log.info(`recomputed the content hash of ${changed} memories for case-folded dedupe`);
      }
    } finally {
      for (const table of tables) table.close();
    }
    await db.setMeta({ schema_version: String(SCHEMA_VERSION) });
    log.info(`database migrated from schema version ${from} to ${SCHEMA_VERSION} in ${Math.round(performance.now() - started)} ms`);
  }, { deadlineAt: Date.now() + 600_000 });
}

/** Rewrites `content_hash` where the current rule gives another value; returns how many rows changed. */
async function rehash(db: Database, table: Table): Promise<number> {
  const rows = await table.query().select(['pk', 'content', 'content_hash']).toArray();
  const stale = rows.flatMap((r) => {
    const hash = contentHash(String(r.content));
    return hash === String(r.content_hash) ? [] : [{ pk: String(r.pk), hash }];
  });
  // One update per changed row (LanceDB's update takes no per-row values); only rows whose
  // content has case variants beyond lower-casing (ß, ς, ſ …) change.
  for (const { pk, hash } of stale) {
    db.lock.assertHeld();
    await withRetry('rehashing content', () => table.update({ where: `${col('pk')} = ${sqlStr(pk)}`, values: { content_hash: hash } }));
  }
  return stale.length;
}
