import { resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { StorageError } from '../errors.js';
import { DirectoryLock } from './dir-lock.js';
import { EmbedderMismatchError, StoreOpenError, localDirExists, prepareLocalDir } from './local-dir.js';
import { migrate } from './migrate.js';
import { META, SCHEMA_VERSION, SESSIONS, memoriesSchema, memoriesTableName, memoriesTablePrefix, metaSchema, sessionsSchema } from './schema.js';
import { WriteLock } from './lock.js';
import { col, sqlStrList } from './sql.js';

export interface EmbedderInfo {
  provider: string;
  model: string;
  dim: number;
}

export { EmbedderMismatchError };

export const isLocalUri = (uri: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);

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
  static async open(uri: string, embedder: EmbedderInfo | undefined, opts: { adopt?: boolean } = {}): Promise<Database> {
    const local = isLocalUri(uri);
    const missing = () =>
      new StoreOpenError(`no memlane database at ${local ? resolve(uri) : uri} (set MEMLANE_DB to the directory a memlane server uses; nothing was created)`);
    if (!embedder && local && !localDirExists(uri)) throw missing();
    if (local && embedder) prepareLocalDir(uri);
    // readConsistencyInterval 0: every read checks for a newer version, so a
    // write or a session revocation by another process counts at the next call.
    const conn = await lancedb.connect(uri, { readConsistencyInterval: 0 });
    const lock = new WriteLock(local ? new DirectoryLock(uri) : undefined);

    const names = new Set(await conn.tableNames());
    if (!embedder && !(names.has(META) && names.has(SESSIONS))) {
      conn.close();
      throw missing();
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
    const db = new Database(uri, conn, sessions, meta, lock, recorded, generation, await readVersion(meta));
    if (Number(stored.get('schema_version') ?? SCHEMA_VERSION) < SCHEMA_VERSION) await migrate(db);
    return db;
  }

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
