import { describe, expect, it } from 'vitest';
import { ISO, expectItemError, get, remember, uniqueWord, useHarness } from './_helpers.js';

const RECORD_FIELDS = [
  'id',
  'content',
  'type',
  'title',
  'tags',
  'metadata',
  'confidence',
  'importance',
  'source',
  'provenance',
  'pinned',
  'immutable',
  'expires_at',
  'agent_id',
  'namespace',
  'session_id',
  'created_at',
  'updated_at',
  'version',
].sort();

describe('batch_get', () => {
  const h = useHarness();

  it('returns the whole record of every found id under memory, in input order', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [
      { content: `${word} first`, title: 't1', tags: ['x'], metadata: { n: 1 } },
      { content: `${word} second`, type: 'event', pinned: true },
    ]);
    const [a, b] = out.results.map((r: any) => r.id);
    const g = await get(h(), [b, a]);
    expect(g.total).toBe(2);
    expect(g.succeeded).toBe(2);
    expect(g.results[0]).toMatchObject({ index: 0, id: b, status: 'ok', action: 'found' });
    expect(g.results[1]).toMatchObject({ index: 1, id: a, status: 'ok', action: 'found' });
    for (const r of g.results) {
      expect(Object.keys(r.memory).sort()).toEqual(RECORD_FIELDS);
      expect(r.memory.id).toBe(r.id);
      expect(r.memory.created_at).toMatch(ISO);
      expect(r.memory.updated_at).toMatch(ISO);
    }
    expect(g.results[0].memory).toMatchObject({ content: `${word} second`, type: 'event', pinned: true, title: null });
    expect(g.results[1].memory).toMatchObject({ content: `${word} first`, title: 't1', tags: ['x'], metadata: { n: 1 } });
  });

  it('an unknown id is NOT_FOUND with the id and ids[i] as field, while the others are found', async () => {
    const word = uniqueWord();
    const out = await remember(h(), [{ content: `${word} present` }]);
    const id = out.results[0].id;
    const missing = `absent-${word}`;
    const g = await get(h(), [missing, id]);
    expectItemError(g, 0, 'NOT_FOUND', 'ids[0]');
    expect(g.results[0].id).toBe(missing);
    expect(g.results[0].memory).toBeUndefined();
    expect(g.results[0].error.message).toBe(`no memory with id "${missing}"`);
    expect(g.results[1]).toMatchObject({ status: 'ok', id });
    expect(g).toMatchObject({ total: 2, succeeded: 1, failed: 1, skipped: 0 });
  });

  it('the same id twice is DUPLICATE_ID for the second; the first is found', async () => {
    const out = await remember(h(), [{ content: `dup get ${uniqueWord()}` }]);
    const id = out.results[0].id;
    const g = await get(h(), [id, id]);
    expect(g.results[0]).toMatchObject({ status: 'ok', id });
    expectItemError(g, 1, 'DUPLICATE_ID', 'ids[1]');
  });

  it('an id that is not a valid id is a VALIDATION_ERROR at ids[i]', async () => {
    const g = await get(h(), ['has space', 'ok-id-that-does-not-exist', '', 'x'.repeat(129), 'slash/inside']);
    expectItemError(g, 0, 'VALIDATION_ERROR', 'ids[0]');
    expectItemError(g, 1, 'NOT_FOUND', 'ids[1]');
    expectItemError(g, 2, 'VALIDATION_ERROR', 'ids[2]');
    expectItemError(g, 3, 'VALIDATION_ERROR', 'ids[3]');
    expectItemError(g, 4, 'VALIDATION_ERROR', 'ids[4]');
  });
});
