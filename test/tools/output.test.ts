import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../helpers/harness.js';
import { fromTextBlock, textOf, uniqueWord, useHarness } from './_helpers.js';

const SUMMARY = /^\d+ ok(, \d+ errors? \([A-Z_, ]+\))?(, \d+ skipped)? in \d+ ms$/;

const EXPECTED_ANNOTATIONS: Record<string, { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean }> = {
  batch_remember: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  batch_update: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  batch_delete: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  batch_search: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  batch_get: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
};
const ITEMS_KEY: Record<string, string> = { batch_remember: 'memories', batch_update: 'updates', batch_delete: 'ids', batch_search: 'queries', batch_get: 'ids' };

/** Every object schema inside a JSON Schema, with its path. */
function objectSchemas(schema: any, path = '$'): Array<[string, any]> {
  if (!schema || typeof schema !== 'object') return [];
  const out: Array<[string, any]> = [];
  if (schema.type === 'object' && schema.properties) out.push([path, schema]);
  for (const [k, v] of Object.entries(schema.properties ?? {})) out.push(...objectSchemas(v, `${path}.${k}`));
  if (schema.items) out.push(...objectSchemas(schema.items, `${path}[]`));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const [i, s] of (schema[key] ?? []).entries()) out.push(...objectSchemas(s, `${path}.${key}[${i}]`));
  return out;
}

describe('tool listings', () => {
  const h = useHarness();
  let tools: Tool[];
  beforeAll(async () => {
    tools = (await h().client.listTools()).tools;
  });

  it('lists exactly the five batch tools', () => {
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(EXPECTED_ANNOTATIONS).sort());
  });

  for (const name of Object.keys(EXPECTED_ANNOTATIONS)) {
    describe(name, () => {
      const tool = () => tools.find((t) => t.name === name)!;

      it('has every annotation hint, with openWorldHint false', () => {
        const a = tool().annotations!;
        expect(a).toMatchObject({ ...EXPECTED_ANNOTATIONS[name], openWorldHint: false });
        for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) expect(typeof a[k], k).toBe('boolean');
        expect(typeof a.title).toBe('string');
      });

      it('has a title, a description and an output schema', () => {
        expect(tool().title).toBeTruthy();
        expect(tool().description!.length).toBeGreaterThan(50);
        expect(tool().outputSchema?.type).toBe('object');
      });

      it('its inputSchema is exact: additionalProperties false on every object, items array, agent_id, session_token, options', () => {
        const s = tool().inputSchema as any;
        expect(s.type).toBe('object');
        expect(s.additionalProperties).toBe(false);
        expect(Object.keys(s.properties).sort()).toEqual([ITEMS_KEY[name]!, 'agent_id', 'options', 'session_token'].sort());
        expect(s.required).toEqual([ITEMS_KEY[name]]);
        const objects = objectSchemas(s);
        expect(objects.length).toBeGreaterThan(1);
        for (const [path, o] of objects) {
          // Free-form maps (metadata) may take any key; every fixed-shape object is closed.
          if (path.endsWith('.metadata')) continue;
          expect(o.additionalProperties, path).toBe(false);
        }
      });

      it('its inputSchema describes every field of the items and the options', () => {
        const s = tool().inputSchema as any;
        const missing: string[] = [];
        const check = (props: Record<string, any>, where: string) => {
          for (const [k, v] of Object.entries(props)) if (typeof v.description !== 'string' || v.description.length < 5) missing.push(`${where}.${k}`);
        };
        check(s.properties, '$');
        const items = s.properties[ITEMS_KEY[name]!].items;
        if (items.type === 'object') check(items.properties, 'item');
        else expect(items.description ?? s.properties[ITEMS_KEY[name]!].description, 'item description').toBeTruthy();
        const options = s.properties.options;
        check(options.properties, 'options');
        expect(missing).toEqual([]);
      });

      it('its inputSchema carries bounds and defaults', () => {
        const s = tool().inputSchema as any;
        expect(s.properties[ITEMS_KEY[name]!]).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
        const opts = s.properties.options.properties;
        expect(opts.continue_on_error.default).toBe(true);
        expect(opts.atomic.default).toBe(false);
        expect(opts.validate_only.default).toBe(false);
        expect(opts.timeout_ms).toMatchObject({ default: 30_000, maximum: 60_000 });
      });
    });
  }

  it('batch_remember items show the §2 defaults and bounds', () => {
    const item = (tools.find((t) => t.name === 'batch_remember')!.inputSchema as any).properties.memories.items;
    expect(item.required).toEqual(['content']);
    expect(item.properties.content).toMatchObject({ type: 'string', minLength: 1, maxLength: 32_768 });
    expect(item.properties.type.default).toBe('fact');
    expect(item.properties.confidence).toMatchObject({ default: 0.8, minimum: 0, maximum: 1 });
    expect(item.properties.importance).toMatchObject({ default: 0.5, minimum: 0, maximum: 1 });
    expect(item.properties.source.default).toBe('agent');
    expect(item.properties.provenance.default).toBe('explicit_statement');
    expect(item.properties.pinned.default).toBe(false);
    expect(item.properties.immutable.default).toBe(false);
    expect(item.properties.tags).toMatchObject({ type: 'array', maxItems: 32 });
    expect(item.properties.tags.items).toMatchObject({ minLength: 1, maxLength: 64 });
    expect(item.properties.title.maxLength).toBe(200);
  });

  it('batch_search items show the §4 defaults and bounds', () => {
    const item = (tools.find((t) => t.name === 'batch_search')!.inputSchema as any).properties.queries.items;
    expect(item.properties.limit).toMatchObject({ default: 10, minimum: 1, maximum: 100 });
    expect(item.properties.mode).toMatchObject({ default: 'hybrid', enum: ['hybrid', 'vector', 'text'] });
    expect(item.properties.scope).toMatchObject({ default: 'agent' });
    expect(item.properties.context).toMatchObject({ default: 0, minimum: 0, maximum: 5 });
    expect(Object.keys(item.properties.filter.properties).sort()).toEqual(
      ['types', 'tags_any', 'tags_all', 'session_id', 'source', 'pinned', 'created_after', 'created_before', 'metadata'].sort(),
    );
  });
});

describe('call output', () => {
  const h = useHarness();

  async function checkedCall(tool: string, args: Record<string, unknown>) {
    const res = await h().call(tool, args);
    expect(res.isError ?? false, JSON.stringify(res).slice(0, 500)).toBe(false);
    expect(res.content).toHaveLength(1);
    expect(res.content[0]!.type).toBe('text');
    const text = textOf(res);
    const newline = text.indexOf('\n');
    const first = text.slice(0, newline);
    expect(first).toMatch(SUMMARY);
    expect(fromTextBlock(JSON.parse(text.slice(newline + 1)), res.structuredContent)).toEqual(res.structuredContent);
    const s = res.structuredContent as any;
    expect(s.results.map((r: any) => r.index)).toEqual(s.results.map((_: unknown, i: number) => i));
    expect(s.total).toBe(s.results.length);
    expect(s.succeeded + s.failed + s.skipped).toBe(s.total);
    expect(s.succeeded).toBe(s.results.filter((r: any) => r.status === 'ok').length);
    expect(s.failed).toBe(s.results.filter((r: any) => r.status === 'error').length);
    expect(s.skipped).toBe(s.results.filter((r: any) => r.status === 'skipped').length);
    expect(typeof s.execution_ms).toBe('number');
    expect(s.execution_ms).toBeGreaterThanOrEqual(0);
    const summary = `${s.succeeded} ok`;
    expect(first.startsWith(summary)).toBe(true);
    if (s.failed > 0) {
      expect(first).toContain(`${s.failed} error${s.failed === 1 ? '' : 's'} (`);
      for (const code of new Set(s.results.flatMap((r: any) => (r.error ? [r.error.code] : [])))) expect(first).toContain(code as string);
    } else expect(first).not.toContain('error');
    if (s.skipped > 0) expect(first).toContain(`${s.skipped} skipped`);
    else expect(first).not.toContain('skipped');
    return s;
  }

  it('an all-ok call: "N ok in T ms" and the JSON equals structuredContent', async () => {
    const s = await checkedCall('batch_remember', { memories: [{ content: `out a ${uniqueWord()}` }, { content: `out b ${uniqueWord()}` }] });
    expect(s.succeeded).toBe(2);
  });

  it('a call with one error names its code in the summary', async () => {
    const s = await checkedCall('batch_get', { ids: ['nope-1', 'also nope'] });
    expect(s.results.map((r: any) => r.error.code)).toEqual(['NOT_FOUND', 'VALIDATION_ERROR']);
  });

  it('a call with errors and skipped items summarises both', async () => {
    const s = await checkedCall('batch_update', {
      updates: [{ id: 'nope-x', pinned: true }, { id: 'nope-y', pinned: true }, { id: 'nope-z' }],
      options: { continue_on_error: false },
    });
    expect(s.results.map((r: any) => r.status)).toEqual(['error', 'skipped', 'skipped']);
  });

  it('results are in input order, index = position, for every tool, with mixed outcomes', async () => {
    const w = uniqueWord();
    const r = await checkedCall('batch_remember', {
      memories: Array.from({ length: 12 }, (_, i) => (i % 4 === 2 ? { content: '' } : { id: `ord-${w}-${i}`, content: `${w} order ${i}` })),
    });
    r.results.forEach((x: any, i: number) => {
      if (i % 4 === 2) expect(x.status).toBe('error');
      else expect(x.id).toBe(`ord-${w}-${i}`);
    });
    const ids = Array.from({ length: 12 }, (_, i) => `ord-${w}-${11 - i}`);
    const g = await checkedCall('batch_get', { ids });
    g.results.forEach((x: any, i: number) => expect(x.id).toBe(ids[i]));
    const u = await checkedCall('batch_update', { updates: ids.map((id, i) => ({ id, importance: i / 20 })) });
    u.results.forEach((x: any, i: number) => expect(x.id).toBe(ids[i]));
    const q = await checkedCall('batch_search', { queries: [{ query: 'x', limit: 0 }, { query: w, limit: 3 }, { query: '' }, { query: w, limit: 1 }] });
    expect(q.results.map((x: any) => x.status)).toEqual(['error', 'ok', 'error', 'ok']);
    expect(q.results[1].results).toHaveLength(3);
    expect(q.results[3].results).toHaveLength(1);
    const d = await checkedCall('batch_delete', { ids });
    d.results.forEach((x: any, i: number) => expect(x.id).toBe(ids[i]));
  });

  it('validate_only and the scope are reported at the top level', async () => {
    const s = await checkedCall('batch_remember', { memories: [{ content: `vo out ${uniqueWord()}` }], options: { validate_only: true } });
    expect(s.validate_only).toBe(true);
    expect(s).toMatchObject({ agent_id: 'default', namespace: 'agent:default' });
    expect(s.session_id).toMatch(/^ses_[0-9a-f]{16}$/);
  });

  it('a whole-call failure has one text block starting with the code and no structuredContent', async () => {
    const res = await h().call('batch_get', { ids: [] });
    expect(res.isError).toBe(true);
    expect(res.content).toHaveLength(1);
    expect(textOf(res)).toMatch(/^VALIDATION_ERROR: /);
    expect(res.structuredContent).toBeUndefined();
  });
});

describe('descriptions follow the configured limit', () => {
  it('with MEMLANE_MAX_BATCH=250 every tool says 1–250 and advertises maxItems 250', async () => {
    const h = await startHarness({ env: { MEMLANE_MAX_BATCH: '250' } });
    try {
      const { tools } = await h.client.listTools();
      expect(tools).toHaveLength(5);
      for (const tool of tools) {
        expect(tool.description, tool.name).toContain('1–250');
        expect(tool.description, tool.name).not.toContain('{max}');
        const items = Object.values((tool.inputSchema as any).properties).find((p: any) => p.type === 'array') as any;
        expect(items.maxItems, tool.name).toBe(250);
      }
    } finally {
      await h.close();
    }
  });
});
