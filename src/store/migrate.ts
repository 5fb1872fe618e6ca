import { log } from '../log.js';
import type { Database } from './db.js';
import { SCHEMA_VERSION } from './schema.js';

/**
 * Brings a database written by an older memlane up to SCHEMA_VERSION, once,
 * under the write lock (a second process starting at the same moment finds it
 * done). The new schema version is recorded last, so an interrupted migration
 * runs again at the next start; every step is idempotent.
 *
 * - 2: memories tables get `seq`, the write sequence other processes catch up
 *   by (rows written before it count as 0). An older memlane refuses a
 *   version-2 database at start, so no writer without `seq` is left.
 */
export async function migrate(db: Database): Promise<void> {
  await db.lock.run(async () => {
    const from = Number((await db.getMeta('schema_version')) ?? SCHEMA_VERSION);
    if (from >= SCHEMA_VERSION) return;
    const started = performance.now();
    for (const table of await db.memoryTablesOfEveryGeneration()) {
      const fields = (await table.schema()).fields.map((f) => f.name);
      if (!fields.includes('seq')) {
        db.lock.assertHeld();
        await table.addColumns([{ name: 'seq', valueSql: 'cast(0 as double)' }]);
      }
      table.close();
    }
    await db.setMeta({ schema_version: String(SCHEMA_VERSION) });
    log.info(`database migrated from schema version ${from} to ${SCHEMA_VERSION} in ${Math.round(performance.now() - started)} ms`);
  }, { deadlineAt: Date.now() + 600_000 });
}
