import type { Config } from './config.js';
import { EmbeddingError, type Embedder } from './embed/embedder.js';
import type { EmbedderInfo } from './store/db.js';
import { guardedEmbedder } from './embed/guarded.js';
import { createEmbedder } from './embed/index.js';
import { Sessions } from './scope/sessions.js';
import { tuneAllocator } from './store/allocator.js';
import { Database } from './store/db.js';
import { Maintainer, type MaintenanceKnobsForTests, type TableReport } from './store/maintenance.js';
import { MemoryStore, type WallRemovedForTests } from './store/memories.js';
import { Searcher } from './store/search.js';
import { SessionStore } from './store/sessions.js';

/** Everything one memlane process holds open: wired once, closed once. */
export interface App {
  config: Config;
  db: Database;
  embedder: Embedder;
  store: MemoryStore;
  searcher: Searcher;
  sessions: Sessions;
  maintainer: Maintainer;
  /** Calls `listener` with what each background maintenance run did; returns the unsubscribe. */
  onMaintenance(listener: (reports: TableReport[]) => void): () => void;
  close(): Promise<void>;
}

export interface OpenOptions {
  embedder?: Embedder;
  maintenance?: boolean;
  adopt?: boolean;
  /**
   * Read-only commands (stats, export, session list): the database must exist
   * (nothing is created), any embedder's database opens, and no embedder is
   * made (so a missing OPENAI_API_KEY does not matter); embedding fails.
   */
  readOnly?: boolean;
  /** TEST ONLY (see WallRemovedForTests): never set outside the test suite. */
  testOnlyRemoveWall?: WallRemovedForTests;
  /** TEST ONLY (see MaintenanceKnobsForTests): never set outside the test suite. */
  testOnlyMaintenance?: MaintenanceKnobsForTests;
}

export async function openApp(config: Config, opts: OpenOptions = {}): Promise<App> {
  // Before LanceDB reads anything: what its reads free then goes back to the system.
  if (config.store.releaseFreedMemory) await tuneAllocator();
  let db: Database;
  let embedder: Embedder;
  let store: MemoryStore;
  let configured: Embedder | undefined;
  if (opts.readOnly) {
    db = await Database.open(config.dbUri, undefined, { store: config.store });
    store = new MemoryStore(db, db.embedder, opts.testOnlyRemoveWall);
    embedder = noEmbedder(db.embedder);
  } else {
    configured = opts.embedder ?? (await createEmbedder(config.embedder));
    const own = { provider: configured.provider, model: configured.model, dim: configured.dim };
    db = await Database.open(config.dbUri, own, { adopt: opts.adopt ?? false, store: config.store });
    store = new MemoryStore(db, own, opts.testOnlyRemoveWall);
    // `reembed` (adopt) embeds for the generation it is building; everyone else only for the database's own.
    const made = configured;
    embedder = opts.adopt ? made : guardedEmbedder(made, () => store.embedderMismatch());
  }
  // A read replica never maintains: compaction writes.
  const maintainer = new Maintainer(db, opts.maintenance === false || db.readOnly ? 0 : config.maintenanceIntervalMs, opts.testOnlyMaintenance);
  const maintenanceListeners = new Set<(reports: TableReport[]) => void>();
  maintainer.onReport = (reports) => {
    for (const listener of maintenanceListeners) listener(reports);
  };
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
    onMaintenance(listener) {
      maintenanceListeners.add(listener);
      return () => void maintenanceListeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      await maintainer.stop();
      // Let this process's writes in flight finish before the tables close under them.
      await db.lock.drain();
      db.close();
      await configured?.close?.();
    },
  };
}

/** The embedder of a read-only command: named after the database's, and never embeds. */
function noEmbedder(info: EmbedderInfo): Embedder {
  return {
    ...info,
    async embed() {
      throw new EmbeddingError('this command only reads: nothing is embedded');
    },
  };
}
