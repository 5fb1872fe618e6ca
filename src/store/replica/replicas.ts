import type { Table } from '@lancedb/lancedb';
import { StorageError } from '../../errors.js';
import { log } from '../../log.js';
import { timed, timedSync } from '../../timing.js';
import { collectGarbage } from './collect.js';
import { col, sqlStr } from '../sql.js';
import { strings } from './columns.js';
import { readAhead } from './read-ahead.js';
import { AgentReplica, REPLICA_COLUMNS, type ReplicaRow } from './replica.js';

/**
 * Keeps one AgentReplica per memories table in step with LanceDB.
 *
 * - Own writes are applied as they commit (`applyWrite`), so the next call
 *   needs no query at all.
 * - Another process's writes are found by one version check per call (about
 *   0.1 ms idle, a native round trip; `readConsistencyInterval: 0` makes it
 *   look at the latest manifest): the items of one call share it, so the ten
 *   queries of a batch_search see one snapshot. When the version moved: the rows with a write sequence above
 *   the replica's highest (`seq` is assigned under the write lock, so every
 *   newer write has a larger one) and the row count. A count lower than
 *   expected means rows were deleted: the table's keys are read to find which.
 *   Anything still unexplained (rows written without a sequence, another
 *   program) rebuilds the replica from the table.
 * - Compaction moves the version without changing rows: one empty query and
 *   a count.
 *
 * All changes to one replica run one after another (catch-up, own writes,
 * rebuilds), so a catch-up based on an older snapshot can never undo a newer
 * own write. Reads run synchronously between them.
 */
export class ReplicaSet {
  // Keyed by the handle itself: even `table.name` borrows the native table, which fails
  // ("cannot be borrowed mutably") while another call on it is in flight.
  private readonly replicas = new Map<Table, Entry>();

  /** `namespaceWall`: false only in tests that take that wall away (see WallRemovedForTests). */
  constructor(
    private readonly provider: string,
    private readonly dim: number,
    private readonly namespaceWall = true,
  ) {}

  /**
   * The replica of `table`, in step with the table's latest version.
   *
   * `holding` (WriteLock.holding): while this process holds the write lock,
   * one version check per holding is enough. Other memlane processes cannot
   * change rows until it is released, and what can still move the version
   * meanwhile (a compaction or index update) changes no row. A write call
   * reads the replica three or four times under the lock (ids, content
   * hashes, write order, the commit): one check instead of four, and a native
   * round trip that costs 0.1 ms idle and up to 10 ms on a busy machine.
   *
   * `call` (timing.ts currentCall): outside a holding, one check per tool call
   * is enough, since another process's write needs only be seen by the next
   * call. Never used under the lock: a write call's check before the lock (to
   * decide what to embed) does not stand in for the one under it.
   */
  async fresh(table: Table, label: string, holding?: number, call?: object): Promise<AgentReplica> {
    const entry = this.entry(table, label);
    return entry.run(async () => {
      // The holding when there is one (a number), else the call (an object): never equal to each other.
      const by = holding ?? call;
      if (entry.replica && by !== undefined && entry.checkedBy === by) return entry.replica;
      const version = await timed('version check', () => versionOf(table, label));
      entry.checkedBy = by;
      if (entry.replica && entry.replica.version === version) return entry.replica;
      const stage = entry.replica ? 'catch-up' : 'replica load';
      entry.replica = await timed(stage, async () =>
        entry.replica && !tooSparse(entry.replica)
          ? await catchUp(entry.replica, table, label, version, this.make)
          : await load(table, label, this.make),
      );
      return entry.replica;
    });
  }

  /**
   * Records this process's own committed write: `version` is what the commit
   * returned. Skips nothing: if the replica was not at `version - 1` (another
   * commit came between), the rows are applied anyway and the next `fresh`
   * reconciles the rest.
   */
  async applyWrite(table: Table, label: string, version: number, write: { upserts?: readonly ReplicaRow[]; deletes?: readonly string[] }): Promise<void> {
    const entry = this.entry(table, label);
    await timed('replica apply', () => entry.run(async () => {
      const replica = entry.replica;
      if (!replica) return; // loaded from the table (with this write) at its first use
      if (write.deletes) replica.delete(write.deletes);
      if (write.upserts) replica.upsert(write.upserts);
      if (replica.version === version - 1) replica.version = version;
    }));
  }

  private readonly make = () => new AgentReplica(this.provider, this.dim, this.namespaceWall);

  /** Drops every replica (the tables were replaced, e.g. by `reembed`). */
  clear(): void {
    this.replicas.clear();
  }

  private entry(table: Table, label: string): Entry {
    let e = this.replicas.get(table);
    if (!e) this.replicas.set(table, (e = new Entry(label)));
    return e;
  }
}

class Entry {
  replica: AgentReplica | undefined;
  /** What the version was last checked for: a write-lock holding, or a tool call outside one (see ReplicaSet.fresh). */
  checkedBy: number | object | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly label: string) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Rebuild when more than half the slots are dead (and it is worth it). */
const tooSparse = (r: AgentReplica) => r.dead > 1_000 && r.dead > r.size;

async function versionOf(table: Table, label: string): Promise<number> {
  try {
    return await table.version();
  } catch (err) {
    throw new StorageError(`reading the version of the memories of ${label} failed: ${message(err)}`, { cause: err });
  }
}

/** Builds a replica from every row of the table, a batch at a time. */
async function load(table: Table, label: string, make: () => AgentReplica): Promise<AgentReplica> {
  const started = performance.now();
  const replica = make();
  const dim = replica.dim;
  // The version first: rows committed during the scan are caught up again (idempotently) at the next call.
  replica.version = await versionOf(table, label);
  const ranges = await loadRanges(table, label);
  for (const where of ranges) {
    await readBatches(table, label, where, (rows) => replica.upsert(rows), dim);
    // The range's record batches are garbage now: freed at once rather than when V8 gets to them (see collect.ts).
    if (ranges.length > 1) timedSync('load gc', collectGarbage);
  }
  replica.trim();
  log.debug(`replica of ${label}: ${replica.size} memories loaded in ${Math.round(performance.now() - started)} ms`);
  return replica;
}

async function catchUp(replica: AgentReplica, table: Table, label: string, version: number, make: () => AgentReplica): Promise<AgentReplica> {
  const dim = replica.dim;
  let changed = 0;
  await readBatches(table, label, `${col('seq')} > ${replica.maxSeq}`, (rows) => {
    changed += rows.length;
    replica.upsert(rows);
  }, dim);
  const count = await countOf(table, label);
  if (count < replica.size) {
    const present = await pksOf(table, label);
    const gone = [...replica.pks()].filter((pk) => !present.has(pk));
    replica.delete(gone);
    log.debug(`replica of ${label}: ${gone.length} memories deleted by another process`);
  }
  if ((await countOf(table, label)) !== replica.size) {
    // Rows this replica cannot account for: start again from the table.
    log.debug(`replica of ${label}: rebuilding (table ${count} rows, replica ${replica.size})`);
    return load(table, label, make);
  }
  if (changed > 0) log.debug(`replica of ${label}: ${changed} memories caught up to version ${version}`);
  replica.version = version;
  return replica;
}

async function countOf(table: Table, label: string): Promise<number> {
  try {
    return await table.countRows();
  } catch (err) {
    throw new StorageError(`counting the memories of ${label} failed: ${message(err)}`, { cause: err });
  }
}

/** Rows per range when a large table is loaded a range at a time. */
const LOAD_RANGE = 10_000;

/**
 * A large table is read in ranges of its key: one scan of everything keeps
 * far more of the vectors in flight at once (measured at 100,000 × 768-d:
 * 382 MB RSS for one scan, 265 MB in ranges of 10,000, about as fast).
 * Rows written meanwhile fall into some range or are caught up at the next call.
 */
async function loadRanges(table: Table, label: string): Promise<Array<string | undefined>> {
  if ((await countOf(table, label)) <= 2 * LOAD_RANGE) return [undefined];
  const keys = [...(await pksOf(table, label))].sort();
  const bounds: string[] = [];
  for (let i = LOAD_RANGE; i < keys.length; i += LOAD_RANGE) bounds.push(keys[i]!);
  return [undefined, ...bounds].map((lo, i) => {
    const hi = bounds[i];
    return [lo === undefined ? undefined : `${col('pk')} >= ${sqlStr(lo)}`, hi === undefined ? undefined : `${col('pk')} < ${sqlStr(hi)}`]
      .filter((c): c is string => c !== undefined)
      .join(' AND ');
  });
}

async function readBatches(table: Table, label: string, where: string | undefined, onRows: (rows: ReplicaRow[]) => void, dim: number): Promise<void> {
  try {
    const query = table.query().select(REPLICA_COLUMNS);
    await readAhead(where === undefined ? query : query.where(where), (batch) => onRows(AgentReplica.rowsOf(batch, dim)));
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError(`reading the memories of ${label} failed: ${message(err)}`, { cause: err });
  }
}

/** Every key in the table: one narrow column, ~40 ms at 100,000 rows. */
async function pksOf(table: Table, label: string): Promise<Set<string>> {
  const pks = new Set<string>();
  try {
    await readAhead(table.query().select(['pk']), (batch) => {
      const pk = strings(batch.getChild('pk')!);
      for (let i = 0; i < batch.numRows; i++) pks.add(pk(i)!);
    });
  } catch (err) {
    throw new StorageError(`reading the keys of the memories of ${label} failed: ${message(err)}`, { cause: err });
  }
  return pks;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
