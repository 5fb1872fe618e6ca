/**
 * batch_update `options.force`: an immutable memory changes only when the
 * caller says so, as batch_delete deletes one only with force; it stays
 * immutable afterwards.
 */
import { describe, expect, it } from 'vitest';
import { getOne, rememberOne, uniqueWord, update, useHarness } from './_helpers.js';

describe('batch_update with force', () => {
  const h = useHarness();

  it('updates an immutable memory only with force, which stays immutable, and re-embeds its content', async () => {
    const w = uniqueWord();
    const id = await rememberOne(h(), { content: `born in ${w}`, immutable: true });
    const refused = await update(h(), [{ id, content: `born in ${w} city` }]);
    expect(refused.results[0]).toMatchObject({ status: 'error', error: { code: 'IMMUTABLE' } });
    expect(refused.results[0].error.message).toContain('options.force');

    const forced = await update(h(), [{ id, content: `born in ${w} city`, expected_version: 1 }], { options: { force: true } });
    expect(forced.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
    expect(await getOne(h(), id)).toMatchObject({ version: 2, content: `born in ${w} city`, immutable: true });
    expect((await update(h(), [{ id, importance: 0.9 }])).results[0].error.code).toBe('IMMUTABLE');
  });

  it('force does not lift expected_version', async () => {
    const id = await rememberOne(h(), { content: `frozen ${uniqueWord()}`, immutable: true });
    const out = await update(h(), [{ id, importance: 0.1, expected_version: 7 }], { options: { force: true } });
    expect(out.results[0]).toMatchObject({ status: 'error', error: { code: 'VERSION_CONFLICT' } });
  });
});
