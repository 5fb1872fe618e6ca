import { describe, expect, it } from 'vitest';
import {
  ISO,
  MEM_ID,
  SESSION_ID,
  axisVector,
  expectItemError,
  get,
  getOne,
  idsContaining,
  remember,
  rememberOne,
  search,
  searchIds,
  sleep,
  uniqueWord,
  useHarness,
} from './_helpers.js';

describe('batch_remember', () => {
  const h = useHarness();

  it('creates a memory with every default of contract §2, as batch_get shows', async () => {
    const word = uniqueWord();
    const before = Date.now();
    const out = await remember(h(), [{ content: `  The ${word} likes tea  ` }]);
    const after = Date.now();
    expect(out.results).toHaveLength(1);
    const r = out.results[0];
    expect(r).toMatchObject({ index: 0, status: 'ok', action: 'created', version: 1 });
    expect(r.id).toMatch(MEM_ID);

    const m = await getOne(h(), r.id);
    expect(m).toBeDefined();
    expect(m.id).toBe(r.id);
    expect(m.content).toBe(`The ${word} likes tea`);
    expect(m.type).toBe('fact');
    expect(m.title).toBeNull();
    expect(m.tags).toEqual([]);
    expect(m.metadata).toEqual({});
    expect(m.confidence).toBe(0.8);
    expect(m.importance).toBe(0.5);
    expect(m.source).toBe('agent');
    expect(m.provenance).toBe('explicit_statement');
    expect(m.pinned).toBe(false);
    expect(m.immutable).toBe(false);
    expect(m.expires_at).toBeNull();
    expect(m.agent_id).toBe('default');
    expect(m.namespace).toBe('agent:default');
    expect(m.session_id).toMatch(SESSION_ID);
    expect(m.session_id).toBe(out.session_id);
    expect(m.version).toBe(1);
    expect(m.created_at).toMatch(ISO);
    expect(m.updated_at).toMatch(ISO);
    expect(m.created_at).toBe(m.updated_at);
    const created = Date.parse(m.created_at);
    expect(created).toBeGreaterThanOrEqual(before - 5);
    expect(created).toBeLessThanOrEqual(after + 5);
  });

  it('reports the call scope: agent default, namespace agent:default and the open session', async () => {
    const out = await remember(h(), [{ content: `scope check ${uniqueWord()}` }]);
    expect(out.agent_id).toBe('default');
    expect(out.namespace).toBe('agent:default');
    expect(out.session_id).toMatch(SESSION_ID);
  });

  it('stores every writable field given by the caller exactly', async () => {
    const word = uniqueWord();
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const id = await rememberOne(h(), {
      id: `client.${word}:1`,
      content: `${word} prefers dark mode`,
      type: 'preference',
      title: 'UI preference',
      tags: ['ui', 'theme'],
      metadata: { app: 'editor', nested: { level: 2 }, list: [1, 'two'] },
      confidence: 0.95,
      importance: 0.9,
      source: 'user',
      provenance: 'observed',
      pinned: true,
      immutable: false,
      expires_at: expires,
    });
    expect(id).toBe(`client.${word}:1`);
    const m = await getOne(h(), id);
    expect(m).toMatchObject({
      id,
      content: `${word} prefers dark mode`,
      type: 'preference',
      title: 'UI preference',
      tags: ['ui', 'theme'],
      metadata: { app: 'editor', nested: { level: 2 }, list: [1, 'two'] },
      confidence: 0.95,
      importance: 0.9,
      source: 'user',
      provenance: 'observed',
      pinned: true,
      immutable: false,
      version: 1,
    });
    expect(Date.parse(m.expires_at)).toBe(Date.parse(expires));
  });

  it('upserts a client id: action updated, version 2, created_at kept, no duplicate row', async () => {
    const word = uniqueWord();
    const id = `upsert-${word}`;
    const first = await remember(h(), [{ id, content: `${word} first version of the note` }]);
    expect(first.results[0]).toMatchObject({ id, status: 'ok', action: 'created', version: 1 });
    const m1 = await getOne(h(), id);
    await sleep(15);

    const second = await remember(h(), [{ id, content: `${word} second version of the note`, tags: ['v2'] }]);
    expect(second.results[0]).toMatchObject({ id, status: 'ok', action: 'updated', version: 2 });
    const m2 = await getOne(h(), id);
    expect(m2.version).toBe(2);
    expect(m2.content).toBe(`${word} second version of the note`);
    expect(m2.tags).toEqual(['v2']);
    expect(m2.created_at).toBe(m1.created_at);
    expect(Date.parse(m2.updated_at)).toBeGreaterThan(Date.parse(m1.updated_at));

    // Exactly one row carries the word.
    const ids = await idsContaining(h(), word);
    expect(ids).toEqual([id]);
  });

  it('a retried call with the same client ids makes no duplicates', async () => {
    const word = uniqueWord();
    const items = [0, 1, 2].map((i) => ({ id: `retry-${word}-${i}`, content: `${word} retried item number ${i}` }));
    await remember(h(), items);
    const again = await remember(h(), items);
    expect(again.results.map((r: any) => r.action)).toEqual(['updated', 'updated', 'updated']);
    const ids = await idsContaining(h(), word);
    expect(ids.sort()).toEqual(items.map((i) => i.id).sort());
  });

  it('deduplicates content already stored, after NFKC, trimming, whitespace runs and case folding', async () => {
    const word = uniqueWord();
    const original = await rememberOne(h(), { content: `The ${word} Office is in Berlin` });
    const variants = [
      `the ${word} office is in berlin`,
      `   THE ${word.toUpperCase()}   OFFICE\tis\n\nin  Berlin   `,
      // NFKC: fullwidth letters and the "ﬁ"-style compatibility forms fold to ASCII.
      `Ｔｈｅ ${word} Office is in Berlin`,
    ];
    const out = await remember(h(), variants.map((content) => ({ content })));
    for (const [i, r] of out.results.entries()) {
      expect(r, JSON.stringify(r)).toMatchObject({ index: i, status: 'ok', action: 'deduplicated', id: original });
    }
    const ids = await idsContaining(h(), word);
    expect(ids).toEqual([original]);
  });

  it('deduplicates against an item earlier in the same call', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [
      { content: `${word} uses vim keybindings` },
      { content: `${word} likes the colour green` },
      { content: `  ${word.toUpperCase()} USES   VIM keybindings ` },
    ]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[1]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[2]).toMatchObject({ status: 'ok', action: 'deduplicated', id: out.results[0].id });
    const ids = await idsContaining(h(), word);
    expect(ids.sort()).toEqual([out.results[0].id, out.results[1].id].sort());
  });

  it('does not deduplicate content that differs after normalisation', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [{ content: `${word} likes tea.` }, { content: `${word} likes tea!` }, { content: `${word} likes teas` }]);
    expect(out.results.map((r: any) => r.action)).toEqual(['created', 'created', 'created']);
    expect(new Set(out.results.map((r: any) => r.id)).size).toBe(3);
  });

  it('with options.dedupe false stores the same content twice', async () => {
    const word = uniqueWord();
    await rememberOne(h(), { content: `${word} walks the dog at seven` });
    const out = await remember(h(), [{ content: `${word} walks the dog at seven` }, { content: `${word} walks the dog at seven` }], { options: { dedupe: false } });
    expect(out.results.map((r: any) => r.action)).toEqual(['created', 'created']);
    const ids = await idsContaining(h(), word);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it('drops duplicate tags and keeps their first-seen order', async () => {
    const id = await rememberOne(h(), { content: `tag order ${uniqueWord()}`, tags: ['b', 'a', 'b', 'c', 'a', 'B'] });
    const m = await getOne(h(), id);
    expect(m.tags).toEqual(['b', 'a', 'c', 'B']);
  });

  it('ttl_seconds sets expires_at to now + ttl', async () => {
    const before = Date.now();
    const id = await rememberOne(h(), { content: `ttl ${uniqueWord()}`, ttl_seconds: 3600 });
    const m = await getOne(h(), id);
    const exp = Date.parse(m.expires_at);
    expect(exp).toBeGreaterThanOrEqual(before + 3_600_000 - 5);
    expect(exp).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5);
  });

  it('expires_at: null means never expires', async () => {
    const id = await rememberOne(h(), { content: `no expiry ${uniqueWord()}`, expires_at: null });
    expect((await getOne(h(), id)).expires_at).toBeNull();
  });

  it('never returns an expired memory from get or search (ttl_seconds 1, expires_at soon)', async () => {
    const word = uniqueWord();
    const soon = new Date(Date.now() + 900).toISOString();
    const out = await remember(h(), [
      { content: `${word} short lived by ttl`, ttl_seconds: 1 },
      { content: `${word} short lived by expires_at`, expires_at: soon },
      { content: `${word} lives on` },
    ]);
    const [a, b, c] = out.results.map((r: any) => r.id);
    expect((await get(h(), [a, b, c])).results.every((r: any) => r.status === 'ok')).toBe(true);
    expect((await idsContaining(h(), word)).sort()).toEqual([a, b, c].sort());

    await sleep(1_200);
    const after = await get(h(), [a, b, c]);
    expectItemError(after, 0, 'NOT_FOUND');
    expectItemError(after, 1, 'NOT_FOUND');
    expect(after.results[2].status).toBe('ok');
    for (const mode of ['text', 'vector', 'hybrid'] as const) {
      const ids = await searchIds(h(), { query: `${word} short lived`, mode, limit: 100 });
      expect(ids, mode).not.toContain(a);
      expect(ids, mode).not.toContain(b);
      expect(await idsContaining(h(), word, mode), mode).toEqual([c]);
    }
  });

  it('an expired memory does not block remembering the same content again', async () => {
    const word = uniqueWord();
    const first = await rememberOne(h(), { content: `${word} fleeting thought`, ttl_seconds: 1 });
    await sleep(1_100);
    const out = await remember(h(), [{ content: `${word} fleeting thought` }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[0].id).not.toBe(first);
  });

  it('expires_at in the past is a VALIDATION_ERROR at memories[i].expires_at; the other items are written', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [
      { content: `${word} fine one` },
      { content: `${word} already expired`, expires_at: '2001-01-01T00:00:00Z' },
    ]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expectItemError(out, 1, 'VALIDATION_ERROR', 'memories[1].expires_at');
    expect(await idsContaining(h(), word)).toEqual([out.results[0].id]);
  });

  it('expires_at that is not ISO-8601 is a VALIDATION_ERROR', async () => {
    const out = await remember(h(), [{ content: `bad date ${uniqueWord()}`, expires_at: 'tomorrow' }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'memories[0].expires_at');
  });

  it('both expires_at and ttl_seconds is a VALIDATION_ERROR', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [{ content: `${word} both`, ttl_seconds: 60, expires_at: new Date(Date.now() + 60_000).toISOString() }]);
    expectItemError(out, 0, 'VALIDATION_ERROR');
    expect(out.results[0].error.field).toMatch(/^memories\[0\]\.(ttl_seconds|expires_at)$/);
    expect(await idsContaining(h(), word)).toEqual([]);
  });

  it('a caller embedding of the wrong length is a VALIDATION_ERROR at memories[i].embedding', async () => {
    const dim = h().app.embedder.dim;
    expect(h().app.store.dim).toBe(dim);
    const word = uniqueWord();
    const out = await remember(h(), [
      { content: `${word} short vector`, embedding: axisVector(dim - 1) },
      { content: `${word} long vector`, embedding: axisVector(dim + 1) },
      { content: `${word} one number`, embedding: [1] },
      { content: `${word} right vector`, embedding: axisVector(dim, 3) },
    ]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'memories[0].embedding');
    expectItemError(out, 1, 'VALIDATION_ERROR', 'memories[1].embedding');
    expectItemError(out, 2, 'VALIDATION_ERROR', 'memories[2].embedding');
    expect(out.results[3]).toMatchObject({ status: 'ok', action: 'created' });
    expect(await idsContaining(h(), word)).toEqual([out.results[3].id]);
  });

  it('a caller embedding of the right length is stored and used by vector search', async () => {
    const dim = h().app.embedder.dim;
    const word = uniqueWord();
    const vector = axisVector(dim, 101);
    const id = await rememberOne(h(), { content: `${word} carries its own vector`, embedding: vector });
    const out = await search(h(), [{ query: 'anything at all', mode: 'vector', embedding: vector, limit: 1 }]);
    expect(out.results[0].results[0].id).toBe(id);
    expect(out.results[0].results[0].score).toBeCloseTo(1, 5);
  });

  it('a zero or non-finite caller embedding is a VALIDATION_ERROR', async () => {
    const dim = h().app.embedder.dim;
    const withNaN = axisVector(dim);
    withNaN[5] = Number.NaN;
    const withInf = axisVector(dim);
    withInf[5] = Number.POSITIVE_INFINITY;
    const out = await remember(h(), [
      { content: `zero vec ${uniqueWord()}`, embedding: new Array(dim).fill(0) },
      { content: `nan vec ${uniqueWord()}`, embedding: withNaN },
      { content: `inf vec ${uniqueWord()}`, embedding: withInf },
    ]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'memories[0].embedding');
    expectItemError(out, 1, 'VALIDATION_ERROR');
    expect(out.results[1].error.field).toMatch(/^memories\[1\]\.embedding/);
    expectItemError(out, 2, 'VALIDATION_ERROR');
    expect(out.results[2].error.field).toMatch(/^memories\[2\]\.embedding/);
  });

  it('remembering over an existing immutable id is IMMUTABLE and leaves it unchanged', async () => {
    const word = uniqueWord();
    const id = `frozen-${word}`;
    await rememberOne(h(), { id, content: `${word} carved in stone`, immutable: true });
    const out = await remember(h(), [{ id, content: `${word} overwritten` }, { content: `${word} bystander` }]);
    expectItemError(out, 0, 'IMMUTABLE', 'memories[0].id');
    expect(out.results[0].id).toBe(id);
    expect(out.results[1]).toMatchObject({ status: 'ok', action: 'created' });
    const m = await getOne(h(), id);
    expect(m).toMatchObject({ content: `${word} carved in stone`, version: 1, immutable: true });
  });

  it('assigns distinct server ids in input order within one call', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [1, 2, 3, 4].map((i) => ({ content: `${word} distinct item ${i}` })));
    const ids = out.results.map((r: any) => r.id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(MEM_ID);
    expect([...ids].sort()).toEqual(ids);
  });
});
