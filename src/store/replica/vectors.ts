import { grown } from './growable.js';
import { TopK } from './topk.js';

/**
 * Exact cosine top-k over every stored vector, in memory.
 *
 * Two layouts, chosen by the embedder:
 * - sparse (the local hashed embedder: ~170 of 768 components are non-zero):
 *   one posting list per dimension, so a query touches only the dimensions it
 *   has, about 20 times less work than a dense scan, with components stored as
 *   16-bit fixed point (error ≤ 1.5·10⁻⁵ per component);
 * - dense (neural and remote embedders): one row of float32 per vector.
 * Vectors are normalised on the way in, so a dot product is the cosine.
 */
export interface VectorIndex {
  add(slot: number, vector: Float32Array): void;
  /** The `k` most similar live vectors that `accept` lets through, by cosine, best first (cosine ≤ 0 left out). */
  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }>;
  /** Bytes held, for stats. */
  readonly bytes: number;
}

export function vectorIndexFor(provider: string, dim: number): VectorIndex {
  return provider === 'local' ? new SparseVectors(dim) : new DenseVectors(dim);
}

const FIXED = 32_767;

function unit(v: Float32Array): { v: Float32Array; norm: number } {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return { v, norm: Math.sqrt(sum) };
}

class SparseVectors implements VectorIndex {
  private readonly slots: Int32Array[];
  private readonly values: Int16Array[];
  private readonly lengths: Int32Array;
  private scores = new Float64Array(1024);
  private stored = 0;

  constructor(private readonly dim: number) {
    this.slots = Array.from({ length: dim }, () => new Int32Array(16));
    this.values = Array.from({ length: dim }, () => new Int16Array(16));
    this.lengths = new Int32Array(dim);
  }

  add(slot: number, vector: Float32Array): void {
    const { norm } = unit(vector);
    if (norm === 0) return;
    const scale = FIXED / norm;
    for (let d = 0; d < this.dim; d++) {
      const x = vector[d]!;
      if (x === 0) continue;
      const n = this.lengths[d]!;
      let slots = this.slots[d]!;
      let values = this.values[d]!;
      if (n === slots.length) {
        slots = this.slots[d] = grown(slots, n + 1);
        values = this.values[d] = grown(values, n + 1);
      }
      slots[n] = slot;
      values[n] = Math.round(x * scale);
      this.lengths[d] = n + 1;
      this.stored++;
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
      const w = q / norm / FIXED;
      const slots = this.slots[d]!;
      const values = this.values[d]!;
      const n = this.lengths[d]!;
      for (let i = 0; i < n; i++) {
        const slot = slots[i]!;
        scores[slot] = scores[slot]! + w * values[i]!;
      }
      if (n > 0 && slots[n - 1]! > last) last = slots[n - 1]!;
    }
    // One pass over the scores (cheaper than tracking which were touched), the filter asked
    // only of candidates that would enter the top k.
    const top = new TopK(k);
    for (let slot = 0; slot <= last; slot++) {
      const s = scores[slot]!;
      if (s === 0) continue;
      scores[slot] = 0;
      if (s > 0 && alive[slot] === 1 && top.admits(slot, s) && accept(slot)) top.offer(slot, Math.min(1, s));
    }
    return top.result();
  }

  get bytes(): number {
    return this.stored * 6;
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

  get bytes(): number {
    return this.rows.byteLength;
  }
}
