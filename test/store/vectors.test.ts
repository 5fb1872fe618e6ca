/**
 * The sparse vector index (src/store/replica/vectors.ts, the `local`
 * embedder's exact cosine top-k) against a brute-force scan of the same
 * vectors: thousands of random sparse signed vectors, deletions, a filter,
 * k of 1, 10, 100 and more than there are matches, exact ties, zero queries,
 * slot gaps wider than a posting's 16-bit gap, and vectors appended after
 * searches. The index must return exactly the brute force's slots, in its
 * order: a true top-k slot left out fails the test.
 */
import { describe, expect, it } from 'vitest';
import { LocalEmbedder } from '../../src/embed/local.js';
import { vectorIndexFor } from '../../src/store/replica/vectors.js';
import { mulberry32 } from '../../bench/speed/corpus.js';

const DIM = 768;
const FIXED = 32_767;

/** The bench corpus's seeded generator (mulberry32). */
const rng = mulberry32;

/** A random sparse vector with signed components, `nnz` of them non-zero, drawn from `dims` (default: all). */
function sparse(r: () => number, nnz: number, dims = DIM, offset = 0): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < nnz; i++) v[offset + Math.floor(r() * dims)] = (r() < 0.5 ? -1 : 1) * (0.05 + r() * (r() < 0.1 ? 3 : 0.5));
  return v;
}

/**
 * The reference: every stored vector as the index holds it (16-bit fixed point
 * of the unit vector), its cosine with the query in float64, sorted by score
 * then the later slot; dead, rejected and non-positive ones left out.
 */
class BruteForce {
  private readonly rows = new Map<number, Int16Array>();

  add(slot: number, v: Float32Array): void {
    let sum = 0;
    for (const x of v) sum += x * x;
    if (sum === 0) return;
    const scale = FIXED / Math.sqrt(sum);
    this.rows.set(
      slot,
      Int16Array.from(v, (x) => Math.round(x * scale)),
    );
  }

  search(query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    let sum = 0;
    for (const x of query) sum += x * x;
    if (sum === 0) return [];
    const norm = Math.sqrt(sum);
    const all: Array<{ slot: number; score: number }> = [];
    for (const [slot, row] of this.rows) {
      let s = 0;
      for (let d = 0; d < DIM; d++) if (query[d] !== 0 && row[d] !== 0) s += (query[d]! / norm / FIXED) * row[d]!;
      if (s > 0 && alive[slot] === 1 && accept(slot)) all.push({ slot, score: Math.min(1, s) });
    }
    return all.sort((a, b) => b.score - a.score || b.slot - a.slot).slice(0, k);
  }
}

function pair(block?: number) {
  const index = vectorIndexFor('local', DIM, block);
  const brute = new BruteForce();
  return {
    index,
    brute,
    add(slot: number, v: Float32Array) {
      index.add(slot, v);
      brute.add(slot, v);
    },
  };
}

/** Same slots in the same order, scores within float rounding; `accept` asked only of live slots with a positive score. */
function expectSame(p: ReturnType<typeof pair>, query: Float32Array, k: number, alive: Uint8Array, accept: (slot: number) => boolean, scoreOf?: Map<number, number>) {
  const asked: number[] = [];
  const got = p.index.search(query, k, alive, (slot) => {
    asked.push(slot);
    return accept(slot);
  });
  const want = p.brute.search(query, k, alive, accept);
  expect(got.map((x) => x.slot)).toEqual(want.map((x) => x.slot));
  got.forEach((x, i) => expect(Math.abs(x.score - want[i]!.score)).toBeLessThanOrEqual(1e-9));
  for (const slot of asked) {
    expect(alive[slot]).toBe(1);
    if (scoreOf) expect(scoreOf.get(slot)!).toBeGreaterThan(0);
  }
  expect(new Set(asked).size).toBe(asked.length);
  return got;
}

// The default blocks (2,048 postings) and tiny ones, so that nearly every dimension's
// postings, slot gaps and gap-bridging postings run across block boundaries.
for (const block of [undefined, 5]) describe(`sparse vector index${block ? `, in blocks of ${block} postings` : ''}`, () => {
  it('returns exactly the brute force’s top k over thousands of random sparse signed vectors, with deletions, a filter and ties', () => {
    const r = rng(1);
    const p = pair(block);
    const n = 4000;
    const alive = new Uint8Array(n);
    const vectors: Float32Array[] = [];
    for (let slot = 0; slot < n; slot++) {
      // Some exact copies of earlier vectors (ties, broken by the later slot), some zero vectors (never stored).
      const v = slot > 10 && r() < 0.05 ? vectors[Math.floor(r() * slot)]! : r() < 0.01 ? new Float32Array(DIM) : sparse(r, 1 + Math.floor(r() * 200));
      vectors.push(v);
      p.add(slot, v);
      alive[slot] = r() < 0.1 ? 0 : 1;
    }
    const filters: Array<(slot: number) => boolean> = [() => true, (slot) => slot % 7 !== 3, (slot) => slot % 50 === 0];
    for (let q = 0; q < 60; q++) {
      // Queries: random ones, narrow ones (few dimensions: few matches, many ties at 0) and copies of stored vectors.
      const query = q % 3 === 0 ? sparse(r, 1 + Math.floor(r() * 150)) : q % 3 === 1 ? sparse(r, 1 + Math.floor(r() * 3)) : vectors[Math.floor(r() * n)]!;
      for (const k of [1, 10, 100, n + 10]) {
        const accept = filters[(q + k) % filters.length]!;
        expectSame(p, query, k, alive, accept);
      }
    }
  });

  it('asks the filter only of live slots with a positive cosine, once each, and leaves out cosine ≤ 0', () => {
    const r = rng(2);
    const p = pair(block);
    const n = 3000;
    const alive = new Uint8Array(n).fill(1);
    for (let slot = 0; slot < n; slot++) p.add(slot, sparse(r, 1 + Math.floor(r() * 100)));
    for (let slot = 0; slot < n; slot += 3) alive[slot] = 0;
    for (let q = 0; q < 20; q++) {
      const query = sparse(r, 1 + Math.floor(r() * 100));
      const scoreOf = new Map(p.brute.search(query, n, new Uint8Array(n).fill(1), () => true).map((x) => [x.slot, x.score]));
      const got = expectSame(p, query, n, alive, (slot) => slot % 2 === 0, scoreOf);
      for (const x of got) expect(x.score).toBeGreaterThan(0);
    }
  });

  it('gives nothing for a zero query, or k = 0, and no more than there are matches', () => {
    const r = rng(3);
    const p = pair(block);
    const alive = new Uint8Array(100).fill(1);
    for (let slot = 0; slot < 100; slot++) p.add(slot, sparse(r, 20, 40)); // dimensions 0–39 only
    expect(p.index.search(new Float32Array(DIM), 10, alive, () => true)).toEqual([]);
    expect(p.index.search(sparse(r, 10), 0, alive, () => true)).toEqual([]);
    // A query on dimensions no vector has: no match at all.
    expect(p.index.search(sparse(r, 10, 100, 600), 10, alive, () => true)).toEqual([]);
    const got = expectSame(p, sparse(r, 30, 40), 1000, alive, () => true);
    expect(got.length).toBeLessThan(100);
    expect(got.length).toBeGreaterThan(0);
  });

  it('stays exact as vectors are appended between searches, across slot gaps wider than 65,535', () => {
    const r = rng(4);
    const p = pair(block);
    const size = 300_000;
    const alive = new Uint8Array(size);
    const queries = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? sparse(r, 60) : sparse(r, 4, 8, 760)));
    let slot = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 400; i++, slot++) {
        // Dimensions 760–767 are rare: their postings have long gaps.
        p.add(slot, r() < 0.02 ? sparse(r, 3, 8, 760) : sparse(r, 1 + Math.floor(r() * 120), 760));
        alive[slot] = 1;
      }
      if (round === 2) slot += 70_000; // a gap wider than one posting can carry
      if (round === 4) slot += 140_000; // two of them
      for (const query of queries) for (const k of [1, 10, 100]) expectSame(p, query, k, alive, (s) => s % 11 !== 0);
      alive[Math.floor(r() * slot)] = 0;
    }
  });

  it('takes slots in ascending order only', () => {
    const index = vectorIndexFor('local', DIM, block);
    const v = sparse(rng(5), 10);
    index.add(5, v);
    expect(() => index.add(5, v)).toThrow(/ascending/);
    expect(() => index.add(4, v)).toThrow(/ascending/);
  });

  it('ranks real local-embedder vectors exactly as the brute force does', async () => {
    const embedder = new LocalEmbedder();
    const words = 'deploy staging database falcon postgres tuesday standup espresso peanut allergy croissant dublin frankfurt migration review small pull request'.split(' ');
    const r = rng(6);
    const texts = Array.from({ length: 2000 }, () => Array.from({ length: 4 + Math.floor(r() * 8) }, () => words[Math.floor(r() * words.length)]!).join(' '));
    const vectors = await embedder.embed(texts);
    const p = pair(block);
    const alive = new Uint8Array(vectors.length).fill(1);
    vectors.forEach((v, slot) => p.add(slot, v));
    const queries = await embedder.embed(['falcon database', 'which staging migration', 'espresso', 'small pull request review on tuesday']);
    for (const q of queries) for (const k of [1, 10, 100]) expectSame(p, q, k, alive, (slot) => slot % 5 !== 1);
  });
});

describe('dense vector index', () => {
  it('in blocks of rows gives what one scan of every row gives, with deletions, a filter and rows added between searches', () => {
    const dim = 24;
    const r = rng(8);
    const dense = () => Float32Array.from({ length: dim }, () => r() - 0.4);
    const vectors: Float32Array[] = [];
    const alive = new Uint8Array(1000);
    const blocked = vectorIndexFor('openai', dim, 7);
    const reference = (query: Float32Array, k: number, accept: (slot: number) => boolean) => {
      const unit = (v: Float32Array) => {
        const n = Math.hypot(...v);
        return Float32Array.from(v, (x) => x / n);
      };
      const q = unit(query);
      return vectors
        .map((v, slot) => {
          const u = unit(v);
          let s = 0;
          for (let d = 0; d < dim; d++) s += q[d]! * u[d]!;
          return { slot, score: Math.min(1, s) };
        })
        .filter((x) => x.score > 0 && alive[x.slot] === 1 && accept(x.slot))
        .sort((a, b) => b.score - a.score || b.slot - a.slot)
        .slice(0, k);
    };
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 60 + round * 37; i++) {
        const slot = vectors.length;
        vectors.push(dense());
        blocked.add(slot, vectors[slot]!);
        alive[slot] = r() < 0.1 ? 0 : 1;
      }
      for (let q = 0; q < 10; q++) {
        const query = dense();
        for (const k of [1, 10, 1000]) {
          const accept = (slot: number) => slot % 5 !== q % 5;
          const got = blocked.search(query, k, alive, accept);
          const want = reference(query, k, accept);
          expect(got.map((x) => x.slot)).toEqual(want.map((x) => x.slot));
          got.forEach((x, i) => expect(Math.abs(x.score - want[i]!.score)).toBeLessThanOrEqual(1e-6));
        }
      }
    }
    expect(blocked.bytes, 'blocks of 7 rows: at most one partly filled').toBeLessThanOrEqual(Math.ceil(vectors.length / 7) * 7 * dim * 4);
  });
});
