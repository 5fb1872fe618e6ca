/**
 * Microbenchmark of the sparse vector index alone (src/store/replica/vectors.ts,
 * the exact cosine top-k behind every vector and hybrid search with the `local`
 * embedder), against a copy of its earlier two-array layout (BaselineSparse
 * below), in one process so the ratio is of one run on one machine.
 *
 * Memories are the speed bench's seeded corpus (bench/speed/corpus.ts)
 * embedded with the real LocalEmbedder; queries alternate phrase and keyword
 * queries made from random memories, embedded the same way. Per size: ms per
 * query (p50, p95) with k = 100 as search.ts asks, ms per batch of 10 queries
 * run one after another (p50), the index's bytes (its own count of postings, and
 * the bytes of its posting arrays, spare capacity included), and a
 * check that both give the same slots in the same order and scores within
 * 1e-9. Rounds alternate the two implementations; each figure is its best round's
 * (on a shared machine interference only ever adds time).
 *
 * Usage: node dist/bench/vectors-micro.js [--sizes 10000,100000,1000000] [--queries 100] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { LocalEmbedder } from '../src/embed/local.js';
import { grown } from '../src/store/replica/growable.js';
import { topOfScores, type VectorIndex, vectorIndexFor } from '../src/store/replica/vectors.js';
import { machine } from './machine.js';
import { keywordQuery, memoryAt, mulberry32, phraseQuery } from './speed/corpus.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '7' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const queryCount = Number(args.queries);
const rounds = Number(args.rounds);
const seed = Number(args.seed);
const K = 100;

/** The layout before: a slot Int32Array and an Int16Array of values per dimension (6 bytes a posting). */
class BaselineSparse implements VectorIndex {
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
    let sum = 0;
    for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
    const norm = Math.sqrt(sum);
    if (norm === 0) return;
    const scale = 32_767 / norm;
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
    let sum = 0;
    for (let i = 0; i < query.length; i++) sum += query[i]! * query[i]!;
    const norm = Math.sqrt(sum);
    if (norm === 0) return [];
    const scores = this.scores;
    let last = -1;
    for (let d = 0; d < this.dim; d++) {
      const q = query[d]!;
      if (q === 0) continue;
      const w = q / norm / 32_767;
      const slots = this.slots[d]!;
      const values = this.values[d]!;
      const n = this.lengths[d]!;
      for (let i = 0; i < n; i++) {
        const slot = slots[i]!;
        scores[slot] = scores[slot]! + w * values[i]!;
      }
      if (n > 0 && slots[n - 1]! > last) last = slots[n - 1]!;
    }
    return topOfScores(scores, last, k, alive, accept);
  }

  trim(): void {
    // The old layout is only timed here, never loaded and kept: nothing to give back.
  }

  get bytes(): number {
    return this.stored * 6;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const mb = (x: number) => Math.round(x / 1e5) / 10;

/** Bytes of the typed arrays an index holds, spare capacity included (its private fields, read for this bench only). */
function capacity(index: VectorIndex): number {
  const held = index as unknown as Record<string, unknown>;
  let bytes = 0;
  // The layouts' arrays: per dimension one array (`slots`, `values`, the older `postings`) or a list of blocks (`blocks`).
  const add = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(add);
    else if (ArrayBuffer.isView(x)) bytes += x.byteLength;
  };
  for (const key of ['slots', 'values', 'postings', 'blocks']) add(held[key]);
  return bytes;
}

function build(make: () => VectorIndex, vectors: readonly Float32Array[]): { index: VectorIndex; allocated: number } {
  const index = make();
  vectors.forEach((v, slot) => index.add(slot, v));
  return { index, allocated: capacity(index) };
}

function time(index: VectorIndex, queries: readonly Float32Array[], alive: Uint8Array): { single: number[]; batch: number[] } {
  const single: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    index.search(q, K, alive, () => true);
    single.push(performance.now() - t);
  }
  const batch: number[] = [];
  for (let i = 0; i + 10 <= queries.length; i += 10) {
    const t = performance.now();
    for (let j = i; j < i + 10; j++) index.search(queries[j]!, K, alive, () => true);
    batch.push(performance.now() - t);
  }
  return { single, batch };
}

console.error(`machine: ${machine()}`);
const embedder = new LocalEmbedder();
const rows: string[] = [];
for (const n of sizes) {
  console.error(`embedding ${n} memories…`);
  const vectors: Float32Array[] = [];
  for (let i = 0; i < n; i++) vectors.push(embedder.embedOne(memoryAt(seed, i).content));
  const r = mulberry32(seed * 7919 + n);
  const queries: Float32Array[] = [];
  for (let q = 0; q < queryCount; q++) {
    const { content } = memoryAt(seed, Math.floor(r() * n));
    queries.push(embedder.embedOne(q % 2 === 0 ? phraseQuery(content) : keywordQuery(content, r)));
  }
  const alive = new Uint8Array(n).fill(1);
  const impls = [
    { name: 'before', ...build(() => new BaselineSparse(embedder.dim), vectors) },
    { name: 'after', ...build(() => vectorIndexFor('local', embedder.dim), vectors) },
  ];
  vectors.length = 0;
  globalThis.gc?.();

  // Same answers?
  let mismatched = 0;
  let maxDiff = 0;
  for (const q of queries) {
    const [a, b] = impls.map(({ index }) => index.search(q, K, alive, () => true));
    if (a!.map((x) => x.slot).join() !== b!.map((x) => x.slot).join()) mismatched++;
    a!.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x.score - (b![i]?.score ?? Infinity)))));
  }

  const best = new Map<string, { single: number; p95: number; batch: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const impl of round % 2 === 0 ? impls : [...impls].reverse()) {
      const { single, batch } = time(impl.index, queries, alive);
      const cur = { single: pct(single, 0.5), p95: pct(single, 0.95), batch: pct(batch, 0.5) };
      const prev = best.get(impl.name);
      // Each figure's best round: the machine may be shared, and interference only ever adds time.
      best.set(impl.name, prev ? { single: Math.min(prev.single, cur.single), p95: Math.min(prev.p95, cur.p95), batch: Math.min(prev.batch, cur.batch) } : cur);
    }
  }
  for (const impl of impls) {
    const b = best.get(impl.name)!;
    rows.push(`| ${n.toLocaleString('en')} | ${impl.name} | ${r2(b.single)} | ${r2(b.p95)} | ${r2(b.batch)} | ${mb(impl.index.bytes)} | ${mb(impl.allocated)} |`);
  }
  const [before, after] = impls.map((i) => best.get(i.name)!);
  rows.push(`| ${n.toLocaleString('en')} | ratio | ${r2(before!.single / after!.single)}× | ${r2(before!.p95 / after!.p95)}× | ${r2(before!.batch / after!.batch)}× | | |`);
  console.error(`n=${n}: ${mismatched} of ${queries.length} queries with other slots, max score difference ${maxDiff.toExponential(1)}`);
}
console.log('| memories | index | ms/query p50 | p95 | ms/10 queries p50 | index MB | with spare capacity MB |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
