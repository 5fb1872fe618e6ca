import type { RecordBatch } from 'apache-arrow';
import type { StoredMemory } from '../../model.js';
import type { SearchFilter } from '../filter.js';
import { searchText } from '../text.js';
import { analyze } from './analyzer.js';
import { Bm25Index, type TextMatch } from './bm25.js';
import { booleans, numbers, stringLists, strings } from './columns.js';
import { grown } from './growable.js';
import { memoryPredicate } from './predicate.js';
import { type VectorIndex, vectorIndexFor } from './vectors.js';

/** A memory as a table row carries it: the record, its key and write sequence, and its vector. */
export interface ReplicaRow {
  pk: string;
  seq: number;
  memory: StoredMemory;
  vector: Float32Array;
  /** The memory's full-text terms (indexTerms), when already worked out. */
  terms?: readonly string[];
}

/** What the full-text postings hold of a memory: its analysed title, content and short metadata strings. */
export function indexTerms(m: StoredMemory): string[] {
  return analyze(searchText(m.content, m.title, m.metadata));
}

const interned = new Map<string, string>();

/** One copy of a string that many rows hold (bounded: a table of unique values must not grow it for ever). */
function intern(s: string): string {
  const held = interned.get(s);
  if (held !== undefined) return held;
  if (interned.size < 50_000) interned.set(s, s);
  return s;
}

/** Columns a replica reads from its table. */
export const REPLICA_COLUMNS = [
  'pk',
  'seq',
  'id',
  'namespace',
  'agent_id',
  'session_id',
  'ord',
  'content',
  'content_hash',
  'type',
  'title',
  'tags',
  'metadata',
  'confidence',
  'importance',
  'source',
  'provenance',
  'pinned',
  'immutable',
  'expires_at',
  'created_at',
  'updated_at',
  'version',
  'vector',
];



/**
 * Everything ranking and the write decisions need of one memories table, in
 * memory: every record (without its vector), the full-text postings, the
 * vectors in a searchable layout, and the lookups by id, content hash and
 * (session, write order). It mirrors one LanceDB table at one `version`;
 * `ReplicaSet` keeps it in step with the table (its own writes applied as
 * they commit, other processes' writes caught up at the next call).
 *
 * Slots are append-only: an overwritten or deleted memory leaves a dead slot
 * behind (skipped everywhere) until the replica is rebuilt from the table.
 */
export class AgentReplica {
  /** The table version this replica reflects (-1: not yet known). */
  version = -1;
  /** The highest write sequence number among its rows. */
  maxSeq = 0;
  private readonly records: Array<StoredMemory | undefined> = [];
  private alive = new Uint8Array(1024);
  private readonly slotByPk = new Map<string, number>();
  /**
   * Content hash → live slots holding it (usually one). Keyed by the hash
   * alone (the row's own string, no second copy: ~10 MB at 100,000 memories);
   * idByHash checks each slot's namespace, the wall every lookup keeps.
   */
  private readonly byHash = new Map<string, number | number[]>();
  /** namespace + session → write order → slot. */
  private readonly bySession = new Map<string, Map<number, number>>();
  /** namespace + session → highest write order ever stored (also of expired rows). */
  private readonly maxOrd = new Map<string, number>();
  private readonly bm25 = new Bm25Index();
  private readonly vectors: VectorIndex;
  private liveCount = 0;

  /** `namespaceWall`: false only in tests that take that wall away (see WallRemovedForTests). */
  constructor(
    readonly provider: string,
    readonly dim: number,
    private readonly namespaceWall = true,
  ) {
    this.vectors = vectorIndexFor(provider, dim);
  }

  /** Lookup keys are per namespace: one agent's hash or session never finds another's memory. */
  private key(namespace: string, s: string): string {
    return this.namespaceWall ? `${namespace}\u0000${s}` : s;
  }

  /** The test a memory must pass to be found by a search of `namespace` with `filter` at `now`. */
  predicate(namespace: string, now: number, filter: SearchFilter): (m: StoredMemory) => boolean {
    return memoryPredicate(this.namespaceWall ? namespace : undefined, now, filter);
  }

  /** The namespace wall of every lookup. */
  inNamespace(m: StoredMemory, namespace: string): boolean {
    return !this.namespaceWall || m.namespace === namespace;
  }

  /** Rows held (the table's row count when in step). */
  get size(): number {
    return this.liveCount;
  }

  /** Slots no longer holding a current row. */
  get dead(): number {
    return this.records.length - this.liveCount;
  }

  has(pk: string): boolean {
    return this.slotByPk.has(pk);
  }

  pks(): IterableIterator<string> {
    return this.slotByPk.keys();
  }

  /** Inserts or replaces rows (by pk). Idempotent: applying a row twice is applying it once. */
  upsert(rows: Iterable<ReplicaRow>): void {
    for (const row of rows) {
      this.remove(row.pk);
      this.insert(row);
    }
  }

  /** Gives back the index space that loading left unused (growth by doubling): ~20% of it at 100,000 memories. */
  trim(): void {
    this.bm25.trim();
    this.vectors.trim();
  }

  /** Removes rows by pk; unknown pks are ignored. */
  delete(pks: Iterable<string>): void {
    for (const pk of pks) this.remove(pk);
  }

  /** The live memory with this id in `namespace`, if any (expired ones only with `includeExpired`). */
  get(namespace: string, id: string, now: number, includeExpired = false): StoredMemory | undefined {
    const slot = this.slotByPk.get(`${namespace}/${id}`) ?? (this.namespaceWall ? undefined : this.records.findIndex((r) => r?.id === id));
    const m = slot === undefined ? undefined : this.records[slot];
    if (!m || !this.inNamespace(m, namespace)) return undefined;
    return includeExpired || m.expires_at === null || m.expires_at > now ? m : undefined;
  }

  /** The oldest live memory of `namespace` whose normalised content has this hash. */
  idByHash(namespace: string, hash: string, now: number): string | undefined {
    const entry = this.byHash.get(hash);
    if (entry === undefined) return undefined;
    let best: StoredMemory | undefined;
    for (const slot of typeof entry === 'number' ? [entry] : entry) {
      const m = this.records[slot];
      if (!m || !this.inNamespace(m, namespace) || (m.expires_at !== null && m.expires_at <= now)) continue;
      if (!best || m.created_at < best.created_at || (m.created_at === best.created_at && m.id < best.id)) best = m;
    }
    return best?.id;
  }

  /** The next write-order number in a session (1 for its first memory). */
  nextOrd(namespace: string, sessionId: string): number {
    return (this.maxOrd.get(this.key(namespace, sessionId)) ?? 0) + 1;
  }

  /** The slot at (session, write order) in `namespace`, if a row holds it. */
  slotAt(namespace: string, sessionId: string, ord: number): number | undefined {
    return this.bySession.get(this.key(namespace, sessionId))?.get(ord);
  }

  memoryAt(slot: number): StoredMemory | undefined {
    return this.records[slot];
  }

  /** BM25 candidates: the `k` best live slots that `accept` lets through. */
  textSearch(terms: readonly string[], k: number, accept: (m: StoredMemory) => boolean): TextMatch[] {
    return this.bm25.search(terms, k, this.alive, (slot) => accept(this.records[slot]!));
  }

  /** See Bm25Index.idfMass. */
  idfMass(terms: readonly string[]): number {
    return this.bm25.idfMass(terms);
  }

  /** Cosine candidates: the `k` most similar live slots that `accept` lets through. */
  vectorSearch(query: Float32Array, k: number, accept: (m: StoredMemory) => boolean): Array<{ slot: number; score: number }> {
    return this.vectors.search(query, k, this.alive, (slot) => accept(this.records[slot]!));
  }

  /** Every live memory of `namespace` (for counting and listing). */
  *memories(namespace: string): IterableIterator<StoredMemory> {
    for (const m of this.records) if (m && this.inNamespace(m, namespace)) yield m;
  }

  /** Decodes a LanceDB record batch of REPLICA_COLUMNS into rows. */
  static rowsOf(batch: RecordBatch, dim: number): ReplicaRow[] {
    const col = (name: string) => {
      const c = batch.getChild(name);
      if (!c) throw new Error(`replica: column ${name} missing from the table`);
      return c;
    };
    // Strings that repeat from row to row (namespace, session, type, source …) are kept once:
    // at 100,000 memories that is tens of MB and much of the garbage collector's work.
    const once = (v: string | null) => intern(v as string);
    const [pk, id, namespace, agent, session, content, hash, type, title, metadata, source, provenance] = [
      'pk', 'id', 'namespace', 'agent_id', 'session_id', 'content', 'content_hash', 'type', 'title', 'metadata', 'source', 'provenance',
    ].map((name) => strings(col(name)));
    const [seq, ord, confidence, importance, expires, created, updated, version] = [
      'seq', 'ord', 'confidence', 'importance', 'expires_at', 'created_at', 'updated_at', 'version',
    ].map((name) => numbers(col(name)));
    const [pinned, immutable] = ['pinned', 'immutable'].map((name) => booleans(col(name)));
    const tags = stringLists(col('tags'), once);
    const vectorData = col('vector').data[0]!;
    const values = vectorData.children[0]!.values as Float32Array;
    const base = vectorData.children[0]!.offset + vectorData.offset * dim;
    const rows: ReplicaRow[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const e = expires!(i);
      const meta = metadata!(i);
      const memory: StoredMemory = {
        id: id!(i) as string,
        namespace: once(namespace!(i)),
        agent_id: once(agent!(i)),
        session_id: once(session!(i)),
        ord: ord!(i) as number,
        content: content!(i) as string,
        content_hash: hash!(i) as string,
        type: once(type!(i)),
        title: title!(i),
        tags: tags(i) ?? [],
        metadata: meta === null || meta === '{}' ? {} : (JSON.parse(meta) as Record<string, unknown>),
        confidence: confidence!(i) as number,
        importance: importance!(i) as number,
        source: once(source!(i)),
        provenance: once(provenance!(i)),
        pinned: pinned!(i) === true,
        immutable: immutable!(i) === true,
        expires_at: e === null || Number.isNaN(e) ? null : e,
        created_at: created!(i) as number,
        updated_at: updated!(i) as number,
        version: version!(i) as number,
      };
      const start = base + i * dim;
      rows.push({ pk: pk!(i) as string, seq: seq!(i) ?? 0, memory, vector: values.subarray(start, start + dim) });
    }
    return rows;
  }

  private insert(row: ReplicaRow): void {
    const slot = this.records.length;
    const m = row.memory;
    this.records.push(m);
    if (slot >= this.alive.length) this.alive = grown(this.alive, slot + 1);
    this.alive[slot] = 1;
    this.slotByPk.set(row.pk, slot);
    const hk = m.content_hash;
    const held = this.byHash.get(hk);
    this.byHash.set(hk, held === undefined ? slot : typeof held === 'number' ? [held, slot] : [...held, slot]);
    const sk = this.key(m.namespace, m.session_id);
    let ords = this.bySession.get(sk);
    if (!ords) this.bySession.set(sk, (ords = new Map()));
    ords.set(m.ord, slot);
    if (m.ord > (this.maxOrd.get(sk) ?? 0)) this.maxOrd.set(sk, m.ord);
    this.bm25.add(slot, row.terms ?? indexTerms(m));
    this.vectors.add(slot, row.vector);
    if (row.seq > this.maxSeq) this.maxSeq = row.seq;
    this.liveCount++;
  }

  private remove(pk: string): void {
    const slot = this.slotByPk.get(pk);
    if (slot === undefined) return;
    const m = this.records[slot]!;
    this.slotByPk.delete(pk);
    this.records[slot] = undefined;
    this.alive[slot] = 0;
    const hk = m.content_hash;
    const held = this.byHash.get(hk);
    if (typeof held === 'number') this.byHash.delete(hk);
    else if (held) {
      const rest = held.filter((s) => s !== slot);
      if (rest.length === 1) this.byHash.set(hk, rest[0]!);
      else this.byHash.set(hk, rest);
    }
    const ords = this.bySession.get(this.key(m.namespace, m.session_id));
    if (ords?.get(m.ord) === slot) ords.delete(m.ord);
    this.bm25.remove(indexTerms(m));
    this.liveCount--;
  }
}
