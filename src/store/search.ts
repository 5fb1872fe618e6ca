import type { StoredMemory } from '../model.js';
import { currentTimer } from '../timing.js';
import type { SearchFilter } from './filter.js';
import type { MemoryStore } from './memories.js';
import { queryTerms } from './replica/analyzer.js';

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
  /** Also say why each hit ranked (SearchHit.explain). */
  explain?: boolean;
}

/**
 * Why a hit ranked where it did, in the terms of the ranking itself: its own
 * BM25 evidence (null when the mode reads no text), its cosine similarity to
 * the query (null when the mode reads no vectors), the share of its evidence
 * lent by others in its session (the memories next to it, and its session's
 * best match when that is another memory; 0–1), and the boost's factor on the
 * score (1 when no boost applies).
 */
export interface SearchExplain {
  text_evidence: number | null;
  vector_similarity: number | null;
  neighbour_share: number;
  boost: number;
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
  explain?: SearchExplain;
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
 * batch_search's retrieval and ranking over one namespace, on the in-memory
 * replica of its table (store/replica): candidates by BM25 and by cosine,
 * session-neighbour evidence, boosts, and the records of the hits, without a
 * query to LanceDB when nothing changed since the last call.
 */
export class Searcher {
  constructor(private readonly store: MemoryStore) {}

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const replica = await this.store.replicaFor(req.namespace);
    if (!replica) return [];
    const accept = replica.predicate(req.namespace, req.now, req.filter);
    // The same candidates whatever `limit` is (it is at most 100), so a memory's score
    // never depends on `limit`; the filter is exact here, so candidates are all matches.
    const memories = new Map<string, StoredMemory>();
    const keep = (slot: number): string => {
      const m = replica.memoryAt(slot)!;
      memories.set(m.id, m);
      return m.id;
    };

    const retrieving = performance.now();
    const bm25 = new Map<string, number>();
    const terms = queryTerms(req.query);
    if (req.mode !== 'vector' && terms.length > 0) {
      for (const { slot, score } of replica.textSearch(terms, RANKING.candidates, accept)) bm25.set(keep(slot), score);
    }
    const cosine = new Map<string, number>();
    if (req.mode !== 'text' && req.vector) {
      for (const { slot, score } of replica.vectorSearch(req.vector, RANKING.candidates, accept)) cosine.set(keep(slot), Math.max(0, Math.min(1, score)));
    }

    const ranking = performance.now();
    currentTimer()?.add('retrieve', ranking - retrieving);
    const neighbour = (m: StoredMemory, ord: number): StoredMemory | undefined => {
      const slot = replica.slotAt(req.namespace, m.session_id, ord);
      const n = slot === undefined ? undefined : replica.memoryAt(slot);
      return n && accept(n) ? n : undefined;
    };
    const scores = new Map<string, number>();
    const explained = req.explain ? new Map<string, Evidence>() : undefined;
    if (req.mode === 'vector') {
      // Score = the cosine that alone would earn this evidence: a memory with
      // no help from its neighbours scores exactly its cosine similarity.
      const tau = RANKING.vectorSharpness;
      const sharp = new Map([...cosine].map(([id, c]) => [id, Math.exp((c - 1) / tau)]));
      const kernel = { forward: RANKING.vectorForwardWeight, reply: RANKING.replyWeight, backward: RANKING.vectorBackwardWeight };
      const evidence = sessionEvidence(sharp, memories, neighbour, kernel);
      for (const [id, e] of evidence) scores.set(id, Math.max(0, Math.min(1, 1 + tau * Math.log(e))));
      if (explained) {
        const own = ownEvidence(sharp, memories);
        for (const [id, e] of evidence) explained.set(id, { text: null, cosine: cosine.get(id) ?? 0, lent: e - (own.get(id) ?? 0), total: e });
      }
    } else {
      const kernel = { forward: RANKING.forwardWeight, reply: RANKING.replyWeight, backward: RANKING.backwardWeight };
      const evidence = sessionEvidence(bm25, memories, neighbour, kernel);
      const own = explained && ownEvidence(bm25, memories);
      const lent = own && new Map([...evidence].map(([id, e]) => [id, e - (own.get(id) ?? 0)]));
      for (const [id, c] of cosine) evidence.set(id, (evidence.get(id) ?? 0) + RANKING.vectorWeight * c);
      for (const [id, k] of evidence) scores.set(id, k / (k + RANKING.scoreScale));
      if (explained && lent) {
        for (const [id, k] of evidence) {
          explained.set(id, { text: bm25.get(id) ?? 0, cosine: req.mode === 'text' ? null : (cosine.get(id) ?? 0), lent: lent.get(id) ?? 0, total: k });
        }
      }
    }

    const ranked: SearchHit[] = [];
    for (const [id, base] of scores) {
      const memory = memories.get(id)!;
      const boosted = applyBoost(base, memory, req);
      // Rounded here, so `min_score` compares exactly the score the caller sees.
      const score = Math.round(boosted * 1e6) / 1e6;
      if (score > 0 && score >= req.minScore) ranked.push(explained ? { memory, score, explain: explanation(explained.get(id)!, base, boosted) } : { memory, score });
    }
    ranked.sort((a, b) => b.score - a.score || b.memory.created_at - a.memory.created_at || (a.memory.id < b.memory.id ? -1 : 1));
    const hits: SearchHit[] = ranked.slice(0, req.limit);
    currentTimer()?.add('rank', performance.now() - ranking);
    if (req.context > 0) {
      // Context is context: neighbours are not filtered, only live.
      const live = replica.predicate(req.namespace, req.now, {});
      for (const hit of hits) {
        const m = hit.memory;
        hit.context = [];
        for (let ord = m.ord - req.context; ord <= m.ord + req.context; ord++) {
          if (ord === m.ord) continue;
          const slot = replica.slotAt(req.namespace, m.session_id, ord);
          const n = slot === undefined ? undefined : replica.memoryAt(slot);
          if (n && live(n)) hit.context.push({ id: n.id, content: n.content, created_at: n.created_at });
        }
      }
    }
    return hits;
  }
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** One hit's evidence, kept for `explain`: own text, cosine, lent by neighbours, and the total. */
interface Evidence {
  text: number | null;
  cosine: number | null;
  lent: number;
  total: number;
}

/**
 * Each memory's evidence from its own match: its score, plus the session
 * share it earns from itself when it is its session's best match (the rest
 * of sessionEvidence's result was lent by others).
 */
function ownEvidence(own: Map<string, number>, memories: Map<string, StoredMemory>): Map<string, number> {
  const best = new Map<string, number>();
  for (const [id, s] of own) {
    const session = memories.get(id)!.session_id;
    best.set(session, Math.max(best.get(session) ?? 0, s));
  }
  return new Map([...own].map(([id, s]) => [id, s === best.get(memories.get(id)!.session_id) ? s * (1 + RANKING.sessionWeight) : s]));
}

function explanation(e: Evidence, base: number, boosted: number): SearchExplain {
  return {
    text_evidence: e.text === null ? null : round4(e.text),
    vector_similarity: e.cosine === null ? null : round4(e.cosine),
    neighbour_share: e.total > 0 ? round4(Math.max(0, Math.min(1, e.lent / e.total))) : 0,
    boost: base > 0 ? round4(boosted / base) : 1,
  };
}

/**
 * Match evidence (BM25, or sharpened cosine in vector mode) with session
 * context. A matching memory lends part of its score to the memories written
 * just after it (more if it asked a question) and before it, within its
 * session, and every memory gets a little of the best match in its session.
 * In conversation the answer is often the reply next to the turn that
 * matches the question; measured on LoCoMo this is worth about 10 points of
 * recall@10. Neighbours that did not match on their own (but pass the
 * filter) enter the ranking through what they are lent.
 */
function sessionEvidence(
  own: Map<string, number>,
  memories: Map<string, StoredMemory>,
  neighbour: (m: StoredMemory, ord: number) => StoredMemory | undefined,
  kernel: { forward: number; reply: number; backward: number },
): Map<string, number> {
  const evidence = new Map<string, number>();
  const add = (id: string, v: number) => evidence.set(id, (evidence.get(id) ?? 0) + v);
  const bestInSession = new Map<string, number>();
  for (const [id, s] of own) {
    const m = memories.get(id)!;
    add(id, s);
    bestInSession.set(m.session_id, Math.max(bestInSession.get(m.session_id) ?? 0, s));
    for (let k = 1; k <= RANKING.neighbourReach; k++) {
      const decay = RANKING.neighbourDecay ** (k - 1);
      const forward = k === 1 && m.content.includes('?') ? kernel.reply : kernel.forward;
      const after = neighbour(m, m.ord + k);
      const before = m.ord - k >= 1 ? neighbour(m, m.ord - k) : undefined;
      if (after) {
        memories.set(after.id, after);
        add(after.id, forward * decay * s);
      }
      if (before) {
        memories.set(before.id, before);
        add(before.id, kernel.backward * decay * s);
      }
    }
  }
  for (const [id, v] of evidence) evidence.set(id, v + RANKING.sessionWeight * (bestInSession.get(memories.get(id)!.session_id) ?? 0));
  return evidence;
}

/**
 * Optional per-query boosts. Multiplicative, so relevance stays in charge: a
 * memory that barely matches stays low however important it is, and with
 * every signal at its maximum the score is unchanged; the result stays in [0, 1].
 */
export function applyBoost(score: number, m: Pick<StoredMemory, 'importance' | 'pinned' | 'updated_at'>, req: Pick<SearchRequest, 'boost' | 'now'>): number {
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

