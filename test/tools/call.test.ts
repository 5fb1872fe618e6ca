import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/runner.js';
import { rememberTool } from '../../src/tools/remember.js';
import { expectCallError, idsContaining, textOf, uniqueWord, useHarness } from './_helpers.js';

const TOOLS: ReadonlyArray<{ name: string; key: string; item: () => unknown }> = [
  { name: 'batch_remember', key: 'memories', item: () => ({ content: `whole call ${uniqueWord()}` }) },
  { name: 'batch_update', key: 'updates', item: () => ({ id: 'some-id', importance: 0.1 }) },
  { name: 'batch_delete', key: 'ids', item: () => 'some-id' },
  { name: 'batch_search', key: 'queries', item: () => ({ query: 'anything' }) },
  { name: 'batch_get', key: 'ids', item: () => 'some-id' },
];

describe('whole-call failures: isError, a text naming the problem, nothing written', () => {
  const h = useHarness();

  for (const t of TOOLS) {
    describe(t.name, () => {
      it(`a missing "${t.key}" is VALIDATION_ERROR`, async () => {
        const text = expectCallError(await h().call(t.name, {}), 'VALIDATION_ERROR');
        expect(text).toContain(t.key);
      });

      it(`"${t.key}" that is not an array is VALIDATION_ERROR`, async () => {
        for (const bad of ['x', 5, { 0: t.item() }, null]) {
          const text = expectCallError(await h().call(t.name, { [t.key]: bad }), 'VALIDATION_ERROR');
          expect(text).toContain(t.key);
        }
      });

      it(`an empty "${t.key}" is VALIDATION_ERROR`, async () => {
        const text = expectCallError(await h().call(t.name, { [t.key]: [] }), 'VALIDATION_ERROR');
        expect(text).toContain(t.key);
      });

      it('101 items is BATCH_TOO_LARGE', async () => {
        const text = expectCallError(await h().call(t.name, { [t.key]: Array.from({ length: 101 }, () => t.item()) }), 'BATCH_TOO_LARGE');
        expect(text).toMatch(/100/);
      });

      it('an unknown option is VALIDATION_ERROR naming it', async () => {
        const text = expectCallError(await h().call(t.name, { [t.key]: [t.item()], options: { continue_on_eror: false } }), 'VALIDATION_ERROR');
        expect(text).toContain('continue_on_eror');
      });

      it('an unknown top-level key is VALIDATION_ERROR naming it', async () => {
        const text = expectCallError(await h().call(t.name, { [t.key]: [t.item()], agentId: 'default' }), 'VALIDATION_ERROR');
        expect(text).toContain('agentId');
      });

      it('options of the wrong type are VALIDATION_ERROR', async () => {
        expectCallError(await h().call(t.name, { [t.key]: [t.item()], options: 'atomic' }), 'VALIDATION_ERROR');
        expectCallError(await h().call(t.name, { [t.key]: [t.item()], options: { atomic: 'yes' } }), 'VALIDATION_ERROR');
      });
    });
  }

  it('exactly 100 items is accepted', async () => {
    const w = uniqueWord();
    const out = await h().ok('batch_remember', { memories: Array.from({ length: 100 }, (_, i) => ({ content: `${w} hundred ${i}` })) });
    expect(out.succeeded).toBe(100);
  });

  it('nothing is written by a remember call that fails as a whole', async () => {
    const w = uniqueWord();
    const good = { content: `${w} must not be stored` };
    const failures: Record<string, unknown>[] = [
      { memories: [good], options: { nope: 1 } },
      { memories: [good], extra: true },
      { memories: [good, ...Array.from({ length: 100 }, (_, i) => ({ content: `${w} filler ${i}` }))] },
      { memories: [good], agent_id: 'someone-else' },
      { memories: [good], agent_id: 'bad agent id!' },
      { memories: [good], session_token: 'mlt_unknown' },
    ];
    for (const args of failures) {
      const res = await h().call('batch_remember', args);
      expect(res.isError, JSON.stringify(args).slice(0, 200)).toBe(true);
    }
    expect(await idsContaining(h(), w)).toEqual([]);
  });

  it('an unknown tool name is an error naming the available tools', async () => {
    const res = await h().call('batch_forget', { ids: ['x'] });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain('batch_remember');
  });

  it('arguments that are not an object are a whole-call VALIDATION_ERROR result, and nothing is written', async () => {
    const w = uniqueWord();
    for (const bad of [[{ content: `${w} in an array` }], 'string', 5]) {
      const res = (await h().client.callTool({ name: 'batch_remember', arguments: bad as any })) as CallToolResult;
      expectCallError(res, 'VALIDATION_ERROR');
      expect(textOf(res)).toBe('VALIDATION_ERROR: arguments must be a JSON object');
    }
    expect(await idsContaining(h(), w)).toEqual([]);
  });

  it('runBatch itself answers non-object arguments with isError VALIDATION_ERROR', async () => {
    const env = {
      services: { store: h().app.store, searcher: h().app.searcher, embedder: h().app.embedder },
      sessions: h().app.sessions,
      sources: { defaultToken: h().defaultToken! },
      maxBatch: 100,
    };
    for (const bad of [[{ content: 'x' }], 'string', 5, null, undefined]) {
      const res = await runBatch(rememberTool, bad, env);
      expectCallError(res, 'VALIDATION_ERROR');
      expect(textOf(res)).toMatch(/object/);
    }
  });
});

describe('MEMLANE_MAX_BATCH', () => {
  const h = useHarness({ env: { MEMLANE_MAX_BATCH: '3' } });

  it('is respected by every tool: 4 items is BATCH_TOO_LARGE, 3 items run', async () => {
    for (const t of TOOLS) {
      const text = expectCallError(await h().call(t.name, { [t.key]: Array.from({ length: 4 }, () => t.item()) }), 'BATCH_TOO_LARGE');
      expect(text, t.name).toMatch(/3/);
    }
    const w = uniqueWord();
    const out = await h().ok('batch_remember', { memories: [0, 1, 2].map((i) => ({ content: `${w} max batch ${i}` })) });
    expect(out.succeeded).toBe(3);
  });

  it("is the advertised inputSchema's maxItems for every tool", async () => {
    const { tools } = await h().client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    for (const t of TOOLS) {
      const listed = tools.find((x) => x.name === t.name)!;
      const arr = (listed.inputSchema.properties as any)[t.key];
      expect(arr.type, t.name).toBe('array');
      expect(arr.minItems, t.name).toBe(1);
      expect(arr.maxItems, t.name).toBe(3);
    }
  });
});

describe('default batch limit', () => {
  const h = useHarness();
  it("the advertised inputSchema's maxItems is 100 by default", async () => {
    const { tools } = await h().client.listTools();
    for (const t of TOOLS) expect((tools.find((x) => x.name === t.name)!.inputSchema.properties as any)[t.key].maxItems).toBe(100);
  });
});
