/**
 * Inputs that used to crash a whole call (issue 8): metadata nested thousands
 * of levels deep overflowed the stack (INTERNAL for every item), and
 * non-object `arguments` became a JSON-RPC internal error with a zod dump.
 * Each must be the error the contract promises, and the rest of the batch
 * must run.
 */
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/model.js';
import { get, remember, rememberOne, textOf, update, useHarness } from './_helpers.js';

/** `{ k: { k: … { k: 1 } } }`, `levels` objects deep (the outermost counts as 1). */
function nested(levels: number): Record<string, unknown> {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { k: v };
  return v as Record<string, unknown>;
}

describe('deeply nested metadata', () => {
  const h = useHarness();

  it(`metadata ${LIMITS.nestingDepth} levels deep is stored; one level more is a VALIDATION_ERROR of that item alone`, async () => {
    const out = await remember(h(), [
      { content: 'nested just deep enough', metadata: nested(LIMITS.nestingDepth) },
      { content: 'nested one level too deep', metadata: nested(LIMITS.nestingDepth + 1) },
      { content: 'a plain neighbour in the same batch' },
    ]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[1]).toMatchObject({ status: 'error', error: { code: 'VALIDATION_ERROR', field: 'memories[1].metadata' } });
    expect(out.results[1].error.message).toMatch(/nests more than 32 levels/);
    expect(out.results[2]).toMatchObject({ status: 'ok', action: 'created' });
    const back = await get(h(), [out.results[0].id]);
    expect(back.results[0].memory.metadata).toEqual(nested(LIMITS.nestingDepth));
  });

  it('5,000 levels (30 KB) fails that item only, in remember and update, and nothing of it is written', async () => {
    const deep = nested(5_000); // as JSON text '{"k":' × 5,000 … '}' × 5,000: 30 KB (too deep even for JSON.stringify here)
    const out = await remember(h(), [{ content: 'the neighbour of a hostile item' }, { content: 'hostile', metadata: deep }]);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[1]).toMatchObject({ status: 'error', error: { code: 'VALIDATION_ERROR', field: 'memories[1].metadata' } });
    expect(out.failed).toBe(1);

    const id = out.results[0].id as string;
    const upd = await update(h(), [{ id, metadata: deep }, { id: 'no-such-id', importance: 0.1 }]);
    expect(upd.results[0]).toMatchObject({ status: 'error', error: { code: 'VALIDATION_ERROR', field: 'updates[0].metadata' } });
    expect(upd.results[1].error.code).toBe('NOT_FOUND');
    const back = await get(h(), [id]);
    expect(back.results[0].memory).toMatchObject({ version: 1, metadata: {} });
  });

  it('deep arrays count as levels too', async () => {
    let v: unknown = 'x';
    for (let i = 0; i < 40; i++) v = [v];
    const out = await remember(h(), [{ content: 'array nesting', metadata: { list: v } }]);
    expect(out.results[0].error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'memories[0].metadata' });
  });

  it('a deep search filter value is refused per query too', async () => {
    const id = await rememberOne(h(), { content: 'searchable neighbour of a deep filter' });
    const out = await h().ok('batch_search', { queries: [{ query: 'neighbour', filter: { metadata: nested(50) } }, { query: 'searchable neighbour' }] });
    expect(out.results[0]).toMatchObject({ status: 'error', error: { code: 'VALIDATION_ERROR', field: 'queries[0].filter' } });
    expect(out.results[1].results.map((r: { id: string }) => r.id)).toContain(id);
  });
});

describe('arguments that are not an object', () => {
  const h = useHarness();

  for (const [label, args] of [
    ['a string', 'notanobject'],
    ['a number', 42],
    ['an array', [{ content: 'x' }]],
    ['null', null],
  ] as const) {
    it(`${label} is a whole-call VALIDATION_ERROR result (isError, a text block), not a protocol error`, async () => {
      for (const name of ['batch_remember', 'batch_get', 'batch_search', 'batch_update', 'batch_delete']) {
        // A raw request: the SDK client would refuse to send such arguments itself.
        const res = await h().client.request({ method: 'tools/call', params: { name, arguments: args as never } }, CallToolResultSchema);
        expect(res.isError, name).toBe(true);
        expect(textOf(res)).toBe('VALIDATION_ERROR: arguments must be a JSON object');
      }
    });
  }

  it('missing arguments are the missing item array', async () => {
    const res = await h().client.request({ method: 'tools/call', params: { name: 'batch_get' } }, CallToolResultSchema);
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^VALIDATION_ERROR: "ids" is required/);
  });

  it('an unknown tool is still an error result naming the tools', async () => {
    const res = await h().client.request({ method: 'tools/call', params: { name: 'batch_nope', arguments: {} } }, CallToolResultSchema);
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/unknown tool "batch_nope"/);
  });
});
