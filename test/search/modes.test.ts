/**
 * batch_search score semantics (contract §4: `score` in [0, 1], higher is
 * better, best first; `min_score` drops results below it) and index freshness:
 * what text mode finds right after writes, updates, deletes and compaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';

const MODES = ['text', 'vector', 'hybrid'] as const;
type Mode = (typeof MODES)[number];

interface Hit {
  id: string;
  score: number;
  content: string;
}

async function query(h: Harness, q: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Hit[]> {
  const out = await h.ok('batch_search', { queries: [q], ...extra });
  const r = out.results[0];
  expect(r.status, JSON.stringify(r)).toBe('ok');
  expect(r.total).toBe(r.results.length);
  return r.results;
}

const ids = (hits: Hit[]) => hits.map((x) => x.id);

function expectWellFormed(hits: Hit[]): void {
  for (const x of hits) {
    expect(Number.isFinite(x.score)).toBe(true);
    expect(x.score).toBeGreaterThanOrEqual(0);
    expect(x.score).toBeLessThanOrEqual(1);
  }
  const scores = hits.map((x) => x.score);
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
}

const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt labore dolore magna aliqua';

describe('scores: range, order, min_score, stability', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    // One session of 150 memories that all contain "alpha": short ones (strong
    // text matches) alternate with long ones (weak matches), so the strong
    // matches' session neighbours are weak matches. Lengths vary, so scores do.
    const memories = Array.from({ length: 150 }, (_, i) =>
      i % 2 === 0
        ? { content: `alpha beacon ${i}${' x' + i} `.repeat(1 + (i % 5)) }
        : { content: `alpha ${FILLER} ${FILLER} entry ${i} ${'w' + i} ${'v' + i} ${'u' + i} ${'t' + i} `.repeat(1 + (i % 4)) },
    );
    for (let i = 0; i < memories.length; i += 100) {
      const out = await h.ok('batch_remember', { memories: memories.slice(i, i + 100) });
      expect(out.failed).toBe(0);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const mode of MODES) {
    it(`${mode}: scores are in [0, 1], best first, and the same query twice scores the same`, async () => {
      const q = { query: 'alpha beacon entry', mode, limit: 100 };
      const out = await h.ok('batch_search', { queries: [q, q] });
      const [a, b]: Hit[][] = out.results.map((r: any) => r.results as Hit[]);
      expect(a!.length).toBeGreaterThan(10);
      expectWellFormed(a!);
      expect(b).toEqual(a);
      const again = await query(h, q);
      expect(again.map((x) => [x.id, x.score])).toEqual(a!.map((x: Hit) => [x.id, x.score]));
    });

    it(`${mode}: min_score between two scores keeps exactly the results above it`, async () => {
      const full = await query(h, { query: 'alpha beacon', mode, limit: 100 });
      expectWellFormed(full);
      const distinct = [...new Set(full.map((x) => x.score))];
      expect(distinct.length).toBeGreaterThan(3);
      for (const j of [0, 1, Math.floor(distinct.length / 2), distinct.length - 2]) {
        const t = (distinct[j]! + distinct[j + 1]!) / 2;
        const got = await query(h, { query: 'alpha beacon', mode, limit: 100, min_score: t });
        for (const x of got) expect(x.score).toBeGreaterThanOrEqual(t);
        expect(ids(got), `min_score ${t}`).toEqual(ids(full.filter((x) => x.score >= t)));
      }
      // Above every score: nothing.
      expect(await query(h, { query: 'alpha beacon', mode, limit: 100, min_score: Math.min(1, distinct[0]! + 1e-3) })).toEqual([]);
    });

    it(`${mode}: min_score equal to a returned score keeps that result (min_score applies to the reported score)`, async () => {
      const full = await query(h, { query: 'alpha beacon', mode, limit: 100 });
      const distinct = [...new Set(full.map((x) => x.score))].slice(0, 25);
      const lost: string[] = [];
      for (const t of distinct) {
        const got = await query(h, { query: 'alpha beacon', mode, limit: 100, min_score: t });
        for (const x of got) expect(x.score, `min_score ${t}`).toBeGreaterThanOrEqual(t);
        const want = full.filter((x) => x.score >= t).map((x) => x.id);
        const have = new Set(ids(got));
        for (const id of want) if (!have.has(id)) lost.push(`${id} (reported score ${t}, dropped by min_score ${t})`);
      }
      expect(lost, 'results whose reported score equals min_score were dropped').toEqual([]);
    });

    it(`${mode}: a memory's score and rank do not depend on limit`, async () => {
      const full = await query(h, { query: 'alpha beacon', mode, limit: 100 });
      expect(full.length).toBe(100);
      for (const k of [1, 5, 10, 33, 34, 50]) {
        const got = await query(h, { query: 'alpha beacon', mode, limit: k });
        expect(got.map((x) => [x.id, x.score]), `limit ${k}`).toEqual(full.slice(0, k).map((x) => [x.id, x.score]));
      }
    });
  }
});

describe('index freshness: text mode sees every write at once, before and after compaction', () => {
  let h: Harness;
  const idOf: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  /**
   * Text hits for `word` whose content contains it. (Session neighbours of a
   * match may rank too — contract §4 — so whole result lists are not compared.)
   */
  const textIds = async (word: string) =>
    (await query(h, { query: word, mode: 'text', limit: 100 })).filter((x) => x.content.toLowerCase().includes(word)).map((x) => x.id);
  /** Every text hit for `word`, neighbours included. */
  const anyTextIds = async (word: string) => ids(await query(h, { query: word, mode: 'text', limit: 100 }));

  it('finds memories written before and after the full-text index was (re)built', async () => {
    const first = await h.ok('batch_remember', { memories: [{ content: 'kumquat orchard by the river' }, { content: 'persimmon tree in the yard' }] });
    idOf.kumquat = first.results[0].id;
    idOf.persimmon = first.results[1].id;
    // Builds the full-text index over what is stored now.
    await h.app.maintainer.compactAll();
    expect(await textIds('kumquat')).toEqual([idOf.kumquat]);

    const later = await h.ok('batch_remember', { memories: [{ content: 'rambutan grove on the hill' }] });
    idOf.rambutan = later.results[0].id;
    expect(await textIds('rambutan')).toEqual([idOf.rambutan]);
    expect(await textIds('kumquat')).toEqual([idOf.kumquat]);
  });

  it('after batch_update of content, new words are found and old words are not', async () => {
    const out = await h.ok('batch_update', { updates: [{ id: idOf.kumquat, content: 'durian plantation near the sea' }] });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
    expect(await textIds('durian')).toEqual([idOf.kumquat]);
    expect(await anyTextIds('kumquat')).toEqual([]);
    expect(await anyTextIds('orchard')).toEqual([]);
  });

  it('after batch_delete, the memory is not found in any mode', async () => {
    const out = await h.ok('batch_delete', { ids: [idOf.rambutan] });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
    expect(await anyTextIds('rambutan')).toEqual([]);
    for (const mode of MODES) expect(ids(await query(h, { query: 'rambutan grove on the hill', mode, limit: 100 }))).not.toContain(idOf.rambutan);
  });

  it('after compactAll, all of it still holds', async () => {
    await h.app.maintainer.compactAll();
    expect(await textIds('durian')).toEqual([idOf.kumquat]);
    expect(await anyTextIds('kumquat')).toEqual([]);
    expect(await anyTextIds('rambutan')).toEqual([]);
    expect(await textIds('persimmon')).toEqual([idOf.persimmon]);
    for (const mode of MODES) expect(ids(await query(h, { query: 'rambutan grove on the hill', mode, limit: 100 }))).not.toContain(idOf.rambutan);

    // And a write after that compaction is found at once again; a second update too.
    const more = await h.ok('batch_remember', { memories: [{ content: 'lychee basket at the market' }] });
    expect(await textIds('lychee')).toEqual([more.results[0].id]);
    await h.ok('batch_update', { updates: [{ id: idOf.persimmon, content: 'mangosteen crate in the cellar' }] });
    expect(await textIds('mangosteen')).toEqual([idOf.persimmon]);
    expect(await anyTextIds('persimmon')).toEqual([]);
    await h.app.maintainer.compactAll();
    expect(await textIds('mangosteen')).toEqual([idOf.persimmon]);
    expect(await anyTextIds('persimmon')).toEqual([]);
  });
});

describe('expired memories are never returned by search', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('not as hits in any mode, not through neighbours, not as context, not after compaction', async () => {
    // A question, its soon-expiring answer, and a lasting memory, in one session.
    const out = await h.ok('batch_remember', {
      memories: [
        { content: 'A: which zeppelin hangar did we visit?' },
        { content: 'B: the zeppelin hangar in Friedrichshafen, briefly', ttl_seconds: 1 },
        { content: 'B: and then we had lunch by the lake' },
        { content: 'zeppelin ephemeral note', ttl_seconds: 1 },
      ],
    });
    expect(out.failed).toBe(0);
    const [question, answer, lunch, note] = out.results.map((r: any) => r.id as string);
    const before = await query(h, { query: 'zeppelin', mode: 'text', limit: 100, context: 2 });
    expect(ids(before)).toEqual(expect.arrayContaining([question, answer, note]));

    await new Promise((r) => setTimeout(r, 1_200));
    const check = async () => {
      for (const mode of MODES) {
        for (const q of ['zeppelin', 'zeppelin hangar Friedrichshafen', 'ephemeral note', 'lunch lake']) {
          const hits = await query(h, { query: q, mode, limit: 100, context: 5 });
          expect(ids(hits), `${mode} "${q}"`).not.toContain(answer);
          expect(ids(hits), `${mode} "${q}"`).not.toContain(note);
          for (const x of hits as any[]) {
            for (const c of x.context ?? []) {
              expect(c.id).not.toBe(answer);
              expect(c.id).not.toBe(note);
            }
          }
        }
      }
      const hits: any[] = await query(h, { query: 'zeppelin', mode: 'text', limit: 100, context: 1 });
      expect(ids(hits)).toContain(question);
      // Context is by write position: the expired answer's slot is simply empty.
      const q = hits.find((x) => x.id === question);
      expect(q.context.map((c: any) => c.id)).toEqual([]);
      expect(ids(await query(h, { query: 'lunch lake', mode: 'text', limit: 100 }))).toContain(lunch);
    };
    await check();
    await h.app.maintainer.compactAll();
    await check();
  });
});
