/**
 * After a full load the replica gives back the index space that growing by
 * doubling left unused (src/store/replica/growable.ts `trimmed`): posting
 * arrays and dense rows cut to what they hold plus headroom. Answers must not
 * change, writes after the trim must still land, and a load must trim.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trimmed } from '../../src/store/replica/growable.js';
import { Bm25Index } from '../../src/store/replica/bm25.js';
import { AgentReplica } from '../../src/store/replica/replica.js';
import { vectorIndexFor } from '../../src/store/replica/vectors.js';
import { mulberry32 } from '../../bench/speed/corpus.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const h of open.splice(0).reverse()) await h.close();
});

function sparse(r: () => number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < 20; i++) v[Math.floor(r() * dim)] = r() - 0.3;
  return v;
}

describe('trimmed', () => {
  it('keeps what is used plus an eighth, only when that saves at least a quarter, contents unchanged', () => {
    const a = Int32Array.from({ length: 1024 }, (_, i) => i);
    const t = trimmed(a, 500);
    expect(t.length).toBe(562);
    expect(Array.from(t.subarray(0, 500))).toEqual(Array.from(a.subarray(0, 500)));
    expect(trimmed(a, 800), 'saving less than a quarter: the same array').toBe(a);
    expect(trimmed(new Float64Array(16), 0).length).toBe(8);
  });
});

describe('indexes trimmed after loading', () => {
  for (const provider of ['local', 'openai']) {
    // (openai's dense rows are left as they are: see DenseVectors.trim; the answers must hold all the same.)
    it(`${provider} vectors: the same answers before and after, and appends after it land`, () => {
      const dim = 64;
      const r = mulberry32(7);
      const vectors = Array.from({ length: 3000 }, () => sparse(r, dim));
      const queries = Array.from({ length: 20 }, () => sparse(r, dim));
      const alive = new Uint8Array(4096).fill(1);
      const search = (ix: ReturnType<typeof vectorIndexFor>) => queries.map((q) => ix.search(q, 10, alive, () => true));
      const index = vectorIndexFor(provider, dim);
      for (let slot = 0; slot < 1500; slot++) index.add(slot, vectors[slot]!);
      const before = search(index);
      index.trim();
      expect(search(index)).toEqual(before);
      for (let slot = 1500; slot < 3000; slot++) index.add(slot, vectors[slot]!);
      // The same vectors in an index never trimmed: the same answers.
      const untrimmed = vectorIndexFor(provider, dim);
      vectors.forEach((v, slot) => untrimmed.add(slot, v));
      expect(search(index)).toEqual(search(untrimmed));
      expect(search(index)).not.toEqual(before); // the later vectors are found too
    });
  }

  it('BM25: the same scores before and after, and documents added after it are found', () => {
    const bm25 = new Bm25Index();
    const alive = new Uint8Array(2048).fill(1);
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
    for (let slot = 0; slot < 1000; slot++) bm25.add(slot, [words[slot % 7]!, words[(slot * 3) % 7]!, `w${slot % 50}`]);
    const before = bm25.search(['alpha', 'w3'], 10, alive, () => true);
    bm25.trim();
    expect(bm25.search(['alpha', 'w3'], 10, alive, () => true)).toEqual(before);
    bm25.add(1000, ['neverbefore', 'alpha']);
    expect(bm25.search(['neverbefore'], 10, alive, () => true).map((m) => m.slot)).toEqual([1000]);
  });
});

describe('a replica load', () => {
  it('trims its indexes once the table is read', async () => {
    const h = await startHarness();
    open.push(h);
    await h.ok('batch_remember', { memories: Array.from({ length: 30 }, (_, i) => ({ content: `memory number ${i} about the trimming of arrays` })) });
    const trim = vi.spyOn(AgentReplica.prototype, 'trim');
    // A second process on the same database loads the replica from the table.
    const other = await startHarness({ dir: h.dir });
    open.push(other);
    const found = await other.ok('batch_search', { queries: [{ query: 'trimming arrays', limit: 3 }] });
    expect(found.results[0].results).toHaveLength(3);
    expect(trim).toHaveBeenCalledTimes(1);
  });
});
