import { z } from 'zod';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Node = { [key: string]: Json };

/**
 * The JSON Schema a tool advertises, derived from its zod schema and then
 * made portable and short: every client reads it into the model's context on
 * every `tools/list`, and some clients reject what zod emits.
 *
 * - `additionalProperties: {}` (zod's `z.unknown()` values, metadata) goes:
 *   an empty schema is the "untyped" construct MCP Inspector warns about, and
 *   any value is already what JSON Schema allows by default.
 * - `type: ["string", "null"]` becomes `anyOf` branches of one type each:
 *   clients that map tool schemas onto a single-`type` dialect (Gemini's
 *   OpenAPI subset) reject the array form.
 * - `$schema`, `propertyNames: {type: "string"}` (every JSON key is a string)
 *   and zod's long date(-time) regexes beside their `format` are dropped;
 *   inside `anyOf` branches only the parent's description is kept.
 * - Output schemas are read by clients, never filled by a model: there
 *   descriptions, zod's ±2^53 integer bounds, `additionalProperties: false`
 *   (fields may be added to results, contract preamble) and `required` (every
 *   field of contract §3 is always there; a record inside a result is just
 *   `object`, see output.ts) go too.
 */
export function advertisedJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const raw = z.toJSONSchema(schema, { io, target: 'draft-7' }) as Node;
  return tidy(raw, io, undefined) as Record<string, unknown>;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function tidy(node: Json, io: 'input' | 'output', parentDescription: string | undefined): Json {
  if (Array.isArray(node) || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node.type)) {
    const { type, ...rest } = node;
    return tidy({ ...rest, anyOf: type.map((t) => ({ type: t })) }, io, parentDescription);
  }
  const description = typeof node.description === 'string' ? node.description : undefined;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'description' && (io === 'output' || parentDescription !== undefined)) continue;
    if (key === 'pattern' && (node.format === 'date-time' || node.format === 'date')) continue;
    if (key === 'propertyNames' && isOnly(value, { type: 'string' })) continue;
    if (key === 'properties' && Object.keys(value as Node).length === 0) continue;
    if (key === 'additionalProperties' && (value === true || isOnly(value, {}) || (io === 'output' && value === false))) continue;
    if (io === 'output' && key === 'required') continue;
    if (io === 'output' && (key === 'minimum' || key === 'maximum') && Math.abs(value as number) === SAFE) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Node).map(([k, v]) => [k, tidy(v, io, undefined)]));
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = (value as Json[]).map((v) => tidy(v, io, description));
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = tidy(value, io, undefined);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Whether `v` is an object with exactly these keys and values (descriptions aside). */
function isOnly(v: Json, expected: Record<string, string>): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v).filter((k) => k !== 'description');
  return keys.length === Object.keys(expected).length && keys.every((k) => v[k] === expected[k]);
}
