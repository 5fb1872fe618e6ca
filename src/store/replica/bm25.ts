import { grown, trimmed } from './growable.js';
import { TopK } from './topk.js';

/** One full-text hit: its BM25 score, and the idf summed over the query terms it holds. */
export interface TextMatch {
  slot: number;
  score: number;
  matchedIdf: number;
}

/** Whether a term's postings (in ascending slot order: slots are only ever appended) hold `slot`. */
function holds(p: Postings, slot: number): boolean {
  let lo = 0;
  let hi = p.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = p.slots[mid]!;
    if (at === slot) return true;
    if (at < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** LanceDB's BM25 constants (lance-index scorer.rs). */
const K1 = 1.2;
const B = 0.75;

interface Postings {
  slots: Int32Array;
  tfs: Uint16Array;
  length: number;
  /** Live documents holding the term (postings of removed documents stay until a rebuild). */
  df: number;
}

/**
 * An in-memory inverted index with LanceDB's BM25 scoring:
 * idf = ln(1 + (N − n + 0.5) / (n + 0.5)), and a term's weight in a document
 * (K1 + 1)·tf / (tf + K1·(1 − B + B·len / avglen)), summed over the distinct
 * query terms. N, n and avglen count the live documents of the table.
 *
 * Removal only adjusts the statistics and marks the slot dead (the caller's
 * `alive`); its postings are skipped until the replica is rebuilt.
 */
export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private lengths = new Uint16Array(1024);
  private docs = 0;
  private tokens = 0;
  private scores = new Float64Array(1024);
  /** The slots a search has scored, in the order first scored (scratch, reused). */
  private touched = new Int32Array(1024);
  private lastSlot = -1;

  /** Gives back what growing by doubling left unused (after a full load). */
  trim(): void {
    for (const p of this.postings.values()) {
      p.slots = trimmed(p.slots, p.length);
      p.tfs = trimmed(p.tfs, p.length);
    }
  }

  /** `terms` with repeats, as `analyze` returns them. Slots only ever grow (the replica appends), which keeps every term's postings in slot order. */
  add(slot: number, terms: readonly string[]): void {
    if (slot <= this.lastSlot) throw new Error(`full-text slots must be added in ascending order (${slot} after ${this.lastSlot})`);
    this.lastSlot = slot;
    if (slot >= this.lengths.length) this.lengths = grown(this.lengths, slot + 1);
    this.lengths[slot] = Math.min(terms.length, 65_535);
    this.docs++;
    this.tokens += terms.length;
    const counts = new Map<string, number>();
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [term, tf] of counts) {
      let p = this.postings.get(term);
      if (!p) this.postings.set(term, (p = { slots: new Int32Array(4), tfs: new Uint16Array(4), length: 0, df: 0 }));
      if (p.length === p.slots.length) {
        p.slots = grown(p.slots, p.length + 1);
        p.tfs = grown(p.tfs, p.length + 1);
      }
      p.slots[p.length] = slot;
      p.tfs[p.length] = Math.min(tf, 65_535);
      p.length++;
      p.df++;
    }
  }

  /** Takes a document out of the statistics; `terms` are the ones it was added with. */
  remove(terms: readonly string[]): void {
    this.docs--;
    this.tokens -= terms.length;
    for (const term of new Set(terms)) {
      const p = this.postings.get(term);
      if (p) p.df--;
    }
  }

  /**
   * The `k` best-scoring live documents that `accept` lets through, best first.
   * `alive` says which slots hold a current document.
   */
  search(terms: readonly string[], k: number, alive: Uint8Array, accept: (slot: number) => boolean): TextMatch[] {
    if (this.docs <= 0 || terms.length === 0) return [];
    const avg = this.tokens / this.docs;
    this.scores = grown(this.scores, this.lengths.length);
    this.touched = grown(this.touched, this.lengths.length);
    const { scores, touched, lengths } = this;
    // A term's weight in a document is idf·(K1 + 1)·tf / (tf + K1·(1 − B + B·len / avg)):
    // everything but tf and len is the same for the whole query, so it is worked out once.
    const base = K1 * (1 - B);
    const perToken = (K1 * B) / avg;
    const held: Array<{ postings: Postings; idf: number }> = [];
    let count = 0;
    for (const term of new Set(terms)) {
      const p = this.postings.get(term);
      if (!p || p.df <= 0) continue;
      const idf = this.idf(p.df);
      held.push({ postings: p, idf });
      const weight = idf * (K1 + 1);
      const { slots, tfs } = p;
      const n = p.length;
      // Removed documents are scored too and left out below: one array fewer to read per posting.
      for (let i = 0; i < n; i++) {
        const slot = slots[i]!;
        const tf = tfs[i]!;
        const s = scores[slot]!;
        if (s === 0) touched[count++] = slot;
        scores[slot] = s + (weight * tf) / (tf + base + perToken * lengths[slot]!);
      }
    }
    const top = new TopK(k);
    // Compared with a local number first: once k are held, most touched slots fall under the k-th best.
    let threshold = top.threshold;
    for (let t = 0; t < count; t++) {
      const slot = touched[t]!;
      const s = scores[slot]!;
      if (s >= threshold && s > 0 && alive[slot] === 1 && top.admits(slot, s) && accept(slot)) {
        top.offer(slot, s);
        threshold = top.threshold;
      }
      scores[slot] = 0;
    }
    // Which query terms a hit holds is asked of the k hits only (a binary search in each term's
    // postings, which are in slot order), not summed for every document a term touches.
    return top.result().map(({ slot, score }) => {
      let matchedIdf = 0;
      for (const { postings, idf } of held) if (holds(postings, slot)) matchedIdf += idf;
      return { slot, score, matchedIdf };
    });
  }

  /**
   * The idf of each distinct query term summed: the BM25 score of a document
   * of average length holding each term once, and the whole of what
   * `matchedIdf` can reach. A term no live document holds counts at the
   * highest idf, so a query word the agent never wrote keeps every memory
   * short of "holds every word".
   */
  idfMass(terms: readonly string[]): number {
    let mass = 0;
    for (const term of new Set(terms)) mass += this.idf(Math.max(0, this.postings.get(term)?.df ?? 0));
    return mass;
  }

  /** LanceDB's idf of a term that `df` live documents hold. */
  private idf(df: number): number {
    return Math.log(1 + (Math.max(this.docs, 0) - df + 0.5) / (df + 0.5));
  }

  /** Live documents and distinct terms (for stats and tests). */
  get size(): { docs: number; terms: number } {
    return { docs: this.docs, terms: this.postings.size };
  }
}
