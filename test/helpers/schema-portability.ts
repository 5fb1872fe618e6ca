/**
 * The rules of MCP Inspector's tool-schema portability check
 * (modelcontextprotocol/inspector, core/json/schemaLint.ts: `lintToolSchemas`),
 * written again here so a test can hold memlane's advertised schemas to them:
 *
 * - boolean-schema (error): a bare `true`/`false` where a schema object is
 *   expected; allowed under additionalProperties, unevaluatedProperties,
 *   additionalItems, unevaluatedItems.
 * - type-union (warning): `type` given as an array of distinct JSON types
 *   (`["string", "null"]`).
 * - untyped-schema (warning): a schema with no constraining keyword at all
 *   (`{}`, or only annotations such as description/default), except under `not`.
 * - remote-ref (warning): a `$ref` that does not start with `#` (when the
 *   document declares no `$id`).
 *
 * It walks only subschema positions (properties, items, anyOf …), never
 * instance data such as `default` or `enum` values, as the Inspector does.
 */
export interface Finding {
  rule: 'boolean-schema' | 'type-union' | 'untyped-schema' | 'remote-ref';
  severity: 'error' | 'warning';
  path: string;
}

const BOOLEAN_OK = new Set(['additionalProperties', 'unevaluatedProperties', 'additionalItems', 'unevaluatedItems']);
const SINGLE = ['items', 'contains', 'not', 'propertyNames', 'if', 'then', 'else', 'additionalProperties', 'unevaluatedProperties', 'additionalItems', 'unevaluatedItems', 'contentSchema'];
const ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const MAPS = ['properties', 'patternProperties', 'dependentSchemas', 'dependencies', '$defs', 'definitions'];
const CONSTRAINING = new Set([
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'format', 'contentMediaType', 'contentEncoding', 'contentSchema', 'maxItems', 'minItems', 'uniqueItems', 'maxContains',
  'minContains', 'maxProperties', 'minProperties', 'required', 'dependentRequired', 'allOf', 'anyOf', 'oneOf', 'not', 'items',
  'prefixItems', 'contains', 'additionalItems', 'unevaluatedItems', 'properties', 'patternProperties', 'additionalProperties',
  'unevaluatedProperties', 'propertyNames', 'dependentSchemas', 'dependencies', '$ref', '$dynamicRef', '$recursiveRef',
]);
const JSON_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function children(node: Obj, path: string, visit: (child: unknown, path: string, keyword: string) => void): void {
  for (const key of MAPS) {
    const map = node[key];
    if (isObj(map)) for (const [name, sub] of Object.entries(map)) visit(sub, `${path}.${key}.${name}`, key);
  }
  for (const key of ARRAYS) {
    const arr = node[key];
    if (Array.isArray(arr)) arr.forEach((sub, i) => visit(sub, `${path}.${key}[${i}]`, key));
  }
  for (const key of SINGLE) {
    if (!(key in node)) continue;
    const value = node[key];
    if (key === 'items' && Array.isArray(value)) value.forEach((sub, i) => visit(sub, `${path}.items[${i}]`, key));
    else visit(value, `${path}.${key}`, key);
  }
}

function declaresId(node: unknown, depth = 0): boolean {
  if (depth > 64 || !isObj(node)) return false;
  if (typeof node.$id === 'string' && node.$id !== '') return true;
  let found = false;
  children(node, '', (child) => {
    found ||= declaresId(child, depth + 1);
  });
  return found;
}

function walk(node: unknown, path: string, keyword: string | undefined, depth: number, hasIds: boolean, out: Finding[]): void {
  if (depth > 64) return;
  if (typeof node === 'boolean') {
    if (keyword === undefined || !BOOLEAN_OK.has(keyword)) out.push({ rule: 'boolean-schema', severity: 'error', path });
    return;
  }
  if (!isObj(node)) return;
  const type = node.type;
  if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string' && JSON_TYPES.has(t)) && new Set(type).size === type.length) {
    out.push({ rule: 'type-union', severity: 'warning', path });
  }
  if (typeof node.$ref === 'string' && node.$ref !== '' && !node.$ref.startsWith('#') && !hasIds) out.push({ rule: 'remote-ref', severity: 'warning', path });
  const constrains = Object.keys(node).some((k) => CONSTRAINING.has(k)) || ('if' in node && ('then' in node || 'else' in node));
  if (!constrains && keyword !== 'not') out.push({ rule: 'untyped-schema', severity: 'warning', path });
  children(node, path, (child, childPath, childKeyword) => walk(child, childPath, childKeyword, depth + 1, hasIds, out));
}

/** Every finding in one tool's inputSchema and outputSchema, paths prefixed with the schema's name. */
export function lintToolSchemas(tool: { inputSchema?: unknown; outputSchema?: unknown }): Finding[] {
  const out: Finding[] = [];
  for (const kind of ['inputSchema', 'outputSchema'] as const) {
    const schema = tool[kind];
    if (schema !== undefined) walk(schema, kind, undefined, 0, declaresId(schema), out);
  }
  return out;
}
