import { resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { randomBytes } from 'node:crypto';
import type { StoreConfig } from '../config.js';
import { ReadOnlyError, StorageError } from '../errors.js';
import { log } from '../log.js';
import { StoreRequestError } from './backends/conditional.js';
import { checkConditionalWrites, lanceOptions, MAINTENANCE_LEASE, MEMLANE_DIR, openRemote, type Remote, WRITE_LEASE } from './backends/index.js';
import { isLocalUri, keyOf, parseLocation, type StoreLocation } from './backends/location.js';
import { parseStorageOptions } from './backends/options.js';
import { DirectoryLock } from './dir-lock.js';
import { LeaseLock } from './lease-lock.js';
import { EmbedderMismatchError, StoreOpenError, localDirExists, prepareLocalDir } from './local-dir.js';
import { migrate } from './migrate.js';
import { META, SCHEMA_VERSION, SESSIONS, memoriesSchema, memoriesTableName, memoriesTablePrefix, metaSchema, sessionsSchema } from './schema.js';
import { type CrossProcessLock, type HeldLock, WriteLock } from './lock.js';
import { col, sqlStrList } from './sql.js';

export interface EmbedderInfo {
  provider: string;
  model: string;
  dim: number;
}

export { EmbedderMismatchError };

export { isLocalUri };

/** The store settings of a plain local start (tests, tools): writable, no options. */
export const LOCAL_STORE: StoreConfig = { readOnly: false, singleWriter: false, leaseTtlMs: 20_000, readIntervalMs: 1_000, releaseFreedMemory: true };

/**
 * One open database: the connection, the sessions and meta tables, one
 * memories table per agent, and the write lock. Opening creates what is
 * missing, so the first start needs no setup.
 *
 * Why a table per agent: full-text ranking (BM25) takes its word statistics
 * from the whole table, so in a shared table one agent's memories would change
 * how another's rank (and, through scores, hint at what they contain). Measured
 * on LoCoMo, sharing one table cost up to 9 points of recall@10 for an agent.
 * Separate tables keep every agent's ranking its own, and isolation physical.
 */
export class Database {
  private readonly memoryTablesByName = new Map<string, lancedb.Table>();
  /**
   * Names of the handles this database opened. Not `table.name`: that getter
   * borrows the native table and throws ("cannot be borrowed mutably") while
   * another call on the same handle is in flight, e.g. a search during
   * background maintenance.
   */
  private readonly names = new WeakMap<lancedb.Table, string>();

  /** The name of a table handle this database opened. */
  nameOf(table: lancedb.Table): string {
    return this.names.get(table) ?? (table === this.sessions ? SESSIONS : table === this.meta ? META : '(table)');
  }
  private metaVersion: number;

  private constructor(
    readonly uri: string,
    readonly location: StoreLocation,
    /** memlane's own client of a remote store (s3, s3+ddb, gs, az); undefined for a directory and db://. */
    readonly remote: Remote | undefined,
    /** A read replica: every write is refused (MEMLANE_READ_ONLY). */
    readonly readOnly: boolean,
    private readonly leaseTtlMs: number,
    readonly conn: lancedb.Connection,
    readonly sessions: lancedb.Table,
    readonly meta: lancedb.Table,
    readonly lock: WriteLock,
    private recorded: EmbedderInfo,
    /** Bumped by `reembed`, which writes a new generation of memories tables. */
    private currentGeneration: number,
    metaVersion: number,
  ) {
    this.metaVersion = metaVersion;
  }

  /** The embedder the database's vectors were written by (changes when another process runs `reembed`). */
  get embedder(): EmbedderInfo {
    return this.recorded;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  /**
   * Catches up with `meta` as another process may have changed it: one
   * version check (no query) when nothing changed. After `memlane reembed`
   * switched to a new generation of tables, the next call of a running server
   * uses the new tables instead of failing on dropped ones.
   */
  async refresh(): Promise<void> {
    const version = await readVersion(this.meta);
    if (version === this.metaVersion) return;
    const stored = await readMeta(this.meta);
    this.metaVersion = version;
    const generation = Number(stored.get('memories_generation') ?? 0);
    const embedder = recordedEmbedder(stored, this.recorded);
    if (generation !== this.currentGeneration) {
      for (const t of this.memoryTablesByName.values()) t.close();
      this.memoryTablesByName.clear();
      this.currentGeneration = generation;
    }
    this.recorded = embedder;
  }

  /**
   * The memories table of `agentId`; undefined when the agent has none yet,
   * unless `create` (only under the write lock).
   */
  async memoryTable(agentId: string, opts: { create?: boolean } = {}): Promise<lancedb.Table | undefined> {
    const name = memoriesTableName(agentId, this.generation);
    const cached = this.memoryTablesByName.get(name);
    if (cached) return cached;
    let table: lancedb.Table | undefined;
    try {
      table = await this.conn.openTable(name);
    } catch (err) {
      if (!/not found|does not exist/i.test(String((err as Error).message))) {
        throw new StorageError(`opening ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      if (!opts.create) return undefined;
      table = await openOrCreateMemories(this.conn, new Set(), name, this.embedder.dim);
    }
    this.memoryTablesByName.set(name, table);
    this.names.set(table, name);
    return table;
  }

  /** Every memories table, of any generation (an interrupted `reembed` leaves a second one). */
  async memoryTablesOfEveryGeneration(): Promise<lancedb.Table[]> {
    const names = (await this.conn.tableNames()).filter((n) => /^memories\d*__/.test(n));
    return Promise.all(names.map((n) => this.conn.openTable(n)));
  }

  /** Every agent's memories table of the current generation. */
  async memoryTables(): Promise<lancedb.Table[]> {
    const prefix = memoriesTablePrefix(this.generation);
    const names = (await this.conn.tableNames()).filter((n) => n.startsWith(prefix)).sort();
    const tables: lancedb.Table[] = [];
    for (const name of names) {
      let table = this.memoryTablesByName.get(name);
      if (!table) {
        table = await this.conn.openTable(name);
        this.memoryTablesByName.set(name, table);
        this.names.set(table, name);
      }
      tables.push(table);
    }
    return tables;
  }

  /**
   * Opens (or creates) the database at `uri` for `embedder`. With `adopt`,
   * a database written by another embedder is accepted and re-labelled, which
   * only `memlane reembed` may do. Without an embedder (read-only commands:
   * stats, export, session list) the database must already exist, is never
   * created, and opens with whatever embedder wrote it.
   */
  static async open(uri: string, embedder: EmbedderInfo | undefined, opts: { adopt?: boolean; store?: StoreConfig } = {}): Promise<Database> {
    const store = opts.store ?? LOCAL_STORE;
    const location = parseLocation(uri);
    const local = location.kind === 'local';
    const missing = () =>
      new StoreOpenError(`no memlane database at ${local ? resolve(uri) : uri} (set MEMLANE_DB to the directory a memlane server uses; nothing was created)`);
    if (!embedder && local && !localDirExists(uri)) throw missing();
    const settings = parseStorageOptions(store.storageOptions, process.env);
    if (local && embedder) prepareLocalDir(uri);
    const remote = await openRemote(location, settings);
    let cross: CrossProcessLock | undefined;
    try {
      cross = await writerLock(location, remote, store);
    } catch (err) {
      remote?.close();
      throw err;
    }
    // Writers: readConsistencyInterval 0, every read checks for a newer version, so a write
    // or a session revocation by another process counts at the next call, and a decision
    // under the lock sees every commit before it. Read replicas look at most every
    // MEMLANE_READ_INTERVAL_MS: on an object store each look is a request per table.
    const interval = store.readOnly ? store.readIntervalMs / 1000 : 0;
    let conn: lancedb.Connection;
    let names: Set<string>;
    try {
      conn = await lancedb.connect(uri, lanceOptions(location, settings, interval));
      names = new Set(await conn.tableNames());
    } catch (err) {
      remote?.close();
      if (err instanceof StoreOpenError) throw err;
      throw new StoreOpenError(`cannot open ${uri}: ${firstLine(err)}`);
    }
    if (location.kind === 'db' && !store.readOnly) {
      log.warn(`${uri}: LanceDB Cloud gives memlane no conditional writes for a writer lease; run a single writer per database (README: Scaling out)`);
    }
    const lock = new WriteLock(cross);
    if (!embedder && !(names.has(META) && names.has(SESSIONS))) {
      remote?.close();
      conn.close();
      throw missing();
    }
    if (store.readOnly && !(names.has(META) && names.has(SESSIONS))) {
      remote?.close();
      throw new StoreOpenError(`there is no memlane database at ${uri} yet: a read replica (MEMLANE_READ_ONLY=1) opens one that a writer has created`);
    }

    // An existing database opens without the write lock, so a server starts even while
    // another process holds it for long. Creation races with a second process starting
    // at the same moment, so it happens under the lock (re-checked there).
    const existing = names.has(META) && names.has(SESSIONS) ? await conn.openTable(META) : undefined;
    const found = existing ? await readMeta(existing) : new Map<string, string>();
    if (!embedder && found.size === 0) {
      conn.close();
      throw missing();
    }
    const { meta, stored } =
      existing && found.size > 0
        ? { meta: existing, stored: found }
        : await lock.run(async () => {
            if (!embedder) throw missing();
            const meta = await openOrCreate(conn, new Set(await conn.tableNames()), META, metaSchema);
            const stored = await readMeta(meta);
            if (stored.size === 0) {
              lock.assertHeld();
              await meta.add([
                { key: 'schema_version', value: String(SCHEMA_VERSION) },
                { key: 'embedder_provider', value: embedder.provider },
                { key: 'embedder_model', value: embedder.model },
                { key: 'embedder_dim', value: String(embedder.dim) },
              ]);
            }
            await openOrCreate(conn, new Set(await conn.tableNames()), SESSIONS, sessionsSchema);
            return { meta, stored };
          });

    const schemaVersion = Number(stored.get('schema_version'));
    if (schemaVersion > SCHEMA_VERSION) {
      throw new StoreOpenError(`database ${uri} has schema version ${schemaVersion}; this memlane reads up to ${SCHEMA_VERSION}. Upgrade memlane.`);
    }
    // Read-only: whatever embedder wrote it (nothing is embedded).
    let recorded = embedder ?? recordedEmbedder(stored, { provider: '?', model: '?', dim: 0 });
    if (stored.size > 0 && embedder) {
      recorded = recordedEmbedder(stored, embedder);
      const same = recorded.provider === embedder.provider && recorded.model === embedder.model && recorded.dim === embedder.dim;
      if (!same && !opts.adopt) {
        throw new EmbedderMismatchError(
          `database ${uri} was written by embedder ${describe(recorded)}, but memlane is configured with ${describe(embedder)}. ` +
            `Vectors of two embedders cannot be mixed: either configure ${describe(recorded)} again, or run \`memlane reembed\` ` +
            `with the new configuration to re-embed every memory.`,
        );
      }
    }

    // `reembed` writes a new generation of memories tables and switches to it; meta says which is current.
    const generation = Number(stored.get('memories_generation') ?? 0);
    const sessions = await conn.openTable(SESSIONS);
    const db = new Database(uri, location, remote, store.readOnly, store.leaseTtlMs, conn, sessions, meta, lock, recorded, generation, await readVersion(meta));
    if (Number(stored.get('schema_version') ?? SCHEMA_VERSION) < SCHEMA_VERSION) {
      if (store.readOnly) {
        db.close();
        throw new StoreOpenError(`database ${uri} has schema version ${stored.get('schema_version')}, older than ${SCHEMA_VERSION}: start a writer once to migrate it; a read replica changes nothing`);
      }
      await migrate(db);
    }
    return db;
  }

  /**
   * The lock that keeps background maintenance to one process at a time, on
   * the store's own mechanism: a lease beside the write lease on an object
   * store; undefined for a local directory (maintenance.ts keeps its lock
   * directory there) and for db://.
   */
  maintenanceLease(): LeaseLock | undefined {
    if (!this.remote) return undefined;
    return (this.maintenance ??= new LeaseLock(this.remote.leases, keyOf(this.location, MAINTENANCE_LEASE), { ttlMs: Math.max(this.leaseTtlMs, 30_000), label: 'maintenance lease' }));
  }
  private maintenance: LeaseLock | undefined;

  async getMeta(key: string): Promise<string | undefined> {
    return (await readMeta(this.meta)).get(key);
  }

  /** Sets (or, with null, removes) meta keys in one commit. Call under the write lock. */
  async setMeta(values: Record<string, string | null>): Promise<void> {
    this.lock.assertHeld();
    const set = Object.entries(values).flatMap(([key, value]) => (value === null ? [] : [{ key, value }]));
    const removed = Object.entries(values).flatMap(([key, value]) => (value === null ? [key] : []));
    if (set.length > 0) await this.meta.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(set);
    if (removed.length > 0) await this.meta.delete(`${col('key')} IN (${sqlStrList(removed)})`);
  }

  /** Switches to another generation of memories tables (after `reembed` filled it) and records its embedder, in one meta commit. */
  async switchGeneration(generation: number, embedder: EmbedderInfo): Promise<void> {
    await this.setMeta({
      memories_generation: String(generation),
      embedder_provider: embedder.provider,
      embedder_model: embedder.model,
      embedder_dim: String(embedder.dim),
    });
  }

  close(): void {
    for (const t of [...this.memoryTablesByName.values(), this.sessions, this.meta]) t.close();
    this.memoryTablesByName.clear();
    this.conn.close();
    this.remote?.close();
  }
}

export const describe = (e: EmbedderInfo): string => `${e.provider}/${e.model} (${e.dim} dimensions)`;

async function openOrCreate(
  conn: lancedb.Connection,
  names: Set<string>,
  name: string,
  schema: import('apache-arrow').Schema,
  onCreate?: (t: lancedb.Table) => Promise<void>,
): Promise<lancedb.Table> {
  if (names.has(name)) return conn.openTable(name);
  const table = await conn.createEmptyTable(name, schema, { mode: 'create', existOk: true });
  if (onCreate && (await table.listIndices()).length === 0) await onCreate(table);
  return table;
}

/**
 * Opens a memories table, creating it with its key index when missing. No
 * full-text index: search runs on the in-memory replica (store/replica),
 * and an index nobody reads would only cost every compaction.
 */
export async function openOrCreateMemories(conn: lancedb.Connection, names: Set<string>, name: string, dim: number): Promise<lancedb.Table> {
  return openOrCreate(conn, names, name, memoriesSchema(dim), async (t) => {
    await t.createIndex('pk', { config: lancedb.Index.btree() });
  });
}

function recordedEmbedder(stored: Map<string, string>, fallback: EmbedderInfo): EmbedderInfo {
  if (!stored.has('embedder_provider')) return fallback;
  return { provider: stored.get('embedder_provider') ?? '?', model: stored.get('embedder_model') ?? '?', dim: Number(stored.get('embedder_dim')) };
}

/**
 * The cross-process writer lock for this store. A directory: its lock
 * directory. An object store: a lease, once the store has shown that it
 * honours conditional writes (else the start is refused, unless the operator
 * vouches for a single writer). A read replica: a lock that refuses. db://:
 * none memlane can build (LanceDB Cloud's API has no conditional object writes).
 */
async function writerLock(location: StoreLocation, remote: Remote | undefined, store: StoreConfig): Promise<CrossProcessLock | undefined> {
  if (store.readOnly) {
    if (remote) await reach(remote, location);
    return READ_ONLY_LOCK;
  }
  if (location.kind === 'local') return new DirectoryLock(location.uri);
  if (!remote) return undefined; // db://: warned about once connected
  await reach(remote, location);
  const check = await checkConditionalWrites(remote.leases, location, randomBytes(6).toString('hex')).catch((err: unknown) => {
    throw new StoreOpenError(`${location.uri}: checking conditional writes failed: ${firstLine(err)}`);
  });
  const honoured = check.refusesSecondCreate && check.oneWinnerOfRace && check.refusesStaleReplace;
  if (honoured) return new LeaseLock(remote.leases, keyOf(location, WRITE_LEASE), { ttlMs: store.leaseTtlMs, label: 'write lease' });
  const why = !check.refusesSecondCreate
    ? 'a second If-None-Match: * create of one key was not refused'
    : !check.oneWinnerOfRace
      ? `${check.winners} of 8 simultaneous conditional creates of one key succeeded`
      : 'an If-Match write on a stale ETag was not refused';
  if (store.singleWriter) {
    log.warn(`${location.uri} ignores conditional writes (${why}); writing anyway because MEMLANE_SINGLE_WRITER=1 says this is the only writer`);
    return undefined;
  }
  throw new StoreOpenError(
    `${location.uri} does not honour conditional writes (${why}), so two writers would silently lose each other's data. ` +
      'Use s3+ddb://bucket/prefix?ddbTableName=TABLE (commits and the writer lease through DynamoDB), or, if this is the only process that writes, ' +
      'set MEMLANE_SINGLE_WRITER=1; read replicas (MEMLANE_READ_ONLY=1) need neither. `memlane doctor` shows every check.',
  );
}

/** One list request under the database's prefix: the store is reachable and these credentials may list it. */
async function reach(remote: Remote, location: StoreLocation): Promise<void> {
  try {
    await remote.objects.list(`${keyOf(location, MEMLANE_DIR)}/`);
  } catch (err) {
    throw new StoreOpenError(err instanceof StoreRequestError ? `${location.uri}: ${err.message}` : `${location.uri}: ${firstLine(err)}`);
  }
}

/** A read replica's lock: every write is refused before it starts. */
const READ_ONLY_LOCK: CrossProcessLock = {
  acquire(): Promise<HeldLock> {
    return Promise.reject(new ReadOnlyError('this memlane is a read replica (MEMLANE_READ_ONLY=1): it answers batch_search and batch_get; write through a writer'));
  },
};

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);

async function readVersion(table: lancedb.Table): Promise<number> {
  try {
    return await table.version();
  } catch (err) {
    throw new StorageError(`reading a table version failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function readMeta(meta: lancedb.Table): Promise<Map<string, string>> {
  const rows = await meta.query().select(['key', 'value']).toArray();
  return new Map(rows.map((r) => [String(r.key), String(r.value)]));
}
