import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/model.js';
import { del, expectItemError, get, getOne, idsContaining, rememberOne, search, uniqueWord, update, useHarness } from './_helpers.js';

type Case = { name: string; item: (w: string) => unknown; code: string; field: string | RegExp };

const BAD_INDEX = 3;
const P = `memories[${BAD_INDEX}]`;
const VE = 'VALIDATION_ERROR';
const PTL = 'PAYLOAD_TOO_LARGE';
const base = (w: string) => ({ content: `${w} the bad item` });
const withField = (field: string, value: unknown) => (w: string) => ({ ...base(w), [field]: value });

const rememberCases: Case[] = [
  // content
  { name: 'content of the wrong type (number)', item: (w) => ({ content: 5, tags: [w] }), code: VE, field: `${P}.content` },
  { name: 'content null', item: () => ({ content: null }), code: VE, field: `${P}.content` },
  { name: 'content missing', item: () => ({ title: 'no content' }), code: VE, field: `${P}.content` },
  { name: 'content empty', item: () => ({ content: '' }), code: VE, field: `${P}.content` },
  { name: 'content only whitespace', item: () => ({ content: ' \n\t  ' }), code: VE, field: `${P}.content` },
  { name: 'content of 32,769 characters', item: () => ({ content: 'a'.repeat(32_769) }), code: PTL, field: `${P}.content` },
  { name: 'content of 1 MB', item: () => ({ content: 'b'.repeat(1024 * 1024) }), code: PTL, field: `${P}.content` },
  // type
  { name: 'type of the wrong type', item: withField('type', 7), code: VE, field: `${P}.type` },
  { name: 'type empty', item: withField('type', ''), code: VE, field: `${P}.type` },
  { name: 'type of 33 characters', item: withField('type', 't'.repeat(33)), code: VE, field: `${P}.type` },
  // title
  { name: 'title of the wrong type', item: withField('title', 12), code: VE, field: `${P}.title` },
  { name: 'title of 201 characters', item: withField('title', 'T'.repeat(201)), code: VE, field: `${P}.title` },
  // tags
  { name: 'tags that are a string', item: withField('tags', 'a,b'), code: VE, field: `${P}.tags` },
  { name: 'a tag that is a number', item: withField('tags', ['ok', 3]), code: VE, field: `${P}.tags[1]` },
  { name: 'an empty tag', item: withField('tags', ['']), code: VE, field: `${P}.tags[0]` },
  { name: 'a tag of 65 characters', item: withField('tags', ['ok', 'g'.repeat(65)]), code: VE, field: `${P}.tags[1]` },
  { name: '33 tags', item: withField('tags', Array.from({ length: 33 }, (_, i) => `t${i}`)), code: VE, field: `${P}.tags` },
  // metadata
  { name: 'metadata that is an array', item: withField('metadata', [1, 2]), code: VE, field: `${P}.metadata` },
  { name: 'metadata that is a string', item: withField('metadata', '{"a":1}'), code: VE, field: `${P}.metadata` },
  { name: 'metadata null', item: withField('metadata', null), code: VE, field: `${P}.metadata` },
  { name: 'metadata over 16 KiB', item: withField('metadata', { big: 'm'.repeat(16 * 1024) }), code: PTL, field: `${P}.metadata` },
  { name: 'metadata over 16 KiB in bytes but not in characters', item: withField('metadata', { euro: '€'.repeat(6000) }), code: PTL, field: `${P}.metadata` },
  // confidence / importance
  { name: 'confidence as a string', item: withField('confidence', '0.5'), code: VE, field: `${P}.confidence` },
  { name: 'confidence above 1', item: withField('confidence', 1.5), code: VE, field: `${P}.confidence` },
  { name: 'confidence below 0', item: withField('confidence', -0.1), code: VE, field: `${P}.confidence` },
  { name: 'confidence NaN', item: withField('confidence', Number.NaN), code: VE, field: `${P}.confidence` },
  { name: 'confidence Infinity', item: withField('confidence', Number.POSITIVE_INFINITY), code: VE, field: `${P}.confidence` },
  { name: 'confidence null', item: withField('confidence', null), code: VE, field: `${P}.confidence` },
  { name: 'importance above 1', item: withField('importance', 2), code: VE, field: `${P}.importance` },
  { name: 'importance NaN', item: withField('importance', Number.NaN), code: VE, field: `${P}.importance` },
  { name: 'importance -Infinity', item: withField('importance', Number.NEGATIVE_INFINITY), code: VE, field: `${P}.importance` },
  // source / provenance
  { name: 'source empty', item: withField('source', ''), code: VE, field: `${P}.source` },
  { name: 'source of the wrong type', item: withField('source', ['user']), code: VE, field: `${P}.source` },
  { name: 'source of 257 characters', item: withField('source', 's'.repeat(257)), code: VE, field: `${P}.source` },
  { name: 'provenance of the wrong type', item: withField('provenance', false), code: VE, field: `${P}.provenance` },
  { name: 'provenance only whitespace', item: withField('provenance', '   '), code: VE, field: `${P}.provenance` },
  // booleans
  { name: 'pinned as a string', item: withField('pinned', 'true'), code: VE, field: `${P}.pinned` },
  { name: 'pinned as a number', item: withField('pinned', 1), code: VE, field: `${P}.pinned` },
  { name: 'immutable as a string', item: withField('immutable', 'no'), code: VE, field: `${P}.immutable` },
  // expiry
  { name: 'expires_at as a number', item: withField('expires_at', Date.now() + 60_000), code: VE, field: `${P}.expires_at` },
  { name: 'expires_at not a date', item: withField('expires_at', 'next week'), code: VE, field: `${P}.expires_at` },
  { name: 'ttl_seconds zero', item: withField('ttl_seconds', 0), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds negative', item: withField('ttl_seconds', -5), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds fractional', item: withField('ttl_seconds', 1.5), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds as a string', item: withField('ttl_seconds', '60'), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds NaN', item: withField('ttl_seconds', Number.NaN), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds Infinity', item: withField('ttl_seconds', Number.POSITIVE_INFINITY), code: VE, field: `${P}.ttl_seconds` },
  { name: 'ttl_seconds over 100 years', item: withField('ttl_seconds', LIMITS.maxTtlSeconds + 1), code: VE, field: `${P}.ttl_seconds` },
  // embedding
  { name: 'embedding as a string', item: withField('embedding', '0.1,0.2'), code: VE, field: `${P}.embedding` },
  { name: 'embedding empty', item: withField('embedding', []), code: VE, field: `${P}.embedding` },
  { name: 'embedding with a string inside', item: withField('embedding', ['a', 0.2]), code: VE, field: `${P}.embedding[0]` },
  // id
  { name: 'id of the wrong type', item: withField('id', 42), code: VE, field: `${P}.id` },
  { name: 'id empty', item: withField('id', ''), code: VE, field: `${P}.id` },
  { name: 'id of 129 characters', item: withField('id', 'i'.repeat(129)), code: VE, field: `${P}.id` },
  { name: 'id with a space', item: withField('id', 'a b'), code: VE, field: `${P}.id` },
  { name: "id with a quote (it's)", item: withField('id', "it's"), code: VE, field: `${P}.id` },
  { name: "id ' OR 1=1 --", item: withField('id', "' OR 1=1 --"), code: VE, field: `${P}.id` },
  { name: 'id with a semicolon', item: withField('id', 'a;DROP TABLE memories'), code: VE, field: `${P}.id` },
  { name: 'id with a backslash', item: withField('id', 'back\\slash'), code: VE, field: `${P}.id` },
  { name: 'id with a percent sign', item: withField('id', '100%'), code: VE, field: `${P}.id` },
  { name: 'id with a slash', item: withField('id', 'agent:x/y'), code: VE, field: `${P}.id` },
  { name: 'id with a double quote', item: withField('id', 'say"hi"'), code: VE, field: `${P}.id` },
  { name: 'id with unicode letters', item: withField('id', 'café-ünï'), code: VE, field: `${P}.id` },
  { name: 'id with a NUL character', item: withField('id', 'a\u0000b'), code: VE, field: `${P}.id` },
  // unknown fields and non-objects
  { name: 'an unknown field (misspelt)', item: (w) => ({ ...base(w), contnet: 'typo' }), code: VE, field: `${P}.contnet` },
  { name: 'an unknown field (wrong case)', item: (w) => ({ ...base(w), Tags: ['x'] }), code: VE, field: `${P}.Tags` },
  { name: 'a server-set field (version)', item: (w) => ({ ...base(w), version: 3 }), code: VE, field: `${P}.version` },
  { name: 'a server-set field (session_id)', item: (w) => ({ ...base(w), session_id: 'ses_0123456789abcdef' }), code: VE, field: `${P}.session_id` },
  { name: 'expected_version (an update-only field)', item: (w) => ({ ...base(w), expected_version: 1 }), code: VE, field: `${P}.expected_version` },
  { name: 'an item that is a string', item: () => 'just a string', code: VE, field: P },
  { name: 'an item that is null', item: () => null, code: VE, field: P },
  { name: 'an item that is an array', item: () => [{ content: 'x' }], code: VE, field: P },
];

/** Every stored row of every agent, straight from LanceDB. */
async function rowCount(harness: { app: { db: { memoryTables(): Promise<Array<{ countRows(): Promise<number> }>> } } }): Promise<number> {
  let n = 0;
  for (const table of await harness.app.db.memoryTables()) n += await table.countRows();
  return n;
}

describe('bad input, item by item: batch_remember', () => {
  const h = useHarness();

  for (const c of rememberCases) {
    it(`${c.name} → ${c.code} at ${String(c.field)}; the other items are created`, async () => {
      const w = uniqueWord();
      const items: unknown[] = [0, 1, 2, 3, 4].map((i) => ({ content: `${w} good item ${i}` }));
      items[BAD_INDEX] = c.item(w);
      const rowsBefore = await rowCount(h());
      const out = await h().ok('batch_remember', { memories: items });
      expectItemError(out, BAD_INDEX, c.code);
      const field = out.results[BAD_INDEX].error.field;
      if (typeof c.field === 'string') expect(field).toBe(c.field);
      else expect(field).toMatch(c.field);
      expect(out.results[BAD_INDEX].id).toBeUndefined();
      for (const i of [0, 1, 2, 4]) expect(out.results[i], `item ${i}`).toMatchObject({ index: i, status: 'ok', action: 'created' });
      expect(out).toMatchObject({ total: 5, succeeded: 4, failed: 1, skipped: 0 });
      // Exactly the four good items were written, and each holds its own content.
      expect(await rowCount(h())).toBe(rowsBefore + 4);
      const g = await get(h(), [0, 1, 2, 4].map((i) => out.results[i].id));
      expect(g.results.map((r: any) => r.memory?.content)).toEqual([0, 1, 2, 4].map((i) => `${w} good item ${i}`));
    });
  }

  it('content of exactly 32,768 characters is accepted, and surrounding whitespace does not count', async () => {
    const w = uniqueWord();
    const body = `${w} ${'c'.repeat(32_768 - w.length - 1)}`;
    const out = await h().ok('batch_remember', { memories: [{ content: body }, { content: `  \n${body.replace(w, uniqueWord())}\n  ` }] });
    expect(out.results.map((r: any) => r.action)).toEqual(['created', 'created']);
    expect((await getOne(h(), out.results[0].id)).content).toHaveLength(32_768);
  });

  it('a title of 200, a tag of 64, 32 tags, a type of 32 and metadata of 16 KiB are accepted', async () => {
    const meta = { m: 'x'.repeat(16 * 1024 - '{"m":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(meta))).toBe(16 * 1024);
    const out = await h().ok('batch_remember', {
      memories: [
        {
          content: `limits ${uniqueWord()}`,
          title: 'T'.repeat(200),
          tags: [...Array.from({ length: 31 }, (_, i) => `t${i}`), 'g'.repeat(64)],
          type: 'y'.repeat(32),
          metadata: meta,
          confidence: 0,
          importance: 1,
          ttl_seconds: LIMITS.maxTtlSeconds,
        },
      ],
    });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    const m = await getOne(h(), out.results[0].id);
    expect(m.tags).toHaveLength(32);
    expect(m.metadata).toEqual(meta);
    expect(m.confidence).toBe(0);
  });

  it('valid id characters are accepted: letters, digits, . _ : -', async () => {
    const id = `Aa0.b_c:d-${uniqueWord()}`;
    expect(await rememberOne(h(), { id, content: `valid id ${uniqueWord()}` })).toBe(id);
    expect(await getOne(h(), id)).toBeDefined();
  });

  it('one item with several problems reports them all in the message and names the first', async () => {
    const out = await h().ok('batch_remember', { memories: [{ content: 'x', confidence: 9, importance: -1, colour: 'red' }] });
    expectItemError(out, 0, VE);
    const { message } = out.results[0].error;
    expect(message).toContain('confidence');
    expect(message).toContain('importance');
    expect(message).toContain('colour');
  });

  it('an unknown field is never silently dropped: the item is not written', async () => {
    const w = uniqueWord();
    const out = await h().ok('batch_remember', { memories: [{ content: `${w} with tag typo`, tag: ['x'] }] });
    expectItemError(out, 0, VE, 'memories[0].tag');
    expect(out.results[0].error.message).toContain('"tag"');
    expect(await idsContaining(h(), w)).toEqual([]);
  });

  it('a repeated id in one call is DUPLICATE_ID for the later one; the first runs', async () => {
    const w = uniqueWord();
    const id = `dup-${w}`;
    const out = await h().ok('batch_remember', {
      memories: [{ id, content: `${w} first` }, { content: `${w} other` }, { id, content: `${w} second` }, { id, content: `${w} third` }],
    });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created', id });
    expect(out.results[1]).toMatchObject({ status: 'ok', action: 'created' });
    expectItemError(out, 2, 'DUPLICATE_ID', 'memories[2]');
    expectItemError(out, 3, 'DUPLICATE_ID', 'memories[3]');
    expect(out.results[2].id).toBe(id);
    expect(out.results[2].error.message).toContain('index 0');
    expect((await getOne(h(), id)).content).toBe(`${w} first`);
  });
});

describe('bad input, item by item: batch_update, batch_delete, batch_get', () => {
  const h = useHarness();

  const updateCases: Array<[string, Record<string, unknown>, string, string]> = [
    ['id missing', { importance: 0.1 }, VE, 'updates[3].id'],
    ['id with a quote', { id: "it's", importance: 0.1 }, VE, 'updates[3].id'],
    ['content empty', { content: '' }, VE, 'updates[3].content'],
    ['content too long', { content: 'z'.repeat(32_769) }, PTL, 'updates[3].content'],
    ['confidence NaN', { confidence: Number.NaN }, VE, 'updates[3].confidence'],
    ['importance 1.01', { importance: 1.01 }, VE, 'updates[3].importance'],
    ['tags with an empty tag', { tags: ['ok', ''] }, VE, 'updates[3].tags[1]'],
    ['metadata an array', { metadata: ['a'] }, VE, 'updates[3].metadata'],
    ['metadata patch over 16 KiB', { metadata: { big: 'q'.repeat(17_000) } }, PTL, 'updates[3].metadata'],
    ['expected_version 0', { importance: 0.2, expected_version: 0 }, VE, 'updates[3].expected_version'],
    ['expected_version fractional', { importance: 0.2, expected_version: 1.5 }, VE, 'updates[3].expected_version'],
    ['pinned a string', { pinned: 'false' }, VE, 'updates[3].pinned'],
    ['an unknown field', { importance: 0.2, importanse: 0.3 }, VE, 'updates[3].importanse'],
    ['a server-set field', { importance: 0.2, created_at: '2020-01-01T00:00:00Z' }, VE, 'updates[3].created_at'],
  ];

  for (const [name, fields, code, field] of updateCases) {
    it(`batch_update: ${name} → ${code} at ${field}; the other items update`, async () => {
      const w = uniqueWord();
      const out0 = await h().ok('batch_remember', { memories: [0, 1, 2, 3, 4].map((i) => ({ content: `${w} upd ${i}` })) });
      const ids: string[] = out0.results.map((r: any) => r.id);
      const updates: Record<string, unknown>[] = ids.map((id) => ({ id, importance: 0.9 }));
      updates[3] = 'id' in fields || name === 'id missing' ? fields : { id: ids[3], ...fields };
      const out = await update(h(), updates);
      expectItemError(out, 3, code, field);
      for (const i of [0, 1, 2, 4]) expect(out.results[i]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
      expect(await getOne(h(), ids[3]!)).toMatchObject({ version: 1, importance: 0.5 });
    });
  }

  it('batch_update: a repeated id is DUPLICATE_ID for the later one; the first runs', async () => {
    const id = await rememberOne(h(), { content: `dup update ${uniqueWord()}` });
    const out = await update(h(), [{ id, importance: 0.2 }, { id, importance: 0.3 }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
    expectItemError(out, 1, 'DUPLICATE_ID', 'updates[1]');
    expect((await getOne(h(), id)).importance).toBe(0.2);
  });

  it('batch_delete: invalid ids are VALIDATION_ERROR at ids[i]; the other ids are deleted', async () => {
    const w = uniqueWord();
    const out0 = await h().ok('batch_remember', { memories: [0, 1].map((i) => ({ content: `${w} del ${i}` })) });
    const [a, b] = out0.results.map((r: any) => r.id);
    const out = await del(h(), [a, 5 as any, "' OR 1=1 --", '', '%', b, a]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
    for (const i of [1, 2, 3, 4]) expectItemError(out, i, VE, `ids[${i}]`);
    expect(out.results[5]).toMatchObject({ status: 'ok', action: 'deleted' });
    expectItemError(out, 6, 'DUPLICATE_ID', 'ids[6]');
    expect((await get(h(), [a, b])).results.map((r: any) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  it("batch_delete with ' OR 1=1 -- and wildcard-like ids deletes nothing else", async () => {
    const w = uniqueWord();
    const keep = await rememberOne(h(), { id: `keep_${w}`, content: `${w} keep me` });
    const out = await del(h(), ['keep_%', `keep__${w.slice(1)}`, `keep.${w}`, "keep_' OR '1'='1", 'keep_*']);
    expect(out.results[0].error.code).toBe(VE);
    expect(out.results[1].error.code).toBe('NOT_FOUND');
    expect(out.results[2].error.code).toBe('NOT_FOUND');
    expect(out.results[3].error.code).toBe(VE);
    expect(out.results[4].error.code).toBe(VE);
    expect(await getOne(h(), keep)).toBeDefined();
  });

  it('batch_get: ids of the wrong type are VALIDATION_ERROR at ids[i]', async () => {
    const id = await rememberOne(h(), { content: `get types ${uniqueWord()}` });
    const out = await get(h(), [null as any, id, { id } as any, ['x'] as any]);
    expectItemError(out, 0, VE, 'ids[0]');
    expect(out.results[1]).toMatchObject({ status: 'ok', id });
    expectItemError(out, 2, VE, 'ids[2]');
    expectItemError(out, 3, VE, 'ids[3]');
  });

});

describe('bad input, item by item: batch_search', () => {
  const h = useHarness();

  const searchCases: Array<[string, Record<string, unknown>, string]> = [
    ['query missing', { limit: 3 }, 'queries[3].query'],
    ['query a number', { query: 42 }, 'queries[3].query'],
    ['query over 4096 characters', { query: 'q'.repeat(4097) }, 'queries[3].query'],
    ['mode unknown', { query: 'x', mode: 'fuzzy' }, 'queries[3].mode'],
    ['scope unknown', { query: 'x', scope: 'world' }, 'queries[3].scope'],
    ['limit NaN', { query: 'x', limit: Number.NaN }, 'queries[3].limit'],
    ['limit Infinity', { query: 'x', limit: Number.POSITIVE_INFINITY }, 'queries[3].limit'],
    ['min_score a string', { query: 'x', min_score: '0.5' }, 'queries[3].min_score'],
    ['context negative', { query: 'x', context: -1 }, 'queries[3].context'],
    ['filter not an object', { query: 'x', filter: 'tags:a' }, 'queries[3].filter'],
    ['filter.types a string', { query: 'x', filter: { types: 'fact' } }, 'queries[3].filter.types'],
    ['filter.types empty', { query: 'x', filter: { types: [] } }, 'queries[3].filter.types'],
    ['filter.tags_any with an empty tag', { query: 'x', filter: { tags_any: [''] } }, 'queries[3].filter.tags_any[0]'],
    ['filter.tags_all a string', { query: 'x', filter: { tags_all: 'a' } }, 'queries[3].filter.tags_all'],
    ['filter.source empty', { query: 'x', filter: { source: '' } }, 'queries[3].filter.source'],
    ['filter.pinned a string', { query: 'x', filter: { pinned: 'yes' } }, 'queries[3].filter.pinned'],
    ['filter.created_before a number', { query: 'x', filter: { created_before: 1700000000000 } }, 'queries[3].filter.created_before'],
    ['filter.metadata with an object value', { query: 'x', filter: { metadata: { a: { b: 1 } } } }, 'queries[3].filter.metadata.a'],
    ['filter.metadata with an array value', { query: 'x', filter: { metadata: { a: [1] } } }, 'queries[3].filter.metadata.a'],
    ['boost weight over 10', { query: 'x', boost: { importance: 11 } }, 'queries[3].boost.importance'],
    ['boost unknown key', { query: 'x', boost: { popularity: 1 } }, 'queries[3].boost.popularity'],
    ['an unknown field', { query: 'x', top_k: 5 }, 'queries[3].top_k'],
    ['embedding with NaN', { query: 'x', mode: 'vector', embedding: [Number.NaN] }, 'queries[3].embedding[0]'],
  ];

  for (const [name, q, field] of searchCases) {
    it(`batch_search: ${name} → VALIDATION_ERROR at ${field}; the other queries run`, async () => {
      const queries: unknown[] = [0, 1, 2, 3, 4].map(() => ({ query: 'anything', mode: 'text', limit: 1 }));
      queries[3] = q;
      const out = await search(h(), queries as Record<string, unknown>[]);
      expectItemError(out, 3, VE, field);
      for (const i of [0, 1, 2, 4]) expect(out.results[i]).toMatchObject({ status: 'ok', action: 'searched' });
    });
  }
});
