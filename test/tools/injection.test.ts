import { beforeAll, describe, expect, it } from 'vitest';
import { WALL_VARIANTS } from '../helpers/walls.js';
import { get, remember, search, uniqueWord, useHarness } from './_helpers.js';

/**
 * LanceDB filters are SQL text: every value a caller puts in a filter must
 * match exactly the memories that hold that value, nothing more, nothing less,
 * and never delete or leak anything.
 */
const SPECIAL = ["it's", "' OR 1=1 --", '100%', 'a_b', 'back\\slash', '"quoted"', 'semi;colon', "''", '%', '_', '\\', 'naïve café', '日本語', "x' OR 'a'='a", 'tab\there'];
// Values a broken escape or an unescaped wildcard would confuse with the ones above.
const DECOYS = ['its', 'it', 'its ', '1000', '100', 'axb', 'a_bc', 'backslash', 'back\\\\slash', 'quoted', 'semi', "'", 'x', 'naive cafe', 'OR'];

describe.each(WALL_VARIANTS)('filter values full of quotes, wildcards, backslashes and unicode: $name', ({ removeWall }) => {
  const h = useHarness({ ...(removeWall && { removeWall }) });
  const W = uniqueWord('inj');
  const byValue = new Map<string, string>(); // special or decoy value → the id of the memory holding it
  let allIds: string[] = [];
  let bobIds: string[] = [];
  let bobToken: string;

  beforeAll(async () => {
    const values = [...SPECIAL, ...DECOYS];
    const out = await remember(
      h(),
      values.map((v, i) => ({
        content: `${W} memory number ${i}`,
        tags: [v],
        source: v,
        type: v.slice(0, 32),
        metadata: { k: v, [v]: 'key-is-special' },
      })),
    );
    expect(out.succeeded, JSON.stringify(out.results.filter((r: any) => r.status !== 'ok'))).toBe(values.length);
    values.forEach((v, i) => byValue.set(v, out.results[i].id));
    allIds = out.results.map((r: any) => r.id);

    // Another agent holds the same values: never returned to this one.
    bobToken = (await h().app.sessions.create('bob')).token;
    const bob = await remember(
      h(),
      values.map((v, i) => ({ content: `${W} bob memory number ${i}`, tags: [v], source: v, type: v.slice(0, 32), metadata: { k: v } })),
      { session_token: bobToken },
    );
    expect(bob.succeeded).toBe(values.length);
    bobIds = bob.results.map((r: any) => r.id);
  });

  const find = async (filter: Record<string, unknown>, mode = 'text') => {
    const out = await search(h(), [{ query: W, mode, limit: 100, filter }]);
    expect(out.results[0].status, JSON.stringify(out.results[0])).toBe('ok');
    return out.results[0].results.map((x: any) => x.id) as string[];
  };

  for (const v of SPECIAL) {
    it(`tags_any [${JSON.stringify(v)}] returns exactly the memory tagged with it`, async () => {
      expect(await find({ tags_any: [v] })).toEqual([byValue.get(v)]);
    });

    it(`tags_all [${JSON.stringify(v)}] returns exactly the memory tagged with it`, async () => {
      expect(await find({ tags_all: [v] })).toEqual([byValue.get(v)]);
    });

    it(`source ${JSON.stringify(v)} returns exactly the memory with that source`, async () => {
      expect(await find({ source: v })).toEqual([byValue.get(v)]);
    });

    it(`types [${JSON.stringify(v)}] returns exactly the memory of that type`, async () => {
      expect(await find({ types: [v] })).toEqual([byValue.get(v)]);
    });

    it(`metadata {k: ${JSON.stringify(v)}} returns exactly the memory holding that value`, async () => {
      expect(await find({ metadata: { k: v } })).toEqual([byValue.get(v)]);
    });

    it(`metadata key ${JSON.stringify(v)} matches exactly the memory with that key`, async () => {
      expect(await find({ metadata: { [v]: 'key-is-special' } })).toEqual([byValue.get(v)]);
    });
  }

  it('several special values in one tags_any return exactly their memories', async () => {
    const vals = ["it's", '100%', 'a_b', 'back\\slash'];
    expect((await find({ tags_any: vals })).sort()).toEqual(vals.map((v) => byValue.get(v)!).sort());
  });

  it('special values work in vector and hybrid modes too', async () => {
    for (const mode of ['vector', 'hybrid']) {
      expect(await find({ metadata: { k: '100%' } }, mode), mode).toEqual([byValue.get('100%')]);
      expect(await find({ tags_any: ["' OR 1=1 --"] }, mode), mode).toEqual([byValue.get("' OR 1=1 --")]);
    }
  });

  it('queries full of SQL and full-text syntax run without error in every mode and match nothing they should not', async () => {
    const queries = ["' OR 1=1 --", "'; DELETE FROM memories; --", '100% a_b back\\slash', 'title:"x" AND (y OR z)*', '\\', "''"];
    for (const mode of ['text', 'vector', 'hybrid']) {
      const out = await search(h(), queries.map((query) => ({ query, mode, limit: 100 })));
      for (const r of out.results) {
        expect(r.status, `${mode} ${JSON.stringify(r)}`).toBe('ok');
        for (const hit of r.results) expect(bobIds).not.toContain(hit.id);
      }
    }
  });

  it('nothing was deleted or changed, and the other agent kept everything', async () => {
    const mine = await get(h(), allIds);
    expect(mine.results.every((r: any) => r.status === 'ok' && r.memory.version === 1)).toBe(true);
    const theirs = await get(h(), bobIds, { session_token: bobToken });
    expect(theirs.results.every((r: any) => r.status === 'ok' && r.memory.version === 1)).toBe(true);
  });

  it("the other agent's memories with the same values are never returned", async () => {
    for (const v of SPECIAL) {
      const ids = await find({ tags_any: [v] });
      for (const id of ids) expect(bobIds).not.toContain(id);
    }
    const unfiltered = await search(h(), [{ query: W, mode: 'hybrid', limit: 100 }]);
    for (const hit of unfiltered.results[0].results) expect(bobIds).not.toContain(hit.id);
  });

  it('a filter value with a NUL character fails only its own query (VALIDATION_ERROR), the others run', async () => {
    const out = await search(h(), [
      { query: W, mode: 'text', filter: { tags_any: ["it's"] } },
      { query: W, mode: 'text', filter: { source: 'a\u0000b' } },
      { query: W, mode: 'text', filter: { types: ['a\u0000b'] } },
      { query: W, mode: 'text', filter: { tags_all: ['a\u0000b'] } },
      { query: W, mode: 'text', filter: { tags_any: ['100%'] } },
    ]);
    expect(out.results[0]).toMatchObject({ status: 'ok' });
    expect(out.results[0].results.map((x: any) => x.id)).toEqual([byValue.get("it's")]);
    for (const i of [1, 2, 3]) {
      expect(out.results[i].status, JSON.stringify(out.results[i])).toBe('error');
      expect(out.results[i].error.code).toBe('VALIDATION_ERROR');
      expect(out.results[i].error.field).toMatch(new RegExp(`^queries\\[${i}\\]\\.filter\\.`));
    }
    expect(out.results[4]).toMatchObject({ status: 'ok' });
    expect(out.results[4].results.map((x: any) => x.id)).toEqual([byValue.get('100%')]);
  });
});
