import type { Table } from '@lancedb/lancedb';
import { EmbeddingError } from '../embed/embedder.js';
import { StorageError } from '../errors.js';
import { log } from '../log.js';
import type { StoredMemory } from '../model.js';
import { describe, type Database, type EmbedderInfo } from './db.js';
import { appendArrow, memoriesTable } from './arrow-rows.js';
import type { LockWait } from './lock.js';
import { currentCall, currentTimer as timer, timed, timedSync } from '../timing.js';
import { type AgentReplica, indexTerms } from './replica/replica.js';
import { ReplicaSet } from './replica/replicas.js';
import { recordColumns } from './schema.js';
import { and, col, sqlStr, sqlStrList, sqlTimestamp } from './sql.js';

const IN_CHUNK = 500;

/** `pk` of a memory: see the schema. */
export const pkOf = (namespace: string, id: string): string => `${namespace}/${id}`;

/** `agent:<id>` → `<id>`. */
const agentOf = (namespace: string): string => namespace.slice(namespace.indexOf(':') + 1);

/**
 * TEST ONLY. Agents are kept apart by two walls: a table per agent, and the
 * namespace check on every read (in the replica's lookups and filters, and in
 * the SQL of the reads that go to LanceDB). Each wall must hold alone, so
 * tests take one away at a time (test/helpers/walls.ts) and run the isolation
 * suites against what is left. Only code that builds a MemoryStore itself can
 * pass this; no environment variable or command-line flag reaches it.
 */
export type WallRemovedForTests = 'per-agent-table' | 'namespace-predicate';

/** The stand-in agent whose table holds every agent's memories when the per-agent-table wall is removed for a test. */
const SHARED_TABLE_AGENT_FOR_TESTS = 'test-only-table-shared-by-all-agents';

/**
 * Everything `batch_*` tools need from LanceDB for memories; no MCP in here.
 * Each agent's memories live in a table of their own (see Database); every
 * read still adds the namespace predicate, as a second wall.
 */
export class MemoryStore {
  /** `embedder`: the one this process embeds with (the database records the one its vectors came from). */
  constructor(
    readonly db: Database,
    private readonly embedder: EmbedderInfo,
    private readonly wallRemovedForTests?: WallRemovedForTests,
  ) {}

  /** Whether reads check the namespace (always, but in a test that removes that wall). */
  private get namespaceWall(): boolean {
    return this.wallRemovedForTests !== 'namespace-predicate';
  }

  /** The namespace condition of a LanceDB read (the second wall), if any. */
  private inNamespace(namespace: string): string | undefined {
    return this.namespaceWall ? `${col('namespace')} = ${sqlStr(namespace)}` : undefined;
  }

  private replicaSet: { set: ReplicaSet; generation: number; provider: string; dim: number } | undefined;

  /** Catches up with changes other processes made to the database (see Database.refresh). Once per call. */
  refresh(): Promise<void> {
    return this.db.refresh();
  }

  /**
   * The in-memory replica of the namespace's table, in step with its latest
   * version (see ReplicaSet), or undefined when the agent has no table yet.
   */
  async replicaFor(namespace: string): Promise<AgentReplica | undefined> {
    const table = await this.tableFor(namespace);
    return table ? this.replicas().fresh(table, namespace, this.db.lock.holding, currentCall()) : undefined;
  }

  /** Starts loading the namespace's replica, so that its first search does not wait for it. */
  warm(namespace: string): void {
    this.replicaFor(namespace).catch((err: Error) => log.warn(`preloading memories of ${namespace} failed: ${err.message}`));
  }

  /** The replicas of the current generation (a new set after `reembed` switched tables or embedder). */
  private replicas(): ReplicaSet {
    const { provider, dim } = this.db.embedder;
    const r = this.replicaSet;
    if (r && r.generation === this.db.generation && r.provider === provider && r.dim === dim) return r.set;
    this.replicaSet = { set: new ReplicaSet(provider, dim, this.namespaceWall), generation: this.db.generation, provider, dim };
    return this.replicaSet.set;
  }

  /**
   * Why this process cannot embed for this database, if it cannot: another
   * process ran `memlane reembed` with another embedder while it was running.
   */
  embedderMismatch(): string | undefined {
    const db = this.db.embedder;
    const own = this.embedder;
    if (db.provider === own.provider && db.model === own.model && db.dim === own.dim) return undefined;
    return `the database was re-embedded with ${describe(db)} (memlane reembed) while this server embeds with ${describe(own)}; restart memlane configured for ${describe(db)}`;
  }

  /** The namespace's table, or undefined if it has never been written to. */
  tableFor(namespace: string, opts: { create?: boolean } = {}): Promise<Table | undefined> {
    const agent = this.wallRemovedForTests === 'per-agent-table' ? SHARED_TABLE_AGENT_FOR_TESTS : agentOf(namespace);
    return this.db.memoryTable(agent, opts);
  }

  get dim(): number {
    return this.db.embedder.dim;
  }

  /**
   * Runs `fn` holding the write lock, waiting for it no longer than
   * `wait.deadlineAt`: reads inside it see every committed write, and the
   * tables are those of the database's current generation. With `embeds`,
   * fails with EmbeddingError (before `fn` runs) when this process's embedder
   * is no longer the database's.
   */
  exclusive<T>(fn: () => Promise<T>, wait: LockWait & { embeds?: boolean } = {}): Promise<T> {
    const asked = performance.now();
    return this.db.lock.run(async () => {
      timer()?.add('lock', performance.now() - asked);
      await timed('refresh', () => this.db.refresh());
      const mismatch = wait.embeds ? this.embedderMismatch() : undefined;
      if (mismatch !== undefined) throw new EmbeddingError(mismatch);
      return fn();
    }, wait);
  }

  /**
   * Memories of `namespace` with these ids, by id: live (unexpired at `now`)
   * ones, or with `includeExpired` every stored row (what import overwrites).
   */
  async getMany(
    namespace: string,
    ids: readonly string[],
    now: number,
    opts: { withVector?: boolean; includeExpired?: boolean } = {},
  ): Promise<Map<string, StoredMemory>> {
    const found = new Map<string, StoredMemory>();
    const replica = await this.replicaFor(namespace);
    if (!replica) return found;
    const held: string[] = [];
    for (const id of new Set(ids)) {
      const m = replica.get(namespace, id, now, opts.includeExpired);
      if (!m) continue;
      if (opts.withVector) held.push(id);
      else found.set(id, m);
    }
    if (!opts.withVector || held.length === 0) return found;
    // The replica holds vectors only in a searchable (lossy) layout: a rewrite of an unchanged
    // text reuses the exact stored vector, read from the table for the ids that exist.
    const table = (await this.tableFor(namespace))!;
    for (let i = 0; i < held.length; i += IN_CHUNK) {
      const pks = held.slice(i, i + IN_CHUNK).map((id) => pkOf(namespace, id));
      const rows = await readRows(table.query().where(`${col('pk')} IN (${sqlStrList(pks)})`).select([...recordColumns, 'vector']));
      for (const row of rows) {
        const m = fromRow(row);
        if (m.namespace === namespace || !this.namespaceWall) found.set(m.id, m);
      }
    }
    return found;
  }

  /** Every memory of `namespace` (expired ones too), a page at a time, in session and write order. */
  async *scan(namespace: string, pageSize: number, opts: { withVector?: boolean } = {}): AsyncGenerator<StoredMemory[]> {
    const table = await this.tableFor(namespace);
    if (!table) return;
    const columns = opts.withVector ? [...recordColumns, 'vector'] : [...recordColumns];
    const where = this.inNamespace(namespace);
    for (let offset = 0; ; offset += pageSize) {
      const query = table.query();
      const rows = await readRows(
        (where === undefined ? query : query.where(where))
          .select(columns)
          .orderBy([
            { columnName: 'created_at', ascending: true },
            { columnName: 'session_id', ascending: true },
            { columnName: 'ord', ascending: true },
            { columnName: 'id', ascending: true },
          ])
          .limit(pageSize)
          .offset(offset),
      );
      if (rows.length === 0) return;
      yield rows.map(fromRow);
    }
  }

  /** Live memories of `namespace` whose normalised content hashes are given: hash → id (the oldest holder). */
  async idsByContentHash(namespace: string, hashes: readonly string[], now: number): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const replica = await this.replicaFor(namespace);
    if (!replica) return found;
    for (const hash of hashes) {
      const id = replica.idByHash(namespace, hash, now);
      if (id !== undefined) found.set(hash, id);
    }
    return found;
  }

  /** The next write-order number in a session (1 for its first memory). Call under the write lock. */
  async nextOrd(namespace: string, sessionId: string): Promise<number> {
    return (await this.replicaFor(namespace))?.nextOrd(namespace, sessionId) ?? 1;
  }

  /**
   * Inserts or replaces whole memories in one commit per agent table (a call
   * acts for one agent, so one commit), so a crash leaves all of them or none.
   * Call under the write lock.
   */
  async upsert(memories: readonly StoredMemory[]): Promise<void> {
    const byNamespace = new Map<string, StoredMemory[]>();
    for (const m of memories) {
      const group = byNamespace.get(m.namespace);
      if (group) group.push(m);
      else byNamespace.set(m.namespace, [m]);
    }
    for (const [namespace, group] of byNamespace) {
      const table = (await this.tableFor(namespace, { create: true }))!;
      const replica = await this.replicas().fresh(table, namespace, this.db.lock.holding);
      // One more than anything in the table: see the schema's `seq`.
      const seq = replica.maxSeq + 1;
      for (const m of group) this.checkVector(m);
      const data = timedSync('arrow rows', () => memoriesTable(group, (m) => pkOf(m.namespace, m.id), seq, this.dim));
      // Rows known to be new are appended (a third of mergeInsert's cost); a merge only where an id exists.
      const fresh = group.every((m) => !replica.has(pkOf(m.namespace, m.id)));
      this.db.lock.assertHeld();
      const commit = timed(fresh ? 'commit (append)' : 'commit (merge)', () =>
        fresh
          ? withRetry('write', () => appendArrow(table, data))
          : withRetry('write', () => table.mergeInsert('pk').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data)),
      );
      // LanceDB writes on its own threads: meanwhile this one analyses the text the replica will index
      // (about 40% of applying 100 rows), so only the index updates themselves wait for the commit.
      const upserts = group.map((m) => ({ pk: pkOf(m.namespace, m.id), seq, memory: withoutVector(m), vector: m.vector!, terms: indexTerms(m) }));
      const { version } = await commit;
      await this.replicas().applyWrite(table, namespace, version, { upserts });
    }
  }

  /** Deletes these ids of `namespace` in one commit. Call under the write lock. */
  async delete(namespace: string, ids: readonly string[]): Promise<void> {
    const table = await this.tableFor(namespace);
    if (ids.length === 0 || !table) return;
    const pks = ids.map((id) => pkOf(namespace, id));
    this.db.lock.assertHeld();
    const { version } = await timed('commit (delete)', () => withRetry('delete', () => table.delete(`${col('pk')} IN (${sqlStrList(pks)})`)));
    await this.replicas().applyWrite(table, namespace, version, { deletes: pks });
  }

  /** Deletes memories that expired before `now` (they are never returned anyway). */
  async purgeExpired(now: number): Promise<number> {
    return this.exclusive(async () => {
      const where = `${col('expires_at')} IS NOT NULL AND ${col('expires_at')} <= ${sqlTimestamp(now)}`;
      let total = 0;
      for (const table of await this.db.memoryTables()) {
        const count = await withRetry('count expired', () => table.countRows(where), 1);
        if (count > 0) {
          this.db.lock.assertHeld();
          await withRetry('purge expired', () => table.delete(where));
        }
        total += count;
      }
      return total;
    });
  }

  private checkVector(m: StoredMemory): void {
    // LanceDB pads or truncates a wrong-length vector without a word; refuse it here.
    if (!m.vector || m.vector.length !== this.dim) {
      throw new StorageError(`vector for ${m.id} has ${m.vector?.length ?? 0} dimensions, the database has ${this.dim}`);
    }
  }
}

/**
 * The record a replica keeps of a memory written by this process: every field
 * in one literal, in the order AgentReplica.rowsOf builds loaded ones. Why
 * not `{ vector, ...rest }`: an object made by spreading gets its fields one
 * at a time, most of them in a separate property array (15 MB of them after
 * a 100,000-memory ingest, a heap snapshot), and a shape of its own that the
 * search filters then meet beside the loaded records' one.
 */
function withoutVector(m: StoredMemory): StoredMemory {
  return {
    id: m.id,
    namespace: m.namespace,
    agent_id: m.agent_id,
    session_id: m.session_id,
    ord: m.ord,
    content: m.content,
    content_hash: m.content_hash,
    type: m.type,
    title: m.title,
    tags: m.tags,
    metadata: m.metadata,
    confidence: m.confidence,
    importance: m.importance,
    source: m.source,
    provenance: m.provenance,
    pinned: m.pinned,
    immutable: m.immutable,
    expires_at: m.expires_at,
    created_at: m.created_at,
    updated_at: m.updated_at,
    version: m.version,
  };
}

/** A LanceDB row (from `toArray()`) back to a StoredMemory. */
export function fromRow(row: Record<string, unknown>): StoredMemory {
  const m: StoredMemory = {
    id: String(row.id),
    namespace: String(row.namespace),
    agent_id: String(row.agent_id),
    session_id: String(row.session_id),
    ord: Number(row.ord),
    content: String(row.content),
    content_hash: String(row.content_hash),
    type: String(row.type),
    title: row.title === null || row.title === undefined ? null : String(row.title),
    tags: Array.from((row.tags ?? []) as Iterable<string>, String),
    metadata: JSON.parse(String(row.metadata ?? '{}')) as Record<string, unknown>,
    confidence: Number(row.confidence),
    importance: Number(row.importance),
    source: String(row.source),
    provenance: String(row.provenance),
    pinned: Boolean(row.pinned),
    immutable: Boolean(row.immutable),
    expires_at: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    version: Number(row.version),
  };
  if (row.vector !== undefined && row.vector !== null) m.vector = Float32Array.from(row.vector as Iterable<number>);
  return m;
}

/**
 * Runs a LanceDB read. An engine failure (a missing or corrupt file, an I/O
 * error) becomes a StorageError, which items report as STORAGE_ERROR; a bug
 * in memlane stays a bug (INTERNAL).
 */
export async function readRows(query: { toArray(): Promise<unknown[]> }): Promise<Record<string, unknown>[]> {
  try {
    return (await query.toArray()) as Record<string, unknown>[];
  } catch (err) {
    throw new StorageError(`reading from LanceDB failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

const RETRYABLE = /commit conflict|conflict|retryable|concurrent|too many open files|temporarily/i;

/**
 * LanceDB already retries commit conflicts itself; this outer loop covers what
 * escapes it (e.g. a compaction committing at the same moment), with backoff,
 * and turns what is left into a StorageError that items report as STORAGE_ERROR.
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, attempts = 5): Promise<T> {
  let delay = 25;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= attempts || !RETRYABLE.test(message)) {
        throw new StorageError(`${what} failed after ${attempt} attempt(s): ${message}`, { cause: err });
      }
      log.warn(`${what} attempt ${attempt} failed (${message}); retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay *= 2;
    }
  }
}
