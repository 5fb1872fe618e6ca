import { describe, expect, it } from 'vitest';
import { del, expectCallError, expectItemError, get, getOne, idsContaining, remember, rememberOne, uniqueWord, update, useHarness } from './_helpers.js';

const ULID_BATCH = /^bat_[0-9A-HJKMNP-TV-Z]{26}$/;

describe('options', () => {
  const h = useHarness();

  describe('continue_on_error', () => {
    it('false: after the first failed item the rest are skipped; earlier items are written', async () => {
      const w = uniqueWord();
      const ids = [0, 1, 2, 3, 4].map((i) => `coe-${w}-${i}`);
      const out = await remember(
        h(),
        [
          { id: ids[0], content: `${w} item zero` },
          { id: ids[1], content: `${w} item one` },
          { id: ids[2], content: `${w} item two`, confidence: 7 },
          { id: ids[3], content: `${w} item three` },
          { id: ids[4], content: `${w} item four`, importance: -1 },
        ],
        { options: { continue_on_error: false } },
      );
      expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'error', 'skipped', 'skipped']);
      expectItemError(out, 2, 'VALIDATION_ERROR', 'memories[2].confidence');
      for (const i of [3, 4]) {
        expect(out.results[i].reason).toMatch(/continue_on_error/);
        expect(out.results[i].error).toBeUndefined();
        expect(out.results[i].action).toBeUndefined();
      }
      expect(out).toMatchObject({ total: 5, succeeded: 2, failed: 1, skipped: 2 });
      const g = await get(h(), ids);
      expect(g.results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'error', 'error', 'error']);
      expect((await idsContaining(h(), w)).sort()).toEqual([ids[0], ids[1]].sort());
    });

    it('false also stops after a failure found while running (NOT_FOUND in batch_update)', async () => {
      const a = await rememberOne(h(), { content: `coe update a ${uniqueWord()}` });
      const c = await rememberOne(h(), { content: `coe update c ${uniqueWord()}` });
      const out = await update(h(), [{ id: a, importance: 0.1 }, { id: `missing-${uniqueWord()}`, importance: 0.1 }, { id: c, importance: 0.1 }], {
        options: { continue_on_error: false },
      });
      expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'error', 'skipped']);
      expect((await getOne(h(), a)).importance).toBe(0.1);
      expect((await getOne(h(), c)).importance).toBe(0.5);
    });

    it('true (the default): a bad item fails alone', async () => {
      const w = uniqueWord();
      const out = await remember(h(), [{ content: `${w} a` }, { content: '' }, { content: `${w} c` }]);
      expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'error', 'ok']);
      expect(await idsContaining(h(), w)).toHaveLength(2);
    });
  });

  describe('atomic', () => {
    it('true with one invalid item: nothing is written, the bad item reports why, the others are skipped', async () => {
      const w = uniqueWord();
      const ids = [0, 1, 2].map((i) => `atomic-${w}-${i}`);
      const out = await remember(
        h(),
        [
          { id: ids[0], content: `${w} zero` },
          { id: ids[1], content: `${w} one`, tags: 'not-an-array' },
          { id: ids[2], content: `${w} two` },
        ],
        { options: { atomic: true } },
      );
      expect(out.results.map((r: any) => r.status)).toEqual(['skipped', 'error', 'skipped']);
      expectItemError(out, 1, 'VALIDATION_ERROR', 'memories[1].tags');
      expect(out.results[0].reason).toMatch(/atomic/);
      expect(out).toMatchObject({ succeeded: 0, failed: 1, skipped: 2 });
      const g = await get(h(), ids);
      expect(g.results.map((r: any) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
      expect(await idsContaining(h(), w)).toEqual([]);
    });

    it('true with a failure found while running (IMMUTABLE): nothing else is written', async () => {
      const w = uniqueWord();
      const frozen = await rememberOne(h(), { content: `${w} frozen`, immutable: true });
      const other = await rememberOne(h(), { content: `${w} other` });
      const out = await update(h(), [{ id: other, importance: 0.99 }, { id: frozen, importance: 0.99 }], { options: { atomic: true } });
      expect(out.results.map((r: any) => r.status)).toEqual(['skipped', 'error']);
      expectItemError(out, 1, 'IMMUTABLE');
      expect(await getOne(h(), other)).toMatchObject({ importance: 0.5, version: 1 });

      const d = await del(h(), [other, frozen], { options: { atomic: true } });
      expect(d.results.map((r: any) => r.status)).toEqual(['skipped', 'error']);
      expect(await getOne(h(), other)).toBeDefined();
    });

    it('true with a DUPLICATE_ID: nothing is written', async () => {
      const w = uniqueWord();
      const id = `atomic-dup-${w}`;
      const out = await remember(h(), [{ id, content: `${w} first` }, { id, content: `${w} second` }], { options: { atomic: true } });
      expect(out.results.map((r: any) => r.status)).toEqual(['skipped', 'error']);
      expectItemError(out, 1, 'DUPLICATE_ID');
      expect(await getOne(h(), id)).toBeUndefined();
    });

    it('true with every item valid writes them all', async () => {
      const w = uniqueWord();
      const out = await remember(h(), [{ content: `${w} a` }, { content: `${w} b` }], { options: { atomic: true } });
      expect(out.results.map((r: any) => r.action)).toEqual(['created', 'created']);
      expect(await idsContaining(h(), w)).toHaveLength(2);
    });
  });

  describe('validate_only', () => {
    it('batch_remember: items report validated, nothing is written', async () => {
      const w = uniqueWord();
      const ids = [`vo-${w}-0`, `vo-${w}-1`];
      const out = await remember(h(), [{ id: ids[0], content: `${w} zero` }, { id: ids[1], content: `${w} one` }, { content: `${w} bad`, type: '' }], {
        options: { validate_only: true },
      });
      expect(out.validate_only).toBe(true);
      expect(out.results[0]).toMatchObject({ index: 0, status: 'ok', action: 'validated', id: ids[0] });
      expect(out.results[1]).toMatchObject({ index: 1, status: 'ok', action: 'validated', id: ids[1] });
      expect(out.results[0].reason).toMatch(/created/);
      expectItemError(out, 2, 'VALIDATION_ERROR', 'memories[2].type');
      expect((await get(h(), ids)).results.map((r: any) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
      expect(await idsContaining(h(), w)).toEqual([]);
    });

    it('batch_remember: a would-be upsert or dedupe is still resolved, and nothing changes', async () => {
      const w = uniqueWord();
      const id = await rememberOne(h(), { id: `vo-up-${w}`, content: `${w} stored` });
      // Item 1 repeats item 0's new content: it would be deduplicated into the upserted memory.
      const out = await remember(h(), [{ id, content: `${w} replaced` }, { content: `${w} REPLACED` }], { options: { validate_only: true } });
      expect(out.results[0]).toMatchObject({ status: 'ok', action: 'validated', id });
      expect(out.results[0].reason).toMatch(/updated/);
      expect(out.results[1]).toMatchObject({ status: 'ok', action: 'validated', id });
      expect(out.results[1].reason).toMatch(/deduplicated/);
      expect(await getOne(h(), id)).toMatchObject({ content: `${w} stored`, version: 1 });
    });

    it('batch_update and batch_delete: nothing changes', async () => {
      const id = await rememberOne(h(), { content: `vo update ${uniqueWord()}` });
      const u = await update(h(), [{ id, importance: 0.01 }], { options: { validate_only: true } });
      expect(u.results[0]).toMatchObject({ status: 'ok', action: 'validated' });
      const d = await del(h(), [id], { options: { validate_only: true } });
      expect(d.results[0]).toMatchObject({ status: 'ok', action: 'validated' });
      expect(await getOne(h(), id)).toMatchObject({ importance: 0.5, version: 1 });
    });

    it('false by default: validate_only is false in the output', async () => {
      const out = await remember(h(), [{ content: `vo default ${uniqueWord()}` }]);
      expect(out.validate_only).toBe(false);
    });
  });

  describe('batch_id', () => {
    it('is echoed back when given', async () => {
      for (const tool of ['batch_remember', 'batch_get', 'batch_search', 'batch_update', 'batch_delete']) {
        const args: Record<string, unknown> =
          tool === 'batch_remember'
            ? { memories: [{ content: `batch id ${uniqueWord()}` }] }
            : tool === 'batch_search'
              ? { queries: [{ query: 'x' }] }
              : tool === 'batch_update'
                ? { updates: [{ id: 'no-such', importance: 1 }] }
                : { ids: ['no-such'] };
        const out = await h().ok(tool, { ...args, options: { batch_id: 'trace-42.a_b:c' } });
        expect(out.batch_id, tool).toBe('trace-42.a_b:c');
      }
    });

    it('is server-made bat_<ULID> by default, different on every call', async () => {
      const a = await get(h(), ['x1']);
      const b = await get(h(), ['x1']);
      expect(a.batch_id).toMatch(ULID_BATCH);
      expect(b.batch_id).toMatch(ULID_BATCH);
      expect(a.batch_id).not.toBe(b.batch_id);
    });

    it('a batch_id with forbidden characters fails the whole call', async () => {
      const w = uniqueWord();
      const res = await h().call('batch_remember', { memories: [{ content: `${w} x` }], options: { batch_id: "bad id'; --" } });
      expectCallError(res, 'VALIDATION_ERROR');
      expect(await idsContaining(h(), w)).toEqual([]);
    });
  });

  describe('timeout_ms', () => {
    it('1 ms on a 100-item remember: every item reports TIMEOUT and nothing is written', async () => {
      // Embedding 100 texts and the dedupe lookup take far longer than 1 ms, and the
      // deadline is checked before the write lock is taken, so this is deterministic.
      const w = uniqueWord();
      const items = Array.from({ length: 100 }, (_, i) => ({ id: `to-${w}-${i}`, content: `${w} timeout item ${i} with some extra words to embed` }));
      const out = await remember(h(), items, { options: { timeout_ms: 1 } });
      expect(out.results).toHaveLength(100);
      for (const [i, r] of out.results.entries()) {
        expect(r, JSON.stringify(r)).toMatchObject({ index: i, status: 'error', error: { code: 'TIMEOUT' } });
        expect(r.error.message).toMatch(/nothing was written/);
      }
      expect(out).toMatchObject({ succeeded: 0, failed: 100, skipped: 0 });
      const g = await get(h(), items.map((i) => i.id));
      expect(g.results.every((r: any) => r.error?.code === 'NOT_FOUND')).toBe(true);
      expect(await idsContaining(h(), w)).toEqual([]);
    });

    it('invalid items keep their own error when the call times out', async () => {
      const w = uniqueWord();
      const items: Record<string, unknown>[] = Array.from({ length: 50 }, (_, i) => ({ content: `${w} t ${i}` }));
      items[10] = { content: `${w} bad`, confidence: 2 };
      const out = await remember(h(), items, { options: { timeout_ms: 1 } });
      expectItemError(out, 10, 'VALIDATION_ERROR', 'memories[10].confidence');
      expect(out.results.filter((r: any) => r.error?.code === 'TIMEOUT')).toHaveLength(49);
    });

    it('outside 1–60000 or not an integer fails the whole call', async () => {
      for (const timeout_ms of [0, 60_001, 1.5, -5]) {
        expectCallError(await h().call('batch_get', { ids: ['a'], options: { timeout_ms } }), 'VALIDATION_ERROR');
      }
      expect((await get(h(), ['a'], { options: { timeout_ms: 60_000 } })).results).toHaveLength(1);
    });
  });

  describe('tool-specific options', () => {
    it('force is an option of batch_delete and batch_update only; dedupe of batch_remember only', async () => {
      const w = uniqueWord();
      expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} x` }], options: { force: true } }), 'VALIDATION_ERROR');
      expectCallError(await h().call('batch_get', { ids: ['a'], options: { dedupe: false } }), 'VALIDATION_ERROR');
      expectCallError(await h().call('batch_get', { ids: ['a'], options: { force: true } }), 'VALIDATION_ERROR');
      expectCallError(await h().call('batch_search', { queries: [{ query: w }], options: { force: true } }), 'VALIDATION_ERROR');
      expect(await idsContaining(h(), w)).toEqual([]);
    });

    it('max_retries is accepted by the tools that embed and bounded 0–10', async () => {
      expect((await remember(h(), [{ content: `mr ${uniqueWord()}` }], { options: { max_retries: 0 } })).succeeded).toBe(1);
      expect((await h().ok('batch_search', { queries: [{ query: 'x' }], options: { max_retries: 10 } })).succeeded).toBe(1);
      expectCallError(await h().call('batch_search', { queries: [{ query: 'x' }], options: { max_retries: 11 } }), 'VALIDATION_ERROR');
    });
  });
});
