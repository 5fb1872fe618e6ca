import { grown, resized, trimmed } from './growable.js';
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
 * - dense (neural and remote embedders): one row of float32 per vector, in
 *   blocks of rows.
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

/**
 * `block`: postings (sparse) or rows (dense) per block once an index is past
 * its first block; tests set it small to cross block boundaries.
 */
export function vectorIndexFor(provider: string, dim: number, block?: number): VectorIndex {
  return provider === 'local' ? new SparseVectors(dim, block) : new DenseVectors(dim, block);
}

const FIXED = 32_767;
/**
 * 8 KiB blocks of postings: at 100,000 memories a dimension holds ~19,000
 * (10 blocks; a query's ~90 dimensions make ~900 calls of the scatter loop,
 * nothing next to its 1.7 million postings), and the unused rest is at most
 * 6 MiB over all 768 dimensions. Below glibc's mmap threshold (128 KiB).
 */
const POSTINGS_PER_BLOCK = 2048;
/** Dense rows per block: 1.5 MiB at 384-d, 6 MiB at 1536-d. */
const ROWS_PER_BLOCK = 1024;
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
 *
 * A dimension's postings are a list of blocks: the first grows by doubling up
 * to `block` postings, then each new block holds `block`. A single array per
 * dimension grown by doubling held up to twice what it needed while a
 * replica grew by its own writes, left the outgrown copies for the garbage
 * collector during a load (75 MB of postings at 100,000 memories), and needed
 * a trimmed copy of every array afterwards; blocks leave at most one
 * partly filled block per dimension and are never copied once full.
 */
class SparseVectors implements VectorIndex {
  /** Per dimension, its blocks of postings; every block but the last is full (its whole length). */
  private readonly blocks: Int32Array[][];
  /** Per dimension, the postings held in its last block. */
  private readonly tails: Int32Array;
  /** Per dimension, the slot of its last posting (-1: none yet). */
  private readonly lastSlot: Int32Array;
  private scores = new Float64Array(1024);
  private stored = 0;
  private lastAdded = -1;

  constructor(
    private readonly dim: number,
    private readonly block = POSTINGS_PER_BLOCK,
  ) {
    this.blocks = Array.from({ length: dim }, () => [new Int32Array(Math.min(16, block))]);
    this.tails = new Int32Array(dim);
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
      while (gap > MAX_GAP) {
        this.append(d, MAX_GAP << 16);
        gap -= MAX_GAP;
      }
      this.append(d, (gap << 16) | (Math.round(x * scale) & 0xffff));
      this.lastSlot[d] = slot;
    }
    if (slot >= this.scores.length) this.scores = grown(this.scores, slot + 1);
  }

  /** One posting at the end of dimension d's list. */
  private append(d: number, posting: number): void {
    const list = this.blocks[d]!;
    let last = list[list.length - 1]!;
    let n = this.tails[d]!;
    if (n === last.length) {
      if (list.length === 1 && last.length < this.block) {
        last = list[0] = resized(last, Math.min(this.block, last.length * 2));
      } else {
        list.push((last = new Int32Array(this.block)));
        n = 0;
      }
    }
    last[n] = posting;
    this.tails[d] = n + 1;
    this.stored++;
  }

  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const { norm } = unit(query);
    if (norm === 0) return [];
    const scores = this.scores;
    let last = -1;
    for (let d = 0; d < this.dim; d++) {
      const q = query[d]!;
      if (q === 0 || this.lastSlot[d]! < 0) continue;
      const w = q / norm / FIXED;
      const list = this.blocks[d]!;
      const full = list.length - 1;
      // Slot gaps run on from one block into the next.
      let slot = 0;
      for (let b = 0; b < full; b++) slot = scatter(list[b]!, list[b]!.length, w, scores, slot);
      scatter(list[full]!, this.tails[d]!, w, scores, slot);
      if (this.lastSlot[d]! > last) last = this.lastSlot[d]!;
    }
    return topOfScores(scores, last, k, alive, accept);
  }

  trim(): void {
    // A dimension still in its first block gives back what doubling left unused (small tables);
    // past it, what is unused is at most the last block's rest.
    for (let d = 0; d < this.dim; d++) {
      const list = this.blocks[d]!;
      if (list.length === 1) list[0] = trimmed(list[0]!, this.tails[d]!);
    }
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
 * scores[slot] += w · value for the first `n` postings of one block of a
 * dimension, whose slots run on from `from`; returns the last slot. Kept
 * small and monomorphic so it is optimised on its own; unrolled by four (the
 * four slots are distinct, so the adds are independent).
 */
function scatter(postings: Int32Array, n: number, w: number, scores: Float64Array, from: number): number {
  let slot = from;
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
  return slot;
}

/**
 * The dense layout: unit rows of float32 in blocks of `block` rows (the first
 * block grows by doubling up to that). One array for every row, grown by
 * doubling, held up to twice the rows and needed a copy of all of them (and
 * so three times their size, for a moment) at each growth: 150 MB of rows at
 * 100,000 × 384-d.
 */
class DenseVectors implements VectorIndex {
  private readonly blocks: Float32Array[] = [];
  private count = 0;

  constructor(
    private readonly dim: number,
    private readonly rowsPerBlock = ROWS_PER_BLOCK,
  ) {}

  add(slot: number, vector: Float32Array): void {
    const { norm } = unit(vector);
    const b = Math.floor(slot / this.rowsPerBlock);
    // Rows are added in slot order; a block skipped by a slot gap is still made (its rows stay 0).
    while (this.blocks.length <= b) this.blocks.push(new Float32Array(this.blocks.length === 0 ? Math.min(16, this.rowsPerBlock) * this.dim : this.rowsPerBlock * this.dim));
    const row = slot - b * this.rowsPerBlock;
    const needed = (row + 1) * this.dim;
    if (needed > this.blocks[b]!.length) this.blocks[b] = resized(this.blocks[b]!, Math.min(this.rowsPerBlock * this.dim, Math.max(needed, this.blocks[b]!.length * 2)));
    const rows = this.blocks[b]!;
    const base = row * this.dim;
    for (let d = 0; d < this.dim; d++) rows[base + d] = norm === 0 ? 0 : vector[d]! / norm;
    this.count = Math.max(this.count, slot + 1);
  }

  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const { norm } = unit(query);
    if (norm === 0) return [];
    const q = Float32Array.from(query, (x) => x / norm);
    const dim = this.dim;
    const top = new TopK(k);
    for (let b = 0; b < this.blocks.length; b++) {
      const rows = this.blocks[b]!;
      const first = b * this.rowsPerBlock;
      const end = Math.min(this.count, first + rows.length / dim);
      for (let slot = first; slot < end; slot++) {
        if (alive[slot] !== 1) continue;
        const base = (slot - first) * dim;
        let s = 0;
        for (let d = 0; d < dim; d++) s += q[d]! * rows[base + d]!;
        if (s > 0 && top.admits(slot, s) && accept(slot)) top.offer(slot, Math.min(1, s));
      }
    }
    return top.result();
  }

  trim(): void {
    // Past the first block, what is unused is at most the last block's rest; the first block
    // of a small table gives back what doubling left.
    if (this.blocks.length === 1) this.blocks[0] = trimmed(this.blocks[0]!, this.count * this.dim);
  }

  get bytes(): number {
    return this.blocks.reduce((sum, rows) => sum + rows.byteLength, 0);
  }
}
