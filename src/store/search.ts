import type { StoredMemory } from '../model.js';
import { type SearchFilter, compileFilter, metadataMatches } from './filter.js';
import { fromRow, liveIn, type MemoryStore } from './memories.js';
import { recordColumns } from './schema.js';
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
 * Ranking constants. Chosen by measurement on the LoCoMo dev split (see
 * bench/RESULTS.md), not tuned per conversation.
 */
export const RANKING = {
  /** Candidates fetched from each index before re-ranking. */
  candidates: 100,
  /** Share of a neighbour's text score a memory receives (the answer often sits next to the matching turn). */
  neighbourWeight: 0.3,
  /** BM25 → [0, 1]: s / (s + textScale). */
  textScale: 4,
  /** Hybrid: weight of the calibrated text score; the vector score gets the rest. */
  hybridTextWeight: 0.8,
  /** Recency boost half-life. */
  recencyHalfLifeMs: 30 * 86_400_000,
};

interface Candidate {
  memory: StoredMemory;
  text: number;
  vector: number;
}

const COLUMNS = [...recordColumns];

/** batch_search's retrieval and ranking over one namespace. */
export class Searcher {
  constructor(private readonly store: MemoryStore) {}

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const where = and(liveIn(req.namespace, req.now), compileFilter(req.filter));
    const fetch = Math.max(RANKING.candidates, req.limit * 3) * (req.filter.metadata ? 3 : 1);
    const pool = new Map<string, Candidate>();
    const entry = (row: Record<string, unknown>): Candidate => {
      const id = String(row.id);
      let c = pool.get(id);
      if (!c) pool.set(id, (c = { memory: fromRow(row), text: 0, vector: 0 }));
      return c;
    };

    const text = ftsQueryText(req.query);
    if (req.mode !== 'vector' && text !== '') {
      const rows = await this.store.table.query().fullTextSearch(text, { columns: 'search_text' }).where(where).select(COLUMNS).limit(fetch).toArray();
      for (const row of rows) entry(row).text = Number(row._score);
    }
    if (req.mode !== 'text' && req.vector) {
      const rows = await this.store.table
        .vectorSearch(req.vector)
        .distanceType('cosine')
        .where(where)
        .select([...COLUMNS, '_distance'])
        .limit(fetch)
        .toArray();
      for (const row of rows) entry(row).vector = Math.min(1, Math.max(0, 1 - Number(row._distance)));
    }

    await this.addNeighbourScores(req, where, pool);

    let hits: SearchHit[] = [];
    for (const c of pool.values()) {
      if (req.filter.metadata && !metadataMatches(c.memory.metadata, req.filter.metadata)) continue;
      const score = applyBoost(combine(req.mode, c), c.memory, req);
      if (score > 0 && score >= req.minScore) hits.push({ memory: c.memory, score });
    }
    hits.sort((a, b) => b.score - a.score || b.memory.created_at - a.memory.created_at || (a.memory.id < b.memory.id ? -1 : 1));
    hits = hits.slice(0, req.limit);
    if (req.context > 0) await this.attachContext(req, hits);
    return hits;
  }

  /**
   * Gives each memory a share of its session neighbours' scores (the memories
   * written just before and after it), and lets a neighbour that did not match
   * on its own enter the ranking: in conversation, the answer is often the
   * reply next to the turn that matches the question.
   */
  private async addNeighbourScores(req: SearchRequest, where: string, pool: Map<string, Candidate>): Promise<void> {
    if (RANKING.neighbourWeight <= 0 || pool.size === 0) return;
    const bySlot = new Map<string, Candidate>();
    const slot = (m: StoredMemory, ord: number) => `${m.session_id}#${ord}`;
    for (const c of pool.values()) bySlot.set(slot(c.memory, c.memory.ord), c);

    const wanted = new Map<string, Set<number>>();
    for (const c of pool.values()) {
      for (const ord of [c.memory.ord - 1, c.memory.ord + 1]) {
        if (ord < 1 || bySlot.has(slot(c.memory, ord))) continue;
        const set = wanted.get(c.memory.session_id) ?? new Set();
        set.add(ord);
        wanted.set(c.memory.session_id, set);
      }
    }
    if (wanted.size > 0) {
      const bySession = [...wanted].map(([s, ords]) => `${col('session_id')} = ${sqlStr(s)} AND ${col('ord')} IN (${[...ords].join(', ')})`);
      const rows = await this.store.table.query().where(and(where, bySession.map((p) => `(${p})`).join(' OR '))).select(COLUMNS).toArray();
      for (const row of rows) {
        const m = fromRow(row);
        if (!pool.has(m.id)) {
          const c = { memory: m, text: 0, vector: 0 };
          pool.set(m.id, c);
          bySlot.set(slot(m, m.ord), c);
        }
      }
    }

    const ownScores = new Map([...pool.values()].map((c) => [c, { text: c.text, vector: c.vector }]));
    for (const c of pool.values()) {
      for (const ord of [c.memory.ord - 1, c.memory.ord + 1]) {
        const n = bySlot.get(slot(c.memory, ord));
        if (!n) continue;
        const s = ownScores.get(n)!;
        c.text += RANKING.neighbourWeight * s.text;
      }
    }
  }

  private async attachContext(req: SearchRequest, hits: SearchHit[]): Promise<void> {
    const wanted = new Map<string, Set<number>>();
    for (const { memory: m } of hits) {
      const set = wanted.get(m.session_id) ?? new Set();
      for (let d = 1; d <= req.context; d++) {
        if (m.ord - d >= 1) set.add(m.ord - d);
        set.add(m.ord + d);
      }
      wanted.set(m.session_id, set);
    }
    const bySession = [...wanted].map(([s, ords]) => `(${col('session_id')} = ${sqlStr(s)} AND ${col('ord')} IN (${[...ords].join(', ')}))`);
    const rows = await this.store.table
      .query()
      .where(and(liveIn(req.namespace, req.now), bySession.join(' OR ')))
      .select(['id', 'session_id', 'ord', 'content', 'created_at'])
      .toArray();
    const bySlot = new Map(rows.map((r) => [`${String(r.session_id)}#${Number(r.ord)}`, r]));
    for (const hit of hits) {
      const m = hit.memory;
      const context: Neighbour[] = [];
      for (let ord = m.ord - req.context; ord <= m.ord + req.context; ord++) {
        const r = ord === m.ord ? undefined : bySlot.get(`${m.session_id}#${ord}`);
        if (r) context.push({ id: String(r.id), content: String(r.content), created_at: Number(r.created_at) });
      }
      hit.context = context;
    }
  }
}

function combine(mode: SearchMode, c: Candidate): number {
  const text = c.text / (c.text + RANKING.textScale);
  if (mode === 'text') return text;
  if (mode === 'vector') return c.vector;
  return RANKING.hybridTextWeight * text + (1 - RANKING.hybridTextWeight) * c.vector;
}

/** Optional per-query boosts: a weighted average of the score and the memory's own signals, so it stays in [0, 1]. */
export function applyBoost(score: number, m: StoredMemory, req: SearchRequest): number {
  const b = req.boost;
  if (!b || score <= 0) return score;
  const wr = b.recency ?? 0;
  const wi = b.importance ?? 0;
  const wp = b.pinned ?? 0;
  if (wr + wi + wp === 0) return score;
  const recency = Math.pow(0.5, Math.max(0, req.now - m.updated_at) / RANKING.recencyHalfLifeMs);
  return (score + wr * recency + wi * m.importance + wp * (m.pinned ? 1 : 0)) / (1 + wr + wi + wp);
}
