import { grown, trimmed } from './growable.js';
import { TopK } from './topk.js';

/**
 * Exact cosine top-k over every stored vector, in memory.
 *
 * Two layouts, chosen by the embedder:
 * - sparse (the local hashed embedder: ~170 of 768 components are non-zero):
 *   one posting list per dimension, so a query touches only the dimensions it
 *   has, about 20 times less work than a dense scan, with components stored as
 *   16-bit fixed point (error ≤ 1.5·10⁻⁵ per component) packed with the slot
 *   gap into 4 bytes a posting (SparseVectors says why, and what was measured
 *   not to pay);
 * - dense (neural and remote embedders): one row of float32 per vector.
 * Vectors are normalised on the way in, so a dot product is the cosine.
 */
export interface VectorIndex {
  add(slot: number, vector: Float32Array): void;
  /** The `k` most similar live vectors that `accept` lets through, by cosine, best first (cosine ≤ 0 left out). */
  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }>;
  /** Bytes held, for stats. */
  readonly bytes: number;
  /** Gives back what growing by doubling left unused (after a full load). */
  trim(): void;
}

export function vectorIndexFor(provider: string, dim: number): VectorIndex {
  return provider === 'local' ? new SparseVectors(dim) : new DenseVectors(dim);
}

const FIXED = 32_767;
/** The largest slot gap one posting can carry (its upper 16 bits). */
const MAX_GAP = 0xffff;

function unit(v: Float32Array): { v: Float32Array; norm: number } {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return { v, norm: Math.sqrt(sum) };
}

/**
 * The sparse layout: per dimension, one Int32Array of postings in slot order,
 * each posting the gap to the previous posting's slot (upper 16 bits) and the
 * component as 16-bit fixed point (lower 16 bits, signed). A gap wider than
 * 65,535 slots is bridged by postings of value 0, which add nothing to any
 * score. 4 bytes a posting instead of 6 (a slot Int32Array next to an Int16Array
 * of values), and one stream to read instead of two.
 *
 * A query scatter-adds its dimensions, in ascending order, into a Float64Array
 * of scores (each slot's sum is taken in the same order as before, so scores are
 * bit for bit those of the two-array layout), then one pass over the scores
 * feeds a TopK, asking `accept` only of slots that would enter it. The posting
 * loop is unrolled by four in its own small function: that and the single
 * stream make a query ~1.5× faster than the two-array loop at 10,000 to
 * 1,000,000 memories (bench/vectors-micro.ts; it is compute-bound, ~3 ns a
 * posting at every size, not memory-bound).
 *
 * Not done, because measured not to pay on these vectors: exact dynamic pruning
 * (MaxScore, block-max with blocks of 128 postings). Every dimension is held by
 * ~19% of the memories and a query's ~90 dimensions each bound the score by
 * |q_d|·max_d ≈ 0.03, so their summed bounds (~2.8) dwarf the k-th best cosine
 * (0.3–0.8 at k = 100): even with the final threshold known in advance, the
 * dimensions that could be skipped hold 1–7% of the postings. Also measured
 * slower: Float32 scores (not exact either), slot-blocked processing for cache
 * locality, Int32 fixed-point accumulation, and scoring a batch of 10 queries
 * in one pass over the postings with interleaved scores (~4× slower than one
 * query after another: the queries share few dimensions, and the scores no
 * longer stay in cache).
 */
class SparseVectors implements VectorIndex {
  private readonly postings: Int32Array[];
  private readonly lengths: Int32Array;
  /** Per dimension, the slot of its last posting (-1: none yet). */
  private readonly lastSlot: Int32Array;
  private scores = new Float64Array(1024);
  private stored = 0;
  private lastAdded = -1;

  constructor(private readonly dim: number) {
    this.postings = Array.from({ length: dim }, () => new Int32Array(16));
    this.lengths = new Int32Array(dim);
    this.lastSlot = new Int32Array(dim).fill(-1);
  }

  add(slot: number, vector: Float32Array): void {
    // Gaps are only ever positive (the replica appends slots); checked before anything is written.
    if (slot <= this.lastAdded) throw new Error(`vector slots must be added in ascending order (${slot} after ${this.lastAdded})`);
    const { norm } = unit(vector);
    if (norm === 0) return;
    this.lastAdded = slot;
    const scale = FIXED / norm;
    for (let d = 0; d < this.dim; d++) {
      const x = vector[d]!;
      if (x === 0) continue;
      const prev = this.lastSlot[d]!;
      let gap = prev < 0 ? slot : slot - prev;
      const bridges = gap > MAX_GAP ? Math.ceil(gap / MAX_GAP) - 1 : 0;
      let n = this.lengths[d]!;
      let postings = this.postings[d]!;
      if (n + bridges + 1 > postings.length) postings = this.postings[d] = grown(postings, n + bridges + 1);
      for (let b = 0; b < bridges; b++) {
        postings[n++] = MAX_GAP << 16;
        gap -= MAX_GAP;
      }
      postings[n++] = (gap << 16) | (Math.round(x * scale) & 0xffff);
      this.stored += n - this.lengths[d]!;
      this.lengths[d] = n;
      this.lastSlot[d] = slot;
    }
    if (slot >= this.scores.length) this.scores = grown(this.scores, slot + 1);
  }

  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const { norm } = unit(query);
    if (norm === 0) return [];
    const scores = this.scores;
    let last = -1;
    for (let d = 0; d < this.dim; d++) {
      const q = query[d]!;
      if (q === 0) continue;
      const n = this.lengths[d]!;
      if (n === 0) continue;
      scatter(this.postings[d]!, n, q / norm / FIXED, scores);
      if (this.lastSlot[d]! > last) last = this.lastSlot[d]!;
    }
    return topOfScores(scores, last, k, alive, accept);
  }

  trim(): void {
    for (let d = 0; d < this.dim; d++) this.postings[d] = trimmed(this.postings[d]!, this.lengths[d]!);
  }

  get bytes(): number {
    return this.stored * 4;
  }
}

/**
 * The k best of a scatter-add's `scores` (slots 0…last), best first, cosine
 * ≤ 0 left out and scores clamped to 1, and every score reset to 0 for the
 * next query: one pass (cheaper than tracking which slots were touched:
 * nearly all are), the filter asked only of candidates that would enter the
 * top k. Exported for bench/vectors-micro.ts's copy of the older layout.
 */
export function topOfScores(scores: Float64Array, last: number, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
  const top = new TopK(k);
  // Nearly every slot has a score: once k are held, most fall under the k-th best, and a
  // compare with a local number skips them (2.5× faster than asking the heap each time).
  let threshold = top.threshold;
  for (let slot = 0; slot <= last; slot++) {
    const s = scores[slot]!;
    if (s === 0) continue;
    scores[slot] = 0;
    if (s < threshold || s <= 0) continue;
    if (alive[slot] === 1 && top.admits(slot, s) && accept(slot)) {
      top.offer(slot, Math.min(1, s));
      threshold = top.threshold;
    }
  }
  return top.result();
}

/**
 * scores[slot] += w · value for the first `n` postings of one dimension. Kept
 * small and monomorphic so it is optimised on its own; unrolled by four (the
 * four slots are distinct, so the adds are independent).
 */
function scatter(postings: Int32Array, n: number, w: number, scores: Float64Array): void {
  let slot = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const e0 = postings[j]!;
    const e1 = postings[j + 1]!;
    const e2 = postings[j + 2]!;
    const e3 = postings[j + 3]!;
    const s0 = slot + (e0 >>> 16);
    const s1 = s0 + (e1 >>> 16);
    const s2 = s1 + (e2 >>> 16);
    const s3 = s2 + (e3 >>> 16);
    scores[s0] = scores[s0]! + w * ((e0 << 16) >> 16);
    scores[s1] = scores[s1]! + w * ((e1 << 16) >> 16);
    scores[s2] = scores[s2]! + w * ((e2 << 16) >> 16);
    scores[s3] = scores[s3]! + w * ((e3 << 16) >> 16);
    slot = s3;
  }
  for (; j < n; j++) {
    const e = postings[j]!;
    slot += e >>> 16;
    scores[slot] = scores[slot]! + w * ((e << 16) >> 16);
  }
}

class DenseVectors implements VectorIndex {
  private rows = new Float32Array(0);
  private count = 0;

  constructor(private readonly dim: number) {}

  add(slot: number, vector: Float32Array): void {
    const { norm } = unit(vector);
    this.rows = grown(this.rows, (slot + 1) * this.dim);
    const base = slot * this.dim;
    for (let d = 0; d < this.dim; d++) this.rows[base + d] = norm === 0 ? 0 : vector[d]! / norm;
    this.count = Math.max(this.count, slot + 1);
  }

  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const { norm } = unit(query);
    if (norm === 0) return [];
    const q = Float32Array.from(query, (x) => x / norm);
    const dim = this.dim;
    const rows = this.rows;
    const top = new TopK(k);
    for (let slot = 0; slot < this.count; slot++) {
      if (alive[slot] !== 1) continue;
      const base = slot * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[d]! * rows[base + d]!;
      if (s > 0 && top.admits(slot, s) && accept(slot)) top.offer(slot, Math.min(1, s));
    }
    return top.result();
  }

  trim(): void {
    // Not trimmed: the rows are one array (614 MB at 100,000 × 1536-d), and a trimmed copy
    // would be made next to it, raising the peak the trim is meant to lower.
  }

  get bytes(): number {
    return this.rows.byteLength;
  }
}
