/**
 * tools/list is read into the model's context on every call (issue 10, point 5):
 * small, portable, and still saying everything a model needs to fill the tools.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { advertisedInputSchema } from '../../src/batch/runner.js';
import { batchOutputSchema, itemErrorSchema } from '../../src/batch/output.js';
import { memoryRecordSchema } from '../../src/model.js';
import { hitSchema } from '../../src/tools/search.js';
import { tools as definitions } from '../../src/tools/index.js';
import { cleanup, spawnRaw, tempDir } from '../e2e/_spawn.js';
import { lintToolSchemas } from '../helpers/schema-portability.js';
import { useHarness } from './_helpers.js';

/** What a model reads of one tool: its name, description and both schemas, as serialised on the wire. */
const listedBytes = (tools: Tool[]) =>
  tools.reduce((n, t) => n + Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema })), 0);

const BUDGET = 16_000;

/** Every named field of an input schema (properties at any depth, array items), with its path. */
function fields(schema: any, path: string, out: Array<[string, any]> = []): Array<[string, any]> {
  for (const [name, sub] of Object.entries<any>(schema.properties ?? {})) {
    out.push([`${path}.${name}`, sub]);
    visit(sub, `${path}.${name}`, out);
  }
  return out;
}
function visit(schema: any, path: string, out: Array<[string, any]>): void {
  for (const branch of schema.anyOf ?? []) visit(branch, path, out);
  if (schema.properties) fields(schema, path, out);
  if (schema.items?.properties) fields(schema.items, `${path}[]`, out);
}

/** Why a field's schema says nothing of its bounds, or undefined when it does. */
function unbounded(schema: any): string | undefined {
  const branches = schema.anyOf ? schema.anyOf.filter((b: any) => b.type !== 'null') : [schema];
  for (const b of branches) {
    switch (b.type) {
      case 'string':
        if (b.maxLength === undefined && b.enum === undefined && b.pattern === undefined && b.format === undefined) return 'a string without maxLength, enum, pattern or format';
        break;
      case 'integer':
      case 'number':
        if (b.minimum === undefined || b.maximum === undefined) return 'a number without minimum and maximum';
        break;
      case 'array':
        if (b.maxItems === undefined) return 'an array without maxItems';
        if (b.items?.type === 'string' && unbounded(b.items)) return `items: ${unbounded(b.items)}`;
        break;
      case 'object':
        // Closed objects list their fields (checked one by one); free-form maps bound their keys and values or say their size.
        if (b.additionalProperties !== false && !b.propertyNames && !/KiB/.test(schema.description ?? '')) return 'a free-form object without a size or key bounds';
        break;
      case 'boolean':
        break;
      default:
        return `no type (${JSON.stringify(b).slice(0, 80)})`;
    }
  }
  return undefined;
}

describe('tools/list over the real MCP client', () => {
  const h = useHarness();
  let tools: Tool[];
  beforeAll(async () => {
    tools = (await h().client.listTools()).tools;
  });

  it(`costs at most ${BUDGET} bytes for all five tools (names, descriptions, input and output schemas)`, () => {
    expect(tools).toHaveLength(5);
    expect(listedBytes(tools)).toBeLessThanOrEqual(BUDGET);
  });

  it('every input field, at any depth, has a description and its bounds', () => {
    const problems: string[] = [];
    for (const tool of tools) {
      const all = fields(tool.inputSchema, tool.name);
      expect(all.length, tool.name).toBeGreaterThan(8);
      for (const [path, schema] of all) {
        if (typeof schema.description !== 'string' || schema.description.length < 5) problems.push(`${path}: no description`);
        const why = unbounded(schema);
        if (why) problems.push(`${path}: ${why}`);
      }
      // The item of an id array (batch_get, batch_delete) is a field too.
      const items = Object.values<any>(tool.inputSchema.properties!).find((p) => p.type === 'array')!.items;
      if (items.type === 'string') {
        if (!items.description) problems.push(`${tool.name} items: no description`);
        if (unbounded(items)) problems.push(`${tool.name} items: ${unbounded(items)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('defaults, enums and lengths a model fills by are all still advertised', () => {
    const search = (tools.find((t) => t.name === 'batch_search')!.inputSchema as any).properties.queries.items.properties;
    expect(search.mode).toMatchObject({ enum: ['hybrid', 'vector', 'text'], default: 'hybrid' });
    expect(search.fields.items.enum).toContain('content');
    expect(search.filter.properties.created_after.pattern).toBeDefined();
    const remember = (tools.find((t) => t.name === 'batch_remember')!.inputSchema as any).properties.memories.items.properties;
    expect(remember.content).toMatchObject({ minLength: 1, maxLength: 32_768 });
    expect(remember.tags).toMatchObject({ maxItems: 32, items: { minLength: 1, maxLength: 64 } });
    expect(remember.id.pattern).toBe('^[\\w.:-]{1,128}$');
    // `\w` is exactly A-Z a-z 0-9 _ in JSON Schema's (ECMA-262) regexes.
    expect(new RegExp(remember.id.pattern, 'u').test('mem_ABC.z:9-x')).toBe(true);
    expect(new RegExp(remember.id.pattern, 'u').test('é')).toBe(false);
  });

  it("MCP Inspector's schema portability check finds nothing: 0 errors, 0 warnings", () => {
    const findings = tools.flatMap((t) => lintToolSchemas(t).map((f) => `${t.name} ${f.severity} ${f.rule} at ${f.path}`));
    expect(findings).toEqual([]);
  });

  it("the same check finds the issue's 8 warnings in what zod emits unaided, with the records spelled out", () => {
    // As listed before: zod's JSON Schema as is, every record inside a result typed field by field.
    const typed: Record<string, z.ZodRawShape> = {
      batch_get: { memory: memoryRecordSchema.optional() },
      batch_search: { total: z.number().int().optional(), results: z.array(hitSchema).optional() },
    };
    const raw = definitions.map((t) => ({
      inputSchema: z.toJSONSchema(advertisedInputSchema(t, 100), { io: 'input', target: 'draft-7' }),
      outputSchema: z.toJSONSchema(batchOutputSchema({ ...t.resultShape, ...typed[t.name], error: itemErrorSchema.optional() }), { target: 'draft-7' }),
    }));
    const findings = raw.flatMap((t) => lintToolSchemas(t).map((f) => `${f.rule} ${f.path.replace(/\.properties\./g, '.')}`));
    expect(findings.sort()).toEqual([
      'type-union outputSchema.results.items.memory.expires_at',
      'type-union outputSchema.results.items.memory.title',
      'type-union outputSchema.results.items.results.items.expires_at',
      // explain's two nullable numbers (batch_search explain, added with the inspector after the issue was filed)
      'type-union outputSchema.results.items.results.items.explain.text_evidence',
      'type-union outputSchema.results.items.results.items.explain.vector_similarity',
      'type-union outputSchema.results.items.results.items.title',
      'untyped-schema inputSchema.memories.items.metadata.additionalProperties',
      'untyped-schema inputSchema.updates.items.metadata.additionalProperties',
      'untyped-schema outputSchema.results.items.memory.metadata.additionalProperties',
      'untyped-schema outputSchema.results.items.results.items.metadata.additionalProperties',
    ]);
    // Each rule, on a schema made to break it.
    const built = lintToolSchemas({
      inputSchema: { type: 'object', properties: { a: { type: ['string', 'null'] }, m: { type: 'object', additionalProperties: {} }, b: true, r: { $ref: 'https://x.example/s' } } },
    });
    expect(built.map((f) => `${f.severity} ${f.rule} ${f.path}`).sort()).toEqual([
      'error boolean-schema inputSchema.properties.b',
      'warning remote-ref inputSchema.properties.r',
      'warning type-union inputSchema.properties.a',
      'warning untyped-schema inputSchema.properties.m.additionalProperties',
    ]);
  });
});

describe('tools/list from the stdio start-up path', () => {
  const h = useHarness();
  afterEach(cleanup);

  it('is byte for byte what the in-memory client is listed, within the same budget', async () => {
    const raw = spawnRaw({ MEMLANE_DB: tempDir(), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    raw.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const listed = (await raw.response(2, 30_000)).result.tools as Tool[];
    const inMemory = (await h().client.listTools()).tools;
    expect(JSON.stringify(listed)).toBe(JSON.stringify(inMemory));
    expect(listedBytes(listed)).toBeLessThanOrEqual(BUDGET);
    raw.child.stdin.end();
    await raw.exit;
  });
});
