import { describe, expect, it } from 'vitest';
import { expectItemError, getOne, idsContaining, rememberOne, searchIds, sleep, uniqueWord, update, useHarness } from './_helpers.js';

describe('batch_update', () => {
  const h = useHarness();

  it('changes only the given fields, bumps the version and updated_at, keeps created_at', async () => {
    const word = uniqueWord();
    const id = await rememberOne(h(), {
      content: `${word} partial update subject`,
      type: 'event',
      title: 'Old title',
      tags: ['a', 'b'],
      metadata: { k: 1 },
      confidence: 0.3,
      importance: 0.4,
      source: 'tool',
      provenance: 'inferred',
    });
    const before = await getOne(h(), id);
    await sleep(15);
    const out = await update(h(), [{ id, importance: 0.9, tags: ['c', 'c', 'd'], pinned: true }]);
    expect(out.results[0]).toMatchObject({ index: 0, id, status: 'ok', action: 'updated', version: 2 });
    const after = await getOne(h(), id);
    expect(after).toMatchObject({
      ...before,
      importance: 0.9,
      tags: ['c', 'd'],
      pinned: true,
      version: 2,
      updated_at: after.updated_at,
    });
    expect(after.created_at).toBe(before.created_at);
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
  });

  it('applies metadata as a JSON merge patch: null removes a key, nested objects merge, other values replace', async () => {
    const id = await rememberOne(h(), {
      content: `merge patch ${uniqueWord()}`,
      metadata: { keep: 'yes', drop: 'me', nested: { a: 1, b: { c: 2, d: 3 } }, list: [1, 2, 3], scalar: 'old' },
    });
    const out = await update(h(), [{ id, metadata: { drop: null, nested: { b: { d: null, e: 5 }, f: 'new' }, list: [9], scalar: { now: 'object' }, added: true } }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
    const m = await getOne(h(), id);
    expect(m.metadata).toEqual({
      keep: 'yes',
      nested: { a: 1, b: { c: 2, e: 5 }, f: 'new' },
      list: [9],
      scalar: { now: 'object' },
      added: true,
    });
  });

  it('title: null removes the title', async () => {
    const id = await rememberOne(h(), { content: `titled ${uniqueWord()}`, title: 'A title' });
    const out = await update(h(), [{ id, title: null }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
    expect((await getOne(h(), id)).title).toBeNull();
  });

  it('expires_at: null clears expiry, and ttl_seconds sets it again', async () => {
    const id = await rememberOne(h(), { content: `expiring ${uniqueWord()}`, ttl_seconds: 60 });
    expect((await getOne(h(), id)).expires_at).not.toBeNull();
    expect((await update(h(), [{ id, expires_at: null }])).results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
    expect((await getOne(h(), id)).expires_at).toBeNull();
    const now = Date.now();
    expect((await update(h(), [{ id, ttl_seconds: 120 }])).results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 3 });
    const exp = Date.parse((await getOne(h(), id)).expires_at);
    expect(exp).toBeGreaterThanOrEqual(now + 120_000 - 5);
    expect(exp).toBeLessThanOrEqual(Date.now() + 120_000 + 5);
  });

  it('expires_at in the past is a VALIDATION_ERROR and changes nothing', async () => {
    const id = await rememberOne(h(), { content: `past expiry ${uniqueWord()}` });
    const out = await update(h(), [{ id, expires_at: '2000-01-01T00:00:00.000Z' }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'updates[0].expires_at');
    expect(await getOne(h(), id)).toMatchObject({ version: 1, expires_at: null });
  });

  it('a content change is embedded again: vector search finds the new words, text search no longer finds the old', async () => {
    const oldWord = uniqueWord('ol');
    const newWord = uniqueWord('nw');
    const id = await rememberOne(h(), { content: `${oldWord} lighthouse keeper journal` });
    expect(await idsContaining(h(), oldWord)).toEqual([id]);

    const out = await update(h(), [{ id, content: `${newWord} submarine captain logbook` }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });

    const vec = await searchIds(h(), { query: `${newWord} submarine captain logbook`, mode: 'vector', limit: 1 });
    expect(vec).toEqual([id]);
    expect(await idsContaining(h(), newWord, 'text')).toEqual([id]);
    expect(await idsContaining(h(), oldWord, 'text')).toEqual([]);
    const textOld = await searchIds(h(), { query: oldWord, mode: 'text', limit: 100 });
    expect(textOld).not.toContain(id);
    expect((await getOne(h(), id)).content).toBe(`${newWord} submarine captain logbook`);
  });

  it('a content change updates dedupe: the new content deduplicates, the old one can be stored again', async () => {
    const word = uniqueWord();
    const id = await rememberOne(h(), { content: `${word} before the change` });
    await update(h(), [{ id, content: `${word} after the change` }]);
    const again = await h().ok('batch_remember', { memories: [{ content: `${word} AFTER the change` }, { content: `${word} before the change` }] });
    expect(again.results[0]).toMatchObject({ status: 'ok', action: 'deduplicated', id });
    expect(again.results[1]).toMatchObject({ status: 'ok', action: 'created' });
    expect(again.results[1].id).not.toBe(id);
  });

  it('values equal to the stored ones report unchanged and do not bump the version', async () => {
    const word = uniqueWord();
    const id = await rememberOne(h(), { content: `${word} stable`, tags: ['x'], metadata: { a: { b: 1 } }, importance: 0.7 });
    const before = await getOne(h(), id);
    await sleep(10);
    const out = await update(h(), [{ id, content: `${word} stable`, tags: ['x', 'x'], importance: 0.7, metadata: { a: { b: 1 } } }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'unchanged', version: 1 });
    const after = await getOne(h(), id);
    expect(after).toEqual(before);
  });

  it('a metadata patch removing a key that does not exist is unchanged', async () => {
    const id = await rememberOne(h(), { content: `noop patch ${uniqueWord()}`, metadata: { a: 1 } });
    const out = await update(h(), [{ id, metadata: { missing: null } }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'unchanged', version: 1 });
  });

  it('expected_version that differs is VERSION_CONFLICT; the matching one updates', async () => {
    const id = await rememberOne(h(), { content: `versioned ${uniqueWord()}` });
    await update(h(), [{ id, importance: 0.1 }]); // now version 2
    const conflict = await update(h(), [{ id, importance: 0.2, expected_version: 1 }]);
    expectItemError(conflict, 0, 'VERSION_CONFLICT', 'updates[0].expected_version');
    expect(conflict.results[0].id).toBe(id);
    expect(await getOne(h(), id)).toMatchObject({ version: 2, importance: 0.1 });

    const ok = await update(h(), [{ id, importance: 0.2, expected_version: 2 }]);
    expect(ok.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 3 });
    expect(await getOne(h(), id)).toMatchObject({ version: 3, importance: 0.2 });
  });

  it('an immutable memory reports IMMUTABLE and is not changed', async () => {
    const id = await rememberOne(h(), { content: `immutable ${uniqueWord()}`, immutable: true });
    const out = await update(h(), [{ id, importance: 1 }, { id: `${id}-not-there-${uniqueWord()}`, importance: 1 }]);
    expectItemError(out, 0, 'IMMUTABLE', 'updates[0].id');
    expectItemError(out, 1, 'NOT_FOUND', 'updates[1].id');
    expect(await getOne(h(), id)).toMatchObject({ version: 1, importance: 0.5, immutable: true });
  });

  it('an update can make a memory immutable, after which it cannot be updated', async () => {
    const id = await rememberOne(h(), { content: `freeze later ${uniqueWord()}` });
    expect((await update(h(), [{ id, immutable: true }])).results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
    expectItemError(await update(h(), [{ id, immutable: false }]), 0, 'IMMUTABLE');
  });

  it('an unknown id is NOT_FOUND while the other items update', async () => {
    const id = await rememberOne(h(), { content: `exists ${uniqueWord()}` });
    const missing = `missing-${uniqueWord()}`;
    const out = await update(h(), [{ id: missing, importance: 0.3 }, { id, importance: 0.3 }]);
    expectItemError(out, 0, 'NOT_FOUND', 'updates[0].id');
    expect(out.results[0].id).toBe(missing);
    expect(out.results[0].error.message).toContain(missing);
    expect(out.results[1]).toMatchObject({ status: 'ok', action: 'updated' });
  });

  it('an item with only an id (or only id and expected_version) is a VALIDATION_ERROR', async () => {
    const id = await rememberOne(h(), { content: `only id ${uniqueWord()}` });
    const out = await update(h(), [{ id }, { id, expected_version: 1 }, { id, importance: 0.6 }]);
    expectItemError(out, 0, 'VALIDATION_ERROR');
    expect(out.results[0].error.field).toMatch(/^updates\[0\]/);
    expectItemError(out, 1, 'VALIDATION_ERROR');
    expect(out.results[1].error.field).toMatch(/^updates\[1\]/);
    expect(out.results[2]).toMatchObject({ status: 'ok', action: 'updated' });
  });

  it('a metadata patch that grows metadata past 16 KiB is PAYLOAD_TOO_LARGE and changes nothing', async () => {
    const id = await rememberOne(h(), { content: `big metadata ${uniqueWord()}`, metadata: { a: 'x'.repeat(12_000) } });
    const out = await update(h(), [{ id, metadata: { b: 'y'.repeat(6_000) } }]);
    expectItemError(out, 0, 'PAYLOAD_TOO_LARGE', 'updates[0].metadata');
    const m = await getOne(h(), id);
    expect(m.version).toBe(1);
    expect(Object.keys(m.metadata)).toEqual(['a']);
  });

  it('a metadata patch that itself is over 16 KiB is PAYLOAD_TOO_LARGE', async () => {
    const id = await rememberOne(h(), { content: `huge patch ${uniqueWord()}` });
    const out = await update(h(), [{ id, metadata: { b: 'y'.repeat(17_000) } }]);
    expectItemError(out, 0, 'PAYLOAD_TOO_LARGE', 'updates[0].metadata');
  });

  it('a patch that shrinks oversize-bound metadata by removing a key is accepted', async () => {
    const id = await rememberOne(h(), { content: `shrink ${uniqueWord()}`, metadata: { a: 'x'.repeat(10_000), b: 'y'.repeat(5_000) } });
    const out = await update(h(), [{ id, metadata: { a: null, c: 'z'.repeat(4_000) } }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
    expect(Object.keys((await getOne(h(), id)).metadata).sort()).toEqual(['b', 'c']);
  });

  it('a wrong-length embedding in an update is a VALIDATION_ERROR at updates[i].embedding', async () => {
    const id = await rememberOne(h(), { content: `update embedding ${uniqueWord()}` });
    const out = await update(h(), [{ id, embedding: [0.1, 0.2, 0.3] }]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'updates[0].embedding');
    expect((await getOne(h(), id)).version).toBe(1);
  });
});
