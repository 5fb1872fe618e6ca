/**
 * batch_search `explain`: each hit says why it ranked, in the ranking's own
 * terms, and the numbers agree with the score: no own text evidence means
 * the score came from neighbours; a boost's factor is exactly the ratio of
 * the boosted to the plain score.
 */
import { describe, expect, it } from 'vitest';
import { remember, search, uniqueWord, useHarness } from '../tools/_helpers.js';

interface Hit {
  id: string;
  score: number;
  explain?: { text_evidence: number | null; vector_similarity: number | null; neighbour_share: number; boost: number };
}
const hitsOf = (out: any, i = 0): Hit[] => out.results[i].results;

describe('batch_search explain', () => {
  const h = useHarness();

  it('is off by default, and each mode reports only the signals it reads', async () => {
    const w = uniqueWord();
    await remember(h(), [{ content: `the ${w} lamp is on the desk` }]);
    const plain = await search(h(), [{ query: `${w} lamp` }]);
    expect(hitsOf(plain)[0]!.explain).toBeUndefined();

    const out = await search(h(), [
      { query: `${w} lamp`, mode: 'hybrid', explain: true },
      { query: `${w} lamp`, mode: 'text', explain: true },
      { query: `${w} lamp`, mode: 'vector', explain: true },
    ]);
    const [hybrid, text, vector] = [0, 1, 2].map((i) => hitsOf(out, i)[0]!.explain!) as [NonNullable<Hit['explain']>, NonNullable<Hit['explain']>, NonNullable<Hit['explain']>];
    expect(hybrid.text_evidence).toBeGreaterThan(0);
    expect(hybrid.vector_similarity).toBeGreaterThan(0);
    expect(text.text_evidence).toBe(hybrid.text_evidence);
    expect(text.vector_similarity).toBeNull();
    expect(vector.text_evidence).toBeNull();
    expect(vector.vector_similarity).toBe(hybrid.vector_similarity);
    // The only memory yet: nothing is lent to it; no boost was asked for.
    for (const e of [hybrid, text, vector]) expect(e).toMatchObject({ neighbour_share: 0, boost: 1 });
  });

  it('a reply that shares no word with the query ranks by what its question lends it: text evidence 0, neighbour share 1', async () => {
    const w = uniqueWord();
    const out = await remember(h(), [{ content: `which ${w} should I buy?`, type: 'turn' }, { content: 'the blue one, it is cheaper', type: 'turn' }]);
    const reply = out.results[1].id as string;
    const hits = hitsOf(await search(h(), [{ query: `${w}`, mode: 'hybrid', explain: true }]));
    const lent = hits.find((x) => x.id === reply)!;
    expect(lent.explain).toMatchObject({ text_evidence: 0, neighbour_share: 1, boost: 1 });
    expect(hits[0]!.explain!.text_evidence).toBeGreaterThan(0);
    expect(hits[0]!.explain!.neighbour_share).toBeLessThan(1);
  });

  it('the boost factor is the boosted score over the plain one', async () => {
    const w = uniqueWord();
    await remember(h(), [{ content: `${w} notes for the meeting`, importance: 1, pinned: true }]);
    const out = await search(h(), [
      { query: w, mode: 'text', explain: true },
      { query: w, mode: 'text', explain: true, boost: { importance: 1, pinned: 1 } },
    ]);
    const plain = hitsOf(out, 0)[0]!;
    const boosted = hitsOf(out, 1)[0]!;
    // importance 1 and pinned: every signal at its maximum, so the score is unchanged…
    expect(boosted.explain!.boost).toBe(1);
    expect(boosted.score).toBe(plain.score);
    const low = await remember(h(), [{ content: `${w} minutes of the meeting`, importance: 0 }]);
    const again = hitsOf(await search(h(), [{ query: `${w} minutes`, mode: 'text', explain: true, boost: { importance: 1 } }]));
    const hit = again.find((x) => x.id === low.results[0].id)!;
    // …and at importance 0 the factor is (1 + 0) / (1 + 1).
    expect(hit.explain!.boost).toBe(0.5);
  });
});
