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
 * Why a hit ranked where it did, in the terms of the ranking itself: the text
 * score its own words earn (0–1, see TEXT_SCORE; null when the mode reads no
 * text), its cosine similarity to the query (null when the mode reads no
 * vectors), the share of its text score (vector mode: of its evidence) lent by
 * other conversation turns of its session (0–1), and the boost's factor on
 * the score (1 when no boost applies).
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
 * Memory types that are turns of a conversation. Only these lend rank to the
 * memories written next to them in their session, and borrow it: in a
 * conversation the answer is often the reply next to the turn that matches,
 * but an agent's facts written in one call are not a conversation, and a fact
 * that merely shares a session with a match must not outrank a fact that
 * matches. Write batch and time gap cannot tell the two apart (both are
 * written a batch at a time, at once); the type the writer gives can.
 */
export const CONVERSATION_TYPES: ReadonlySet<string> = new Set(['episodic', 'turn', 'message', 'conversation', 'dialogue', 'chat']);

export const isConversation = (m: Pick<StoredMemory, 'type'>): boolean => CONVERSATION_TYPES.has(m.type.toLowerCase());

/**
 * Text score = words · (idf-weighted share of the query's words the memory
 * holds) + evidence · (its BM25, with what conversation neighbours lend, in
 * units of the query's idf mass, capped at 1), and never below floor · share.
 * The share is what a person means by "it matches"; BM25 orders memories that
 * match alike (repeats, length). Both are relative to the query's own idf mass,
 * so a score means the same with 5 memories or 50,000: a memory holding every
 * word scores at least 0.5 (the floor; long memories reach it through it),
 * one holding none 0, unless it is a conversation turn next to a match.
 * Weights chosen on LoCoMo dev (bench/RESULTS.md), evidence capped at 1: words
 * 0.3 gave hybrid hit@1/5/10 42.6/72.0/79.6, 0.25 41.8/72.3/79.9, 0.35
 * 42.3/71.1/79.4, 0.5 42.8/70.8/77.5; the fact-memory set scores the same at
 * all of them. The cap then became a knee (`saturated`): 0.6 gave
 * 43.3/71.1/79.9, 0.7 42.4/71.5/79.7, 0.8 42.1/71.8/79.7, 0.9 41.9/71.6/79.6.
 */
export const TEXT_SCORE = { words: 0.3, evidence: 0.7, floor: 0.5 };

/** The text score of a memory holding `words` of the query (0–1) with this evidence (see TEXT_SCORE). */
export const textScore = (words: number, evidence: number): number =>
  Math.max(TEXT_SCORE.words * words + TEXT_SCORE.evidence * saturated(evidence), TEXT_SCORE.floor * words);

/**
 * Evidence (≥ 0) → [0, 1): itself up to the knee, then approaching 1 without
 * reaching it, so memories past the ideal (short ones holding every word, a
 * word repeated) keep their order instead of tying at the top.
 */
export function saturated(e: number, knee = 0.6): number {
  if (e <= knee) return e;
  return knee + (1 - knee) * (1 - Math.exp(-(e - knee) / (1 - knee)));
}

/** The `min_score` the README recommends: it drops memories that hold none of the query's words (text, and hybrid with the offline embedder). */
export const RECOMMENDED_MIN_SCORE = 0.2;

/** Vector evidence as a score: cosine above the embedder's noise floor, scaled to its share. */
export function vectorScore(cosine: number, profile: RankingProfile): number {
  if (cosine <= profile.vectorFloor) return 0;
  return profile.vectorScale * Math.min(1, (cosine - profile.vectorFloor) / (1 - profile.vectorFloor));
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
  /** Text evidence k → score k / (k + scale): a typical relevant hit scores about 0.5. */
  scoreScale: 15,
  /** Recency boost half-life. */
  recencyHalfLifeMs: 30 * 86_400_000,
};

/**
 * How the vector evidence enters the ranking: the one part of it that depends
 * on what kind of embedder made the vectors, picked by its provider
 * (`rankingProfile`). Everything else in RANKING is shared.
 */
export interface RankingProfile {
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
  vectorSharpness: number;
  vectorForwardWeight: number;
  vectorBackwardWeight: number;
  /** Hybrid: cosine at or below this is noise (what unrelated texts reach), worth nothing. */
  vectorFloor: number;
  /** Hybrid: the vector score of a cosine of 1; lower than 1 where the vector is no evidence of its own. */
  vectorScale: number;
  /**
   * Hybrid: the vector side lends to session neighbours too, as in vector
   * mode (the sharpened similarity, by the vector shares, without the
   * session share: the text side gives that), so a turn next to one that
   * means what the question asks ranks, not only a turn next to one that
   * shares its words. Worth it for a semantic vector, not a lexical one
   * (whose words the text side already lends): see SEMANTIC_RANKING.
   */
  hybridLending: boolean;
}

/** The offline hashed embedder (`local`): a lexical vector, a second opinion on the words. */
export const LEXICAL_RANKING: RankingProfile = {
  vectorSharpness: 0.1,
  vectorForwardWeight: 0.3,
  vectorBackwardWeight: 0.2,
  vectorFloor: 0.2,
  vectorScale: 0.2,
  // Measured with the hashed vector: hybrid hit@1/5/10 43.3/71.1/79.9 without, 42.8/71.3/80.4 with.
  hybridLending: false,
};

/**
 * The local neural embedder (`transformers`, all-MiniLM-L6-v2 by default): a
 * semantic vector, evidence of its own, so its score reaches 1 where the
 * hashed one's stops at 0.2, and hybrid lends it to session neighbours.
 * Chosen on LoCoMo dev by `npm run bench:ranking` (bench/RESULTS.md), hybrid
 * hit@1/5/10: floor 0.2 × scale 0.8 without lending 45.9/73.9/80.2; with
 * lending, floor 0.2 × scale 1, forward 0.3, backward 0.1, 47.1/74.6/82.3,
 * and the same by leave-one-conversation-out (every fold chose it). The
 * backward share 0.1 (0.2 for the hashed vector) leaves vector mode as it
 * was (26.6/53.3/64.3 against 27.0/53.1/64.3).
 * (`openai` keeps the lexical profile: it was not measured.)
 */
export const SEMANTIC_RANKING: RankingProfile = { ...LEXICAL_RANKING, vectorBackwardWeight: 0.1, vectorFloor: 0.2, vectorScale: 1, hybridLending: true };

export const rankingProfile = (provider: string): RankingProfile => (provider === 'transformers' ? SEMANTIC_RANKING : LEXICAL_RANKING);

/**
 * batch_search's retrieval and ranking over one namespace, on the in-memory
 * replica of its table (store/replica): candidates by BM25 and by cosine,
 * session-neighbour evidence, boosts, and the records of the hits, without a
 * query to LanceDB when nothing changed since the last call.
 */
export class Searcher {
  /** `profile`: BENCH ONLY (bench/ranking-study.ts), to measure other values; else the database's embedder picks it. */
  constructor(
    private readonly store: MemoryStore,
    private readonly profile?: RankingProfile,
  ) {}

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const replica = await this.store.replicaFor(req.namespace);
    if (!replica) return [];
    const profile = this.profile ?? rankingProfile(this.store.db.embedder.provider);
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
    // Text evidence, in units of the query's idf mass (what a memory of average
    // length holding each query word once would score), so it means the same at
    // every size: `ratio` is BM25 / mass, `words` the idf-weighted share of the
    // query's words the memory holds.
    const ratio = new Map<string, number>();
    const words = new Map<string, number>();
    const terms = queryTerms(req.query);
    if (req.mode !== 'vector' && terms.length > 0) {
      const mass = replica.idfMass(terms);
      for (const { slot, score, matchedIdf } of replica.textSearch(terms, RANKING.candidates, accept)) {
        const id = keep(slot);
        ratio.set(id, score / mass);
        words.set(id, Math.min(1, matchedIdf / mass));
      }
    }
    const cosine = new Map<string, number>();
    if (req.mode !== 'text' && req.vector) {
      for (const { slot, score } of replica.vectorSearch(req.vector, RANKING.candidates, accept)) cosine.set(keep(slot), Math.max(0, Math.min(1, score)));
    }

    const ranking = performance.now();
    currentTimer()?.add('retrieve', ranking - retrieving);
    // Only turns of a conversation lend rank to their neighbours and borrow it (see isConversation).
    const neighbour = (m: StoredMemory, ord: number): StoredMemory | undefined => {
      const slot = replica.slotAt(req.namespace, m.session_id, ord);
      const n = slot === undefined ? undefined : replica.memoryAt(slot);
      return n && isConversation(n) && accept(n) ? n : undefined;
    };
    const scores = new Map<string, number>();
    const explained = req.explain ? new Map<string, Evidence>() : undefined;
    if (req.mode === 'vector') {
      // Score = the cosine that alone would earn this evidence: a memory with
      // no help from its neighbours scores exactly its cosine similarity.
      const tau = profile.vectorSharpness;
      const sharp = sharpened(cosine, tau);
      const evidence = sessionEvidence(sharp, memories, neighbour, vectorKernel(profile, RANKING.sessionWeight));
      for (const [id, e] of evidence) scores.set(id, Math.max(0, Math.min(1, 1 + tau * Math.log(e))));
      if (explained) {
        const own = ownEvidence(sharp, memories);
        for (const [id, e] of evidence) explained.set(id, { text: null, cosine: cosine.get(id) ?? 0, lent: e - (own.get(id) ?? 0), total: e });
      }
    } else {
      const kernel = { forward: RANKING.forwardWeight, reply: RANKING.replyWeight, backward: RANKING.backwardWeight, session: RANKING.sessionWeight };
      const evidence = sessionEvidence(ratio, memories, neighbour, kernel);
      const ownOnly = explained && ownEvidence(ratio, memories);
      // The similarity the vector side scores: a memory's cosine, or with lending
      // the cosine that alone would earn its evidence (as vector mode scores).
      let similarity = cosine;
      if (req.mode === 'hybrid' && profile.hybridLending) {
        const tau = profile.vectorSharpness;
        const lent = sessionEvidence(sharpened(cosine, tau), memories, neighbour, vectorKernel(profile, 0));
        similarity = new Map([...lent].map(([id, e]) => [id, Math.max(0, Math.min(1, 1 + tau * Math.log(e)))]));
      }
      const ids = req.mode === 'text' ? [...words.keys()] : new Set([...evidence.keys(), ...similarity.keys()]);
      for (const id of ids) {
        const own = words.get(id) ?? 0;
        const text = textScore(own, evidence.get(id) ?? 0);
        const vector = req.mode === 'hybrid' ? vectorScore(similarity.get(id) ?? 0, profile) : 0;
        // A soft OR: either kind of evidence alone gives its own score, both together more.
        scores.set(id, 1 - (1 - text) * (1 - vector));
        if (explained && ownOnly) {
          const alone = textScore(own, ownOnly.get(id) ?? 0);
          explained.set(id, { text: alone, cosine: req.mode === 'text' ? null : (cosine.get(id) ?? 0), lent: Math.max(0, text - alone), total: text });
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
  return new Map([...own].map(([id, s]) => {
    const m = memories.get(id)!;
    return [id, isConversation(m) && s === best.get(m.session_id) ? s * (1 + RANKING.sessionWeight) : s];
  }));
}

function explanation(e: Evidence, base: number, boosted: number): SearchExplain {
  return {
    text_evidence: e.text === null ? null : round4(e.text),
    vector_similarity: e.cosine === null ? null : round4(e.cosine),
    neighbour_share: e.total > 0 ? round4(Math.max(0, Math.min(1, e.lent / e.total))) : 0,
    boost: base > 0 ? round4(boosted / base) : 1,
  };
}

/** Shares a match lends: to the memory after it (`reply` after a question), before it, and (`session`) of its session's best to every turn. */
interface Kernel {
  forward: number;
  reply: number;
  backward: number;
  session: number;
}

const vectorKernel = (profile: RankingProfile, session: number): Kernel => ({ forward: profile.vectorForwardWeight, reply: RANKING.replyWeight, backward: profile.vectorBackwardWeight, session });

/** exp((cosine − 1) / tau): see RankingProfile.vectorSharpness. */
const sharpened = (cosine: Map<string, number>, tau: number): Map<string, number> => new Map([...cosine].map(([id, c]) => [id, Math.exp((c - 1) / tau)]));

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
  kernel: Kernel,
): Map<string, number> {
  const evidence = new Map<string, number>();
  const add = (id: string, v: number) => evidence.set(id, (evidence.get(id) ?? 0) + v);
  const bestInSession = new Map<string, number>();
  for (const [id, s] of own) {
    const m = memories.get(id)!;
    add(id, s);
    if (!isConversation(m)) continue;
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
  for (const [id, v] of evidence) {
    const m = memories.get(id)!;
    if (isConversation(m)) evidence.set(id, v + kernel.session * (bestInSession.get(m.session_id) ?? 0));
  }
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

