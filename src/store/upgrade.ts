import type { Table } from '@lancedb/lancedb';
import * as lancedb from '@lancedb/lancedb';
import { log } from '../log.js';
import type { Database } from './db.js';
import { withRetry } from './memories.js';
import { col, sqlStr } from './sql.js';
import { CONTENT_HASH_RULE, contentHash } from './text.js';

const HASH_RULE_KEY = 'content_hash_rule';

/**
 * Brings a database written by an older memlane up to date, once, at open:
 * - every memories table gets its BTREE index on `content_hash` (older ones
 *   were made without it), so dedupe is an index lookup;
 * - `content_hash` is recomputed where the normalisation rule changed (it
 *   once only lower-cased; it now case-folds), so dedupe treats old and new
 *   memories alike. The rule is recorded in `meta`; rows whose hash does not
 *   change are not rewritten.
 * Done under the write lock, so two processes starting together do it once.
 */
export async function upgradeStore(db: Database): Promise<void> {
  if (!(await needsUpgrade(db))) return;
  await db.lock.run(async () => {
    const rehash = (await db.getMeta(HASH_RULE_KEY)) !== CONTENT_HASH_RULE;
    let changed = 0;
    for (const table of await db.memoryTables()) {
      if (!(await hasHashIndex(table))) await table.createIndex('content_hash', { config: lancedb.Index.btree() });
      if (rehash) changed += await rehashTable(table);
    }
    if (rehash) {
      await db.setMeta({ [HASH_RULE_KEY]: CONTENT_HASH_RULE });
      if (changed > 0) log.info(`recomputed the content hash of ${changed} memories for case-folded dedupe`);
    }
  });
}

async function needsUpgrade(db: Database): Promise<boolean> {
  if ((await db.getMeta(HASH_RULE_KEY)) !== CONTENT_HASH_RULE) return true;
  for (const table of await db.memoryTables()) if (!(await hasHashIndex(table))) return true;
  return false;
}

async function hasHashIndex(table: Table): Promise<boolean> {
  return (await table.listIndices()).some((i) => i.columns.length === 1 && i.columns[0] === 'content_hash');
}

/** Rewrites `content_hash` where the current rule gives another value; returns how many rows changed. */
async function rehashTable(table: Table): Promise<number> {
  const rows = await table.query().select(['pk', 'content', 'content_hash']).toArray();
  const stale = rows.flatMap((r) => {
    const hash = contentHash(String(r.content));
    return hash === String(r.content_hash) ? [] : [{ pk: String(r.pk), hash }];
  });
  // One update per changed row (LanceDB's update takes no per-row values); only rows whose
  // content has case variants beyond lower-casing (ß, ς, ſ …) change.
  for (const { pk, hash } of stale) {
    await withRetry('rehashing content', () => table.update({ where: `${col('pk')} = ${sqlStr(pk)}`, values: { content_hash: hash } }));
  }
  return stale.length;
}
