import type { Table } from '@lancedb/lancedb';
import { StorageError } from '../errors.js';
import { log } from '../log.js';
import type { StoredMemory } from '../model.js';
import type { Database } from './db.js';
import { recordColumns } from './schema.js';
import { and, col, sqlStr, sqlStrList, sqlTimestamp } from './sql.js';
import { searchText } from './text.js';

const IN_CHUNK = 500;

/** `pk` of a memory: see the schema. */
export const pkOf = (namespace: string, id: string): string => `${namespace}/${id}`;

/** `agent:<id>` → `<id>`. */
const agentOf = (namespace: string): string => namespace.slice(namespace.indexOf(':') + 1);

/**
 * TEST ONLY. Agents are kept apart by two walls: a table per agent, and the
 * namespace predicate on every read. Each wall must hold alone, so tests take
 * one away at a time (test/helpers/walls.ts) and run the isolation suites
 * against what is left. Only code that builds a MemoryStore itself can pass
 * this; no environment variable or command-line flag reaches it.
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
  constructor(
    readonly db: Database,
    private readonly wallRemovedForTests?: WallRemovedForTests,
  ) {}

  /** The namespace's table, or undefined if it has never been written to. */
  tableFor(namespace: string, opts: { create?: boolean } = {}): Promise<Table | undefined> {
    const agent = this.wallRemovedForTests === 'per-agent-table' ? SHARED_TABLE_AGENT_FOR_TESTS : agentOf(namespace);
    return this.db.memoryTable(agent, opts);
  }

  /** The namespace predicate every read adds (the second wall). */
  inNamespace(namespace: string): string | undefined {
    return this.wallRemovedForTests === 'namespace-predicate' ? undefined : `${col('namespace')} = ${sqlStr(namespace)}`;
  }

  /** The predicate every read adds: this namespace, and not expired at `now`. */
  liveIn(namespace: string, now: number): string {
    return and(this.inNamespace(namespace), `${col('expires_at')} IS NULL OR ${col('expires_at')} > ${sqlTimestamp(now)}`);
  }

  get dim(): number {
    return this.db.embedder.dim;
  }

  /** Runs `fn` holding the write lock: reads inside it see every committed write. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.lock.run(fn);
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
    const table = await this.tableFor(namespace);
    if (!table) return found;
    const unique = [...new Set(ids)];
    const columns = opts.withVector ? [...recordColumns, 'vector'] : [...recordColumns];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const pks = unique.slice(i, i + IN_CHUNK).map((id) => pkOf(namespace, id));
      const rows = await readRows(
        table
          .query()
          .where(and(`${col('pk')} IN (${sqlStrList(pks)})`, opts.includeExpired ? undefined : this.liveIn(namespace, now)))
          .select(columns),
      );
      for (const row of rows) found.set(String(row.id), fromRow(row));
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

  /** Live memories of `namespace` whose normalised content hashes are given: hash → id. */
  async idsByContentHash(namespace: string, hashes: readonly string[], now: number): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const table = await this.tableFor(namespace);
    if (!table) return found;
    const unique = [...new Set(hashes)];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const rows = await readRows(this.contentHashQuery(table, namespace, unique.slice(i, i + IN_CHUNK), now));
      // Oldest first, so that the same content always resolves to the same memory.
      rows.sort((a, b) => Number(a.created_at) - Number(b.created_at));
      for (const row of rows) if (!found.has(String(row.content_hash))) found.set(String(row.content_hash), String(row.id));
    }
    return found;
  }

  /** The dedupe lookup: served by the BTREE index on `content_hash` for indexed rows (plan checked in test/store/dedupe-casefold.test.ts). */
  contentHashQuery(table: Table, namespace: string, hashes: readonly string[], now: number) {
    return table
      .query()
      .where(and(`${col('content_hash')} IN (${sqlStrList(hashes)})`, this.liveIn(namespace, now)))
      .select(['id', 'content_hash', 'created_at']);
  }

  /** The next write-order number in a session (1 for its first memory). Call under the write lock. */
  async nextOrd(namespace: string, sessionId: string): Promise<number> {
    const table = await this.tableFor(namespace);
    if (!table) return 1;
    const rows = await readRows(
      table
        .query()
        .where(and(this.inNamespace(namespace), `${col('session_id')} = ${sqlStr(sessionId)}`))
        .select(['ord'])
        .orderBy({ columnName: 'ord', ascending: false })
        .limit(1),
    );
    return rows[0] === undefined ? 1 : Number(rows[0].ord) + 1;
  }

  /**
   * Inserts or replaces whole memories in one commit per agent table (a call
   * acts for one agent, so one commit), so a crash leaves all of them or none.
   * Call under the write lock.
   */
  async upsert(memories: readonly StoredMemory[]): Promise<void> {
    const byNamespace = new Map<string, StoredMemory[]>();
    for (const m of memories) byNamespace.set(m.namespace, [...(byNamespace.get(m.namespace) ?? []), m]);
    for (const [namespace, group] of byNamespace) {
      const rows = group.map((m) => this.toRow(m));
      const table = (await this.tableFor(namespace, { create: true }))!;
      await withRetry('write', () => table.mergeInsert('pk').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
    }
  }

  /** Deletes these ids of `namespace` in one commit. Call under the write lock. */
  async delete(namespace: string, ids: readonly string[]): Promise<void> {
    const table = await this.tableFor(namespace);
    if (ids.length === 0 || !table) return;
    const pks = ids.map((id) => pkOf(namespace, id));
    await withRetry('delete', () => table.delete(`${col('pk')} IN (${sqlStrList(pks)})`));
  }

  /** Deletes memories that expired before `now` (they are never returned anyway). */
  async purgeExpired(now: number): Promise<number> {
    return this.exclusive(async () => {
      const where = `${col('expires_at')} IS NOT NULL AND ${col('expires_at')} <= ${sqlTimestamp(now)}`;
      let total = 0;
      for (const table of await this.db.memoryTables()) {
        const count = await withRetry('count expired', () => table.countRows(where), 1);
        if (count > 0) await withRetry('purge expired', () => table.delete(where));
        total += count;
      }
      return total;
    });
  }

  private toRow(m: StoredMemory): Record<string, unknown> {
    const vector = m.vector;
    // LanceDB pads or truncates a wrong-length vector without a word; refuse it here.
    if (!vector || vector.length !== this.dim) {
      throw new StorageError(`vector for ${m.id} has ${vector?.length ?? 0} dimensions, the database has ${this.dim}`);
    }
    return {
      pk: pkOf(m.namespace, m.id),
      id: m.id,
      namespace: m.namespace,
      agent_id: m.agent_id,
      session_id: m.session_id,
      ord: m.ord,
      content: m.content,
      content_hash: m.content_hash,
      search_text: searchText(m.content, m.title, m.metadata),
      type: m.type,
      title: m.title,
      tags: m.tags,
      metadata: JSON.stringify(m.metadata),
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
      vector: Array.from(vector),
    };
  }
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
