import type { Config } from './config.js';
import type { Embedder } from './embed/embedder.js';
import { createEmbedder } from './embed/index.js';
import { Sessions } from './scope/sessions.js';
import { Database } from './store/db.js';
import { Maintainer, type MaintenanceKnobsForTests } from './store/maintenance.js';
import { MemoryStore, type WallRemovedForTests } from './store/memories.js';
import { Searcher } from './store/search.js';
import { SessionStore } from './store/sessions.js';
import { upgradeStore } from './store/upgrade.js';

/** Everything one memlane process holds open: wired once, closed once. */
export interface App {
  config: Config;
  db: Database;
  embedder: Embedder;
  store: MemoryStore;
  searcher: Searcher;
  sessions: Sessions;
  maintainer: Maintainer;
  close(): Promise<void>;
}

export interface OpenOptions {
  embedder?: Embedder;
  maintenance?: boolean;
  adopt?: boolean;
  /** TEST ONLY (see WallRemovedForTests): never set outside the test suite. */
  testOnlyRemoveWall?: WallRemovedForTests;
  /** TEST ONLY (see MaintenanceKnobsForTests): never set outside the test suite. */
  testOnlyMaintenance?: MaintenanceKnobsForTests;
}

export async function openApp(config: Config, opts: OpenOptions = {}): Promise<App> {
  const embedder = opts.embedder ?? (await createEmbedder(config.embedder));
  const db = await Database.open(config.dbUri, { provider: embedder.provider, model: embedder.model, dim: embedder.dim }, { adopt: opts.adopt ?? false });
  await upgradeStore(db);
  const store = new MemoryStore(db, opts.testOnlyRemoveWall);
  const maintainer = new Maintainer(db, opts.maintenance === false ? 0 : config.maintenanceIntervalMs, opts.testOnlyMaintenance);
  maintainer.start();
  let closed = false;
  return {
    config,
    db,
    embedder,
    store,
    searcher: new Searcher(store),
    sessions: new Sessions(new SessionStore(db)),
    maintainer,
    async close() {
      if (closed) return;
      closed = true;
      await maintainer.stop();
      // Let a write in flight finish before the tables close under it.
      await db.lock.run(async () => db.close());
    },
  };
}
