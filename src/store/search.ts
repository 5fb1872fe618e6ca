import type { Table } from '@lancedb/lancedb';
import type { StoredMemory } from '../model.js';
import { type SearchFilter, compileFilter, metadataMatches } from './filter.js';
import { readRows, type MemoryStore } from './memories.js';
import { and, col, sqlStr } from './sql.js';
import { ftsQueryText } from './text.js';

export type SearchMode = 'hybrid' | 'vector' | 'text';

export interface Boost {
  recency?: number;
  importance?: number;
  pinned?: number;
}

export interface SearchRequest {
  namespace: string;
  now: number;
  query: string;
  /** The query's embedding; needed for `vector` and `hybrid`. */
  vector?: Float32Array;
  mode: SearchMode;
  limit: number;
  minScore: number;
  filter: SearchFilter;
  /** Neighbours to return on each side of every hit (0–5). */
  context: number;
  boost?: Boost;
}

export interface Neighbour {
  id: string;
  content: string;
  created_at: number;
}

export interface SearchHit {
  memory: StoredMemory;
  score: number;
  context?: Neighbour[];
}

/**
 * Ranking constants, chosen by measurement on the LoCoMo dev split and checked
 * by leave-one-conversation-out (bench/RESULTS.md), never tuned per dataset.
 */
export const RANKING = {
  /** Candidates fetched from each index before re-ranking. */
  candidates: 100,
  /** How far (in write order) a matching memory lends its score to its session neighbours. */
  neighbourReach: 2,
  /** Each step further away lends this much less. */
  neighbourDecay: 0.7,
  /** Share lent to the memories written after a match: the reply to what matched. */
  forwardWeight: 0.5,
  /** …raised for the memory right after a question, which is usually its answer. */
  replyWeight: 0.8,
  /** Share lent to the memories written before a match. */
  backwardWeight: 0.3,
  /** Every memory gets this share of the best match in its session: topics cluster in sessions. */
  sessionWeight: 0.2,
  /**
   * Vector mode lends evidence to session neighbours too, but of the sharpened
   * similarity exp((cosine − 1) / sharpness): hashed-embedding cosines are
   * flat (a typical hit 0.4, a miss 0.25), so lending raw cosine lets every
   * neighbour of anything drown the real matches (−11 points of recall@10);
   * sharpened, it gains ~10. Chosen on LoCoMo dev with the local embedder from
   * a grid (sharpness 0.07–0.15, shares 0.1–0.5) and checked by
   * leave-one-conversation-out; the vector shares are lower than text's
   * because cosine ranks its own best matches less reliably than BM25.
   */
  vectorSharpness: 0.1,
  vectorForwardWeight: 0.3,
  vectorBackwardWeight: 0.2,
  /** Hybrid: cosine similarity (0–1) is added with this weight to the text evidence. */
  vectorWeight: 2,
  /** Text evidence k → score k / (k + scale): a typical relevant hit scores about 0.5. */
  scoreScale: 15,
  /** Recency boost half-life. */
  recencyHalfLifeMs: 30 * 86_400_000,
};

/**
 * Ranking needs only these; whole records are read for the final hits alone
 * (reading every column of 100+ candidates was most of a query's time).
 */
const RANK_COLUMNS = ['id', 'session_id', 'ord', 'content', 'metadata', 'importance', 'pinned', 'created_at', 'updated_at'];
type Ranked = Pick<
  StoredMemory,
  'id' | 'session_id' | 'ord' | 'content' | 'metadata' | 'importance' | 'pinned' | 'created_at' | 'updated_at'
>;

const slotOf = (sessionId: string, ord: number) => `${sessionId}#${ord}`;

/** batch_search's retrieval and ranking over one namespace. */
export class Searcher {
  constructor(private readonly store: MemoryStore) {}

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const table = await this.store.tableFor(req.namespace);
    if (!table) return [];
    const where = and(this.store.liveIn(req.namespace, req.now), compileFilter(req.filter));
    // The same candidates whatever `limit` is (it is at most 100), so a memory's score
    // never depends on `limit`. A metadata filter is confirmed after retrieval (see
    // compileFilter), so it fetches more.
    const fetch = RANKING.candidates * (req.filter.metadata ? 3 : 1);
    const memories = new Map<string, Ranked>();
    const keep = (row: Record<string, unknown>): string => {
      const id = String(row.id);
      if (!memories.has(id)) memories.set(id, rankedFromRow(row));
      return id;
    };

    const bm25 = new Map<string, number>();
    const text = ftsQueryText(req.query);
    if (req.mode !== 'vector' && text !== '') {
      const rows = await readRows(
        table
          .query()
          .fullTextSearch(text, { columns: 'search_text' })
          .where(where)
          .select([...RANK_COLUMNS, '_score'])
          .limit(fetch),
      );
      for (const row of rows) bm25.set(keep(row), Number(row._score));
    }
    const cosine = new Map<string, number>();
    if (req.mode !== 'text' && req.vector) {
      const rows = await readRows(
        table
          .vectorSearch(req.vector)
          .distanceType('cosine')
          .where(where)
          .select([...RANK_COLUMNS, '_distance'])
          .limit(fetch),
      );
      for (const row of rows) cosine.set(keep(row), Math.max(0, Math.min(1, 1 - Number(row._distance))));
    }

    const scores = new Map<string, number>();
    if (req.mode === 'vector') {
      // Score = the cosine that alone would earn this evidence: a memory with
      // no help from its neighbours scores exactly its cosine similarity.
      const tau = RANKING.vectorSharpness;
      const sharp = new Map([...cosine].map(([id, c]) => [id, Math.exp((c - 1) / tau)]));
      const kernel = { forward: RANKING.vectorForwardWeight, reply: RANKING.replyWeight, backward: RANKING.vectorBackwardWeight };
      const evidence = await this.sessionEvidence(table, sharp, memories, where, kernel);
      for (const [id, e] of evidence) scores.set(id, Math.max(0, Math.min(1, 1 + tau * Math.log(e))));
    } else {
      const kernel = { forward: RANKING.forwardWeight, reply: RANKING.replyWeight, backward: RANKING.backwardWeight };
      const evidence = await this.sessionEvidence(table, bm25, memories, where, kernel);
      for (const [id, c] of cosine) evidence.set(id, (evidence.get(id) ?? 0) + RANKING.vectorWeight * c);
      for (const [id, k] of evidence) scores.set(id, k / (k + RANKING.scoreScale));
    }

    const ranked: Array<{ memory: Ranked; score: number }> = [];
    for (const [id, base] of scores) {
      const memory = memories.get(id)!;
      if (req.filter.metadata && !metadataMatches(memory.metadata, req.filter.metadata)) continue;
      // Rounded here, so `min_score` compares exactly the score the caller sees.
      const score = Math.round(applyBoost(base, memory, req) * 1e6) / 1e6;
      if (score > 0 && score >= req.minScore) ranked.push({ memory, score });
    }
    ranked.sort((a, b) => b.score - a.score || b.memory.created_at - a.memory.created_at || (a.memory.id < b.memory.id ? -1 : 1));
    const top = ranked.slice(0, req.limit);
    const records = await this.store.getMany(
      req.namespace,
      top.map((r) => r.memory.id),
      req.now,
    );
    // A hit deleted between ranking and reading is simply not returned.
    const hits = top.flatMap(({ memory, score }) => {
      const record = records.get(memory.id);
      return record ? [{ memory: record, score }] : [];
    });
    if (req.context > 0) await this.attachContext(table, req, hits);
    return hits;
  }

  /**
   * Match evidence (BM25, or sharpened cosine in vector mode) with session
   * context. A matching memory lends part of its score to the memories written
   * just after it (more if it asked a question) and before it, within its
   * session, and every memory gets a little of the best match in its session.
   * In conversation the answer is often the reply next to the turn that
   * matches the question; measured on LoCoMo this is worth about 10 points of
   * recall@10. Neighbours that did not match on their
   * own are fetched (through the same filter) and can enter the ranking.
   */
  private async sessionEvidence(
    table: Table,
    own: Map<string, number>,
    memories: Map<string, Ranked>,
    where: string,
    kernel: { forward: number; reply: number; backward: number },
  ): Promise<Map<string, number>> {
    const evidence = new Map<string, number>();
    if (own.size === 0) return evidence;
    const bySlot = new Map<string, Ranked>();
    for (const m of memories.values()) bySlot.set(slotOf(m.session_id, m.ord), m);

    const missing = new Map<string, Set<number>>();
    for (const id of own.keys()) {
      const m = memories.get(id)!;
      for (let k = 1; k <= RANKING.neighbourReach; k++) {
        for (const ord of [m.ord - k, m.ord + k]) {
          if (ord < 1 || bySlot.has(slotOf(m.session_id, ord))) continue;
          const set = missing.get(m.session_id) ?? new Set<number>();
          missing.set(m.session_id, set.add(ord));
        }
      }
    }
    for (const row of await slots(table, missing, where, RANK_COLUMNS)) {
      const m = rankedFromRow(row);
      if (!memories.has(m.id)) memories.set(m.id, m);
      bySlot.set(slotOf(m.session_id, m.ord), m);
    }

    const add = (id: string, v: number) => evidence.set(id, (evidence.get(id) ?? 0) + v);
    const bestInSession = new Map<string, number>();
    for (const [id, s] of own) {
      const m = memories.get(id)!;
      add(id, s);
      bestInSession.set(m.session_id, Math.max(bestInSession.get(m.session_id) ?? 0, s));
      for (let k = 1; k <= RANKING.neighbourReach; k++) {
        const decay = RANKING.neighbourDecay ** (k - 1);
        const forward = k === 1 && m.content.includes('?') ? kernel.reply : kernel.forward;
        const after = bySlot.get(slotOf(m.session_id, m.ord + k));
        const before = bySlot.get(slotOf(m.session_id, m.ord - k));
        if (after) add(after.id, forward * decay * s);
        if (before) add(before.id, kernel.backward * decay * s);
      }
    }
    for (const [id, v] of evidence) evidence.set(id, v + RANKING.sessionWeight * (bestInSession.get(memories.get(id)!.session_id) ?? 0));
    return evidence;
  }

  /** Up to `context` memories on each side of every hit, in write order (not filtered: context is context). */
  private async attachContext(table: Table, req: SearchRequest, hits: SearchHit[]): Promise<void> {
    const wanted = new Map<string, Set<number>>();
    for (const { memory: m } of hits) {
      const set = wanted.get(m.session_id) ?? new Set<number>();
      for (let d = 1; d <= req.context; d++) set.add(m.ord - d).add(m.ord + d);
      wanted.set(m.session_id, set);
    }
    const rows = await slots(table, wanted, this.store.liveIn(req.namespace, req.now), ['id', 'session_id', 'ord', 'content', 'created_at']);
    const bySlot = new Map(rows.map((r) => [slotOf(String(r.session_id), Number(r.ord)), r]));
    for (const hit of hits) {
      const m = hit.memory;
      hit.context = [];
      for (let ord = m.ord - req.context; ord <= m.ord + req.context; ord++) {
        const r = ord === m.ord ? undefined : bySlot.get(slotOf(m.session_id, ord));
        if (r) hit.context.push({ id: String(r.id), content: String(r.content), created_at: Number(r.created_at) });
      }
    }
  }
}

/**
 * Optional per-query boosts. Multiplicative, so relevance stays in charge: a
 * memory that barely matches stays low however important it is, and with
 * every signal at its maximum the score is unchanged; the result stays in [0, 1].
 */
export function applyBoost(score: number, m: Pick<StoredMemory, 'importance' | 'pinned' | 'updated_at'>, req: SearchRequest): number {
  const b = req.boost;
  if (!b || score <= 0) return score;
  const wr = b.recency ?? 0;
  const wi = b.importance ?? 0;
  const wp = b.pinned ?? 0;
  const weights = wr + wi + wp;
  if (weights === 0) return score;
  const recency = Math.pow(0.5, Math.max(0, req.now - m.updated_at) / RANKING.recencyHalfLifeMs);
  const signal = wr * recency + wi * m.importance + wp * (m.pinned ? 1 : 0);
  return (score * (1 + signal)) / (1 + weights);
}

/** Rows at these (session, write-order) positions that also satisfy `where`. */
async function slots(table: Table, wanted: Map<string, Set<number>>, where: string, columns: string[]): Promise<Record<string, unknown>[]> {
  if (wanted.size === 0) return [];
  const bySession = [...wanted].map(([s, ords]) => `(${col('session_id')} = ${sqlStr(s)} AND ${col('ord')} IN (${[...ords].join(', ')}))`);
  return readRows(
    table
      .query()
      .where(and(where, bySession.join(' OR ')))
      .select(columns),
  );
}

function rankedFromRow(row: Record<string, unknown>): Ranked {
  return {
    id: String(row.id),
    session_id: String(row.session_id),
    ord: Number(row.ord),
    content: String(row.content),
    metadata: JSON.parse(String(row.metadata ?? '{}')) as Record<string, unknown>,
    importance: Number(row.importance),
    pinned: Boolean(row.pinned),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}
