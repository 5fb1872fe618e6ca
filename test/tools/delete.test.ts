import { describe, expect, it } from 'vitest';
import { del, expectItemError, get, getOne, idsContaining, remember, rememberOne, searchIds, uniqueWord, useHarness } from './_helpers.js';

describe('batch_delete', () => {
  const h = useHarness();

  it('deletes: get then reports NOT_FOUND and no search mode returns it', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [{ content: `${word} to be deleted` }, { content: `${word} to be kept` }]);
    const [gone, kept] = out.results.map((r: any) => r.id);
    const d = await del(h(), [gone]);
    expect(d.results[0]).toMatchObject({ index: 0, id: gone, status: 'ok', action: 'deleted' });
    expect(d).toMatchObject({ total: 1, succeeded: 1, failed: 0, skipped: 0 });

    const g = await get(h(), [gone, kept]);
    expectItemError(g, 0, 'NOT_FOUND', 'ids[0]');
    expect(g.results[1]).toMatchObject({ status: 'ok', id: kept });
    for (const mode of ['text', 'vector', 'hybrid'] as const) {
      const ids = await searchIds(h(), { query: `${word} to be deleted`, mode, limit: 100 });
      expect(ids, mode).not.toContain(gone);
      expect(await idsContaining(h(), word, mode), mode).toEqual([kept]);
    }
  });

  it('deleting twice reports NOT_FOUND the second time', async () => {
    const id = await rememberOne(h(), { content: `twice ${uniqueWord()}` });
    expect((await del(h(), [id])).results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
    expectItemError(await del(h(), [id]), 0, 'NOT_FOUND', 'ids[0]');
  });

  it('an immutable memory needs options.force: without it IMMUTABLE and kept, with it deleted', async () => {
    const id = await rememberOne(h(), { content: `immutable delete ${uniqueWord()}`, immutable: true });
    const refused = await del(h(), [id]);
    expectItemError(refused, 0, 'IMMUTABLE', 'ids[0]');
    expect(refused.results[0].id).toBe(id);
    expect(await getOne(h(), id)).toBeDefined();

    const forced = await del(h(), [id], { options: { force: true } });
    expect(forced.results[0]).toMatchObject({ status: 'ok', action: 'deleted', id });
    expect(await getOne(h(), id)).toBeUndefined();
  });

  it('an unknown id is NOT_FOUND while the others in the call are deleted', async () => {
    const a = await rememberOne(h(), { content: `multi delete a ${uniqueWord()}` });
    const b = await rememberOne(h(), { content: `multi delete b ${uniqueWord()}` });
    const missing = `nope-${uniqueWord()}`;
    const out = await del(h(), [a, missing, b]);
    expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'error', 'ok']);
    expectItemError(out, 1, 'NOT_FOUND', 'ids[1]');
    expect(out.results[1].id).toBe(missing);
    const g = await get(h(), [a, b]);
    expect(g.results.map((r: any) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  it('a deleted client id can be remembered again as a new memory at version 1', async () => {
    const word = uniqueWord();
    const id = `reuse-${word}`;
    await rememberOne(h(), { id, content: `${word} original` });
    await del(h(), [id]);
    const out = await remember(h(), [{ id, content: `${word} reborn` }]);
    expect(out.results[0]).toMatchObject({ id, status: 'ok', action: 'created', version: 1 });
  });

  it('deleted content no longer deduplicates new content', async () => {
    const word = uniqueWord();
    const id = await rememberOne(h(), { content: `${word} ephemeral fact` });
    await del(h(), [id]);
    const out = await remember(h(), [{ content: `${word} ephemeral fact` }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[0].id).not.toBe(id);
  });
});
