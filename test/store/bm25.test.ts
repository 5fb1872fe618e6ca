/**
 * The replica's full-text index (src/store/replica/bm25.ts) against BM25
 * worked out from scratch over the live documents: the same hits in the same
 * order, the same scores, and the same idf mass of the query terms each hit
 * holds (`matchedIdf`, which the ranking's "holds every word" share is made
 * of; it is looked up for the hits only, in each term's postings), through
 * removals, re-adds at new slots, repeated and unknown query terms, and a
 * filter that turns hits away.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/speed/corpus.js';
import { Bm25Index } from '../../src/store/replica/bm25.js';

const K1 = 1.2;
const B = 0.75;

/** BM25 as LanceDB scores it, over `live` (slot → terms), for the distinct query terms. */
function bruteForce(live: Map<number, string[]>, query: string[], k: number, accept: (slot: number) => boolean) {
  const docs = live.size;
  const avg = [...live.values()].reduce((sum, t) => sum + t.length, 0) / docs;
  const terms = [...new Set(query)];
  const df = new Map(terms.map((t) => [t, [...live.values()].filter((d) => d.includes(t)).length]));
  const idf = (n: number) => Math.log(1 + (docs - n + 0.5) / (n + 0.5));
  const hits: Array<{ slot: number; score: number; matchedIdf: number }> = [];
  for (const [slot, doc] of live) {
    let score = 0;
    let matchedIdf = 0;
    for (const t of terms) {
      const tf = doc.filter((x) => x === t).length;
      if (tf === 0) continue;
      const w = idf(df.get(t)!);
      score += (w * (K1 + 1) * tf) / (tf + K1 * (1 - B + (B * doc.length) / avg));
      matchedIdf += w;
    }
    if (score > 0 && accept(slot)) hits.push({ slot, score, matchedIdf });
  }
  // TopK's order: best first, ties to the higher slot.
  return hits.sort((a, b) => b.score - a.score || b.slot - a.slot).slice(0, k);
}

describe('Bm25Index', () => {
  it('answers as BM25 from scratch over the live documents, through removals and re-adds', () => {
    const rand = mulberry32(7);
    const vocabulary = Array.from({ length: 40 }, (_, i) => `w${i}`);
    // Zipf-like: a few words in most documents, most in a few.
    const word = () => vocabulary[Math.floor(vocabulary.length * rand() ** 2.5)]!;
    const doc = () => Array.from({ length: 1 + Math.floor(rand() * 12) }, word);
    const index = new Bm25Index();
    const live = new Map<number, string[]>();
    const alive = new Uint8Array(4096);
    let slot = 0;
    const add = (terms: string[]) => {
      index.add(slot, terms);
      live.set(slot, terms);
      alive[slot] = 1;
      slot++;
    };
    for (let i = 0; i < 600; i++) add(doc());
    // Removed, some of them written again at a new slot (an upsert), as the replica does.
    for (const s of [...live.keys()].filter(() => rand() < 0.3)) {
      const terms = live.get(s)!;
      index.remove(terms);
      live.delete(s);
      alive[s] = 0;
      if (rand() < 0.5) add(rand() < 0.5 ? terms : doc());
    }
    expect(index.size.docs).toBe(live.size);
    const filters = [() => true, (s: number) => s % 3 !== 0];
    let compared = 0;
    for (let q = 0; q < 200; q++) {
      const query = [...Array.from({ length: 1 + Math.floor(rand() * 5) }, word), ...(q % 7 === 0 ? ['never-written'] : []), ...(q % 5 === 0 ? ['w0', 'w0'] : [])];
      for (const accept of filters) {
        const k = q % 2 === 0 ? 10 : 100;
        const want = bruteForce(live, query, k, accept);
        const got = index.search(query, k, alive, accept);
        expect(got.map((h) => h.slot), `query ${query.join(' ')}`).toEqual(want.map((h) => h.slot));
        got.forEach((h, i) => {
          expect(h.score).toBeCloseTo(want[i]!.score, 10);
          expect(h.matchedIdf).toBeCloseTo(want[i]!.matchedIdf, 10);
        });
        compared += got.length;
      }
    }
    expect(compared, 'the queries found something to compare').toBeGreaterThan(5_000);
  });

  it('refuses a slot that is not past every slot it holds (its postings stay in slot order)', () => {
    const index = new Bm25Index();
    index.add(3, ['a']);
    expect(() => index.add(3, ['b'])).toThrow(/ascending/);
    expect(() => index.add(1, ['b'])).toThrow(/ascending/);
    index.add(4, ['a']);
    expect(index.size.docs).toBe(2);
  });
});
