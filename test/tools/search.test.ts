import { beforeAll, describe, expect, it } from 'vitest';
import { WALL_VARIANTS } from '../helpers/walls.js';
import { ISO, axisVector, expectItemError, remember, search, searchIds, sleep, uniqueWord, useHarness } from './_helpers.js';

const HIT_FIELDS = [
  'id',
  'score',
  'content',
  'type',
  'title',
  'tags',
  'metadata',
  'confidence',
  'importance',
  'pinned',
  'immutable',
  'created_at',
  'updated_at',
  'expires_at',
  'session_id',
  'version',
].sort();

const sorted = (a: string[]) => [...a].sort();

describe('batch_search: modes, scores, limits', () => {
  const h = useHarness();
  const corpus = [
    'penguins huddle together on the antarctic ice shelf',
    'the stock market fell sharply on monday morning',
    'my grandmother bakes sourdough bread every sunday',
    'the spacecraft reached lunar orbit yesterday evening',
    'our team standup meeting moved to nine thirty',
  ];
  let ids: string[] = [];

  beforeAll(async () => {
    const out = await remember(h(), corpus.map((content) => ({ content })));
    ids = out.results.map((r: any) => r.id);
  });

  for (const mode of ['vector', 'text', 'hybrid'] as const) {
    it(`mode ${mode} returns the relevant memory first`, async () => {
      const out = await search(h(), [
        { query: 'sourdough bread baking grandmother', mode },
        { query: 'spacecraft lunar orbit', mode },
        { query: 'penguins antarctic', mode },
      ]);
      expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'ok']);
      expect(out.results[0].results[0].id).toBe(ids[2]);
      expect(out.results[1].results[0].id).toBe(ids[3]);
      expect(out.results[2].results[0].id).toBe(ids[0]);
      for (const r of out.results) {
        expect(r.action).toBe('searched');
        expect(r.total).toBe(r.results.length);
      }
    });

    it(`mode ${mode}: every score is in [0, 1] and results are sorted best first`, async () => {
      const out = await search(h(), [{ query: 'the morning bread on monday and the orbit', mode, limit: 100 }]);
      const scores: number[] = out.results[0].results.map((x: any) => x.score);
      expect(scores.length).toBeGreaterThan(0);
      for (const s of scores) {
        expect(Number.isFinite(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
      }
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });
  }

  it('the default mode is hybrid and the default limit is 10', async () => {
    const extra = await remember(h(), Array.from({ length: 12 }, (_, i) => ({ content: `filler note number ${i} about the weekly team meeting` })));
    expect(extra.succeeded).toBe(12);
    const [dflt, hybrid] = (await search(h(), [{ query: 'weekly team meeting' }, { query: 'weekly team meeting', mode: 'hybrid' }])).results;
    expect(dflt.results).toHaveLength(10);
    expect(dflt.results.map((x: any) => x.id)).toEqual(hybrid.results.map((x: any) => x.id));
  });

  it('every hit carries exactly the fields of contract §4', async () => {
    const out = await search(h(), [{ query: 'sourdough penguins market', limit: 3 }]);
    expect(out.results[0].results).toHaveLength(3);
    for (const hit of out.results[0].results) expect(Object.keys(hit).sort()).toEqual(HIT_FIELDS);
  });

  it('limit bounds the number of results', async () => {
    for (const limit of [1, 2, 4]) {
      for (const mode of ['text', 'vector', 'hybrid']) {
        const out = await search(h(), [{ query: 'penguins market sourdough spacecraft standup', mode, limit }]);
        expect(out.results[0].results, mode).toHaveLength(limit);
        expect(out.results[0].total, mode).toBe(limit);
      }
    }
  });

  it('limit outside 1–100 or not an integer is a VALIDATION_ERROR at queries[i].limit', async () => {
    const out = await search(h(), [
      { query: 'x', limit: 0 },
      { query: 'x', limit: 101 },
      { query: 'x', limit: 2.5 },
      { query: 'x', limit: 100 },
    ]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].limit');
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].limit');
    expectItemError(out, 2, 'VALIDATION_ERROR', 'queries[2].limit');
    expect(out.results[3].status).toBe('ok');
  });

  it('min_score drops every result scoring below it', async () => {
    const all = (await search(h(), [{ query: 'sourdough bread on sunday morning in lunar orbit', mode: 'hybrid', limit: 100 }])).results[0].results;
    expect(all.length).toBeGreaterThan(2);
    const threshold = (all[0].score + all[all.length - 1].score) / 2;
    const kept = all.filter((x: any) => x.score >= threshold).map((x: any) => x.id);
    expect(kept.length).toBeLessThan(all.length);
    const out = await search(h(), [{ query: 'sourdough bread on sunday morning in lunar orbit', mode: 'hybrid', limit: 100, min_score: threshold }]);
    const got = out.results[0].results;
    for (const x of got) expect(x.score).toBeGreaterThanOrEqual(threshold);
    expect(got.map((x: any) => x.id)).toEqual(kept);
    // The best score as the threshold keeps exactly the hits with that score (the best one among them).
    const best = await search(h(), [{ query: 'sourdough bread on sunday morning in lunar orbit', mode: 'hybrid', limit: 100, min_score: all[0].score }]);
    expect(best.results[0].results.map((x: any) => x.id)).toEqual(all.filter((x: any) => x.score === all[0].score).map((x: any) => x.id));
    expect(best.results[0].results[0].id).toBe(all[0].id);
    // Scores stay below 1 (evidence saturates towards it), so min_score 1 keeps nothing, and says so without an error.
    const none = await search(h(), [{ query: 'sourdough bread', min_score: 1 }]);
    expect(none.results[0]).toMatchObject({ status: 'ok', total: 0, results: [] });
  });

  it('min_score outside [0, 1] is a VALIDATION_ERROR', async () => {
    const out = await search(h(), [{ query: 'x', min_score: -0.1 }, { query: 'x', min_score: 1.5 }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].min_score');
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].min_score');
  });

  it('several queries in one call each get their own result, in input order', async () => {
    const out = await search(h(), [{ query: 'penguins' }, { query: 'stock market' }, { query: 'standup meeting nine thirty' }]);
    expect(out.results.map((r: any) => r.index)).toEqual([0, 1, 2]);
    expect(out.results.map((r: any) => r.results[0].id)).toEqual([ids[0], ids[1], ids[4]]);
  });

  it('a query of only punctuation in text mode returns nothing, without an error', async () => {
    const out = await search(h(), [{ query: '"(:*)" --', mode: 'text' }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', total: 0, results: [] });
  });

  it('a caller query embedding is used in vector mode; a wrong length is a VALIDATION_ERROR', async () => {
    const dim = h().app.embedder.dim;
    const word = uniqueWord();
    const own = await remember(h(), [{ content: `${word} with a custom vector`, embedding: axisVector(dim, 200) }]);
    const out = await search(h(), [
      { query: 'ignored', mode: 'vector', embedding: axisVector(dim, 200), limit: 1 },
      { query: 'ignored', mode: 'vector', embedding: [1, 2, 3] },
    ]);
    expect(out.results[0].results[0].id).toBe(own.results[0].id);
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].embedding');
  });

  it('an empty or whitespace query is a VALIDATION_ERROR', async () => {
    const out = await search(h(), [{ query: '' }, { query: '   ' }, { query: 'ok' }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].query');
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].query');
    expect(out.results[2].status).toBe('ok');
  });
});

describe.each(WALL_VARIANTS)('batch_search: filters: $name', ({ removeWall }) => {
  const h = useHarness({ ...(removeWall && { removeWall }) });
  const W = uniqueWord('flt');
  let m1: string, m2: string, m3: string, m4: string;
  let defaultSession: string;
  let otherSession: string;
  let otherToken: string;
  let mid: string;

  beforeAll(async () => {
    const out = await remember(h(), [
      { content: `${W} one`, type: 'fact', tags: ['alpha', 'beta'], source: 'user', pinned: true, metadata: { project: 'apollo', n: 1, flag: true } },
      { content: `${W} two`, type: 'event', tags: ['beta'], source: 'agent', metadata: { project: 'zeus', nested: { project: 'apollo' } } },
      { content: `${W} three`, type: 'preference', tags: ['gamma'], source: 'tool', metadata: { project: 'apollo', n: 2, nothing: null } },
    ]);
    [m1, m2, m3] = out.results.map((r: any) => r.id);
    defaultSession = out.session_id;
    await sleep(25);
    mid = new Date().toISOString();
    await sleep(25);
    const other = await h().app.sessions.create('default');
    otherToken = other.token;
    otherSession = other.session_id;
    const out2 = await remember(h(), [{ content: `${W} four`, type: 'instruction', tags: ['delta'], metadata: { n: '1' } }], { session_token: otherToken });
    m4 = out2.results[0].id;
    expect(out2.session_id).toBe(otherSession);
    // Another agent holds the very same memories: no filter may ever return them here.
    const { token: malloryToken } = await h().app.sessions.create('mallory');
    const decoys = await remember(
      h(),
      [
        { content: `${W} one`, type: 'fact', tags: ['alpha', 'beta'], source: 'user', pinned: true, metadata: { project: 'apollo', n: 1, flag: true } },
        { content: `${W} two`, type: 'event', tags: ['beta'], source: 'agent', metadata: { project: 'zeus', nested: { project: 'apollo' } } },
        { content: `${W} three`, type: 'preference', tags: ['gamma'], source: 'tool', metadata: { project: 'apollo', n: 2, nothing: null } },
        { content: `${W} four`, type: 'instruction', tags: ['delta'], metadata: { n: '1' } },
      ],
      { session_token: malloryToken },
    );
    expect(decoys.results.map((r: any) => r.action)).toEqual(['created', 'created', 'created', 'created']);
  });

  const find = async (filter: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}, q: Record<string, unknown> = {}) =>
    sorted(await searchIds(h(), { query: W, mode: 'text', limit: 100, ...(filter && { filter }), ...q }, extra));

  it('without a filter finds all four', async () => {
    expect(await find(undefined)).toEqual(sorted([m1, m2, m3, m4]));
  });

  it('types keeps only the listed types', async () => {
    expect(await find({ types: ['event'] })).toEqual([m2]);
    expect(await find({ types: ['fact', 'preference'] })).toEqual(sorted([m1, m3]));
    expect(await find({ types: ['nonexistent'] })).toEqual([]);
  });

  it('tags_any keeps memories with at least one of the tags', async () => {
    expect(await find({ tags_any: ['alpha', 'gamma'] })).toEqual(sorted([m1, m3]));
    expect(await find({ tags_any: ['beta'] })).toEqual(sorted([m1, m2]));
    expect(await find({ tags_any: ['nope'] })).toEqual([]);
  });

  it('tags_all keeps memories with every one of the tags', async () => {
    expect(await find({ tags_all: ['alpha', 'beta'] })).toEqual([m1]);
    expect(await find({ tags_all: ['beta'] })).toEqual(sorted([m1, m2]));
    expect(await find({ tags_all: ['beta', 'gamma'] })).toEqual([]);
  });

  it('session_id keeps memories written in that session', async () => {
    expect(await find({ session_id: otherSession })).toEqual([m4]);
    expect(await find({ session_id: defaultSession })).toEqual(sorted([m1, m2, m3]));
    expect(await find({ session_id: 'ses_0000000000000000' })).toEqual([]);
  });

  it('a malformed session_id filter is a VALIDATION_ERROR', async () => {
    const out = await search(h(), [{ query: W, filter: { session_id: "ses_' OR 1=1 --" } }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].filter.session_id');
  });

  it('source keeps memories with that source', async () => {
    expect(await find({ source: 'user' })).toEqual([m1]);
    expect(await find({ source: 'agent' })).toEqual(sorted([m2, m4]));
  });

  it('pinned keeps pinned or unpinned memories', async () => {
    expect(await find({ pinned: true })).toEqual([m1]);
    expect(await find({ pinned: false })).toEqual(sorted([m2, m3, m4]));
  });

  it('created_after and created_before split by creation time', async () => {
    expect(await find({ created_after: mid })).toEqual([m4]);
    expect(await find({ created_before: mid })).toEqual(sorted([m1, m2, m3]));
    expect(await find({ created_after: mid, created_before: mid })).toEqual([]);
    expect(await find({ created_after: '2000-01-01T00:00:00Z', created_before: '2999-01-01T00:00:00+02:00' })).toEqual(sorted([m1, m2, m3, m4]));
  });

  it('a created_after that is not ISO-8601 is a VALIDATION_ERROR', async () => {
    const out = await search(h(), [{ query: W, filter: { created_after: 'yesterday' } }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].filter.created_after');
  });

  it('metadata matches top-level keys exactly; a nested key with the same value does not match', async () => {
    expect(await find({ metadata: { project: 'apollo' } })).toEqual(sorted([m1, m3]));
    expect(await find({ metadata: { project: 'zeus' } })).toEqual([m2]);
    expect(await find({ metadata: { n: 1 } })).toEqual([m1]);
    expect(await find({ metadata: { n: '1' } })).toEqual([m4]);
    expect(await find({ metadata: { flag: true } })).toEqual([m1]);
    expect(await find({ metadata: { nothing: null } })).toEqual([m3]);
    expect(await find({ metadata: { project: 'apollo', n: 2 } })).toEqual([m3]);
    expect(await find({ metadata: { project: 'apoll' } })).toEqual([]);
    expect(await find({ metadata: { missing: 'apollo' } })).toEqual([]);
  });

  it('metadata filter works in vector and hybrid modes too', async () => {
    for (const mode of ['vector', 'hybrid']) {
      expect(await find({ metadata: { project: 'apollo' } }, {}, { mode }), mode).toEqual(sorted([m1, m3]));
    }
  });

  it('conditions combine with AND', async () => {
    expect(await find({ tags_any: ['beta', 'gamma'], metadata: { project: 'apollo' }, pinned: false })).toEqual([m3]);
    expect(await find({ types: ['fact'], source: 'agent' })).toEqual([]);
  });

  it('an unknown filter key is a VALIDATION_ERROR naming it', async () => {
    const out = await search(h(), [{ query: W, filter: { tag: ['alpha'] } }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].filter.tag');
  });

  it('scope "session" limits the search to the caller session', async () => {
    expect(await find(undefined, {}, { scope: 'session' })).toEqual(sorted([m1, m2, m3]));
    expect(await find(undefined, { session_token: otherToken }, { scope: 'session' })).toEqual([m4]);
    expect(await find(undefined, { session_token: otherToken }, { scope: 'agent' })).toEqual(sorted([m1, m2, m3, m4]));
    // A session filter for another session inside scope "session" finds nothing.
    expect(await find({ session_id: otherSession }, {}, { scope: 'session' })).toEqual([]);
  });
});

describe('batch_search: context and boost', () => {
  const h = useHarness();

  it('context n returns the n neighbours on each side in write order', async () => {
    const { token } = await h().app.sessions.create('default');
    const words = [0, 1, 2, 3, 4].map(() => uniqueWord('ctx'));
    const out = await remember(h(), words.map((w, i) => ({ content: `${w} conversation turn ${i}` })), { session_token: token });
    const ids = out.results.map((r: any) => r.id);

    const res = await search(h(), [{ query: words[2], mode: 'text', context: 2, limit: 1 }], { session_token: token });
    const hit = res.results[0].results[0];
    expect(hit.id).toBe(ids[2]);
    expect(hit.context.map((c: any) => c.id)).toEqual([ids[0], ids[1], ids[3], ids[4]]);
    expect(hit.context.map((c: any) => c.content)).toEqual([0, 1, 3, 4].map((i) => `${words[i]} conversation turn ${i}`));
    for (const c of hit.context) {
      expect(Object.keys(c).sort()).toEqual(['content', 'created_at', 'id']);
      expect(c.created_at).toMatch(ISO);
    }

    const edge = await search(h(), [{ query: words[0], mode: 'text', context: 2, limit: 1 }], { session_token: token });
    expect(edge.results[0].results[0].id).toBe(ids[0]);
    expect(edge.results[0].results[0].context.map((c: any) => c.id)).toEqual([ids[1], ids[2]]);

    const one = await search(h(), [{ query: words[3], mode: 'text', context: 1, limit: 1 }], { session_token: token });
    expect(one.results[0].results[0].context.map((c: any) => c.id)).toEqual([ids[2], ids[4]]);
  });

  it('context spans separate calls of the same session, in write order', async () => {
    const { token } = await h().app.sessions.create('default');
    const words = [0, 1, 2].map(() => uniqueWord('cty'));
    const ids: string[] = [];
    for (const w of words) ids.push((await remember(h(), [{ content: `${w} separate call` }], { session_token: token })).results[0].id);
    const res = await search(h(), [{ query: words[1], mode: 'text', context: 5, limit: 1 }], { session_token: token });
    expect(res.results[0].results[0].context.map((c: any) => c.id)).toEqual([ids[0], ids[2]]);
  });

  it('context 0 (the default) adds no context field', async () => {
    const w = uniqueWord();
    await remember(h(), [{ content: `${w} no context here` }]);
    const res = await search(h(), [{ query: w, mode: 'text' }]);
    expect(res.results[0].results[0]).not.toHaveProperty('context');
  });

  it('context over 5 is a VALIDATION_ERROR', async () => {
    expectItemError(await search(h(), [{ query: 'x', context: 6 }]), 0, 'VALIDATION_ERROR', 'queries[0].context');
  });

  it('a deleted neighbour does not appear in context', async () => {
    const { token } = await h().app.sessions.create('default');
    const words = [0, 1, 2].map(() => uniqueWord('ctd'));
    const out = await remember(h(), words.map((w) => ({ content: `${w} neighbour test` })), { session_token: token });
    const ids = out.results.map((r: any) => r.id);
    await h().ok('batch_delete', { ids: [ids[0]] });
    const res = await search(h(), [{ query: words[1], mode: 'text', context: 1, limit: 1 }], { session_token: token });
    expect(res.results[0].results[0].context.map((c: any) => c.id)).toEqual([ids[2]]);
  });

  it('an importance boost reorders two otherwise similar memories', async () => {
    const w = uniqueWord('bst');
    const out = await remember(h(), [
      { content: `${w} the blue car is fast and also shiny red`, importance: 1 },
      { content: `${w} the blue car is fast`, importance: 0 },
    ]);
    const [important, plain] = out.results.map((r: any) => r.id);
    const pair = (hits: any[]) => hits.map((x) => x.id).filter((id: string) => id === important || id === plain);
    for (const mode of ['text', 'hybrid', 'vector'] as const) {
      const base = await search(h(), [{ query: `${w} blue car fast`, mode, limit: 100 }]);
      expect(pair(base.results[0].results), `${mode} without boost`).toEqual([plain, important]);
      const boosted = await search(h(), [{ query: `${w} blue car fast`, mode, limit: 100, boost: { importance: 0.5 } }]);
      const hits = boosted.results[0].results;
      expect(pair(hits), `${mode} with boost`).toEqual([important, plain]);
      for (const x of hits) {
        expect(x.score).toBeGreaterThanOrEqual(0);
        expect(x.score).toBeLessThanOrEqual(1);
      }
      const scores = hits.map((x: any) => x.score);
      expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    }
  });

  it('in text mode with an importance boost, a memory sharing no word with the query never outranks an exact match', async () => {
    // Boosts are a weighted average with the memory's own signals; an unrelated
    // memory (no query word at all) must not overtake an exact match.
    const w = uniqueWord('bsu');
    const filler = await remember(h(), [{ content: 'unrelated note about gardening tomatoes', importance: 1 }]);
    const out = await remember(h(), [{ content: `${w} exact match here`, importance: 0.5 }]);
    const ids = await searchIds(h(), { query: `${w} exact match here`, mode: 'text', limit: 1, boost: { importance: 1 } });
    expect(ids).toEqual([out.results[0].id]);
    expect(ids).not.toContain(filler.results[0].id);
  });

  it('a pinned boost puts the pinned memory first', async () => {
    const w = uniqueWord('pin');
    const out = await remember(h(), [
      { content: `${w} coffee order is a flat white with oat milk`, pinned: true },
      { content: `${w} coffee order is a flat white` },
    ]);
    const [pinned, plain] = out.results.map((r: any) => r.id);
    expect(await searchIds(h(), { query: `${w} coffee flat white`, mode: 'text', limit: 2 })).toEqual([plain, pinned]);
    expect(await searchIds(h(), { query: `${w} coffee flat white`, mode: 'text', limit: 2, boost: { pinned: 5 } })).toEqual([pinned, plain]);
  });
});
