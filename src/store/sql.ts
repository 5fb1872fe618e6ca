import { memoriesSchema, metaSchema, sessionsSchema } from './schema.js';

/**
 * LanceDB filters are raw DataFusion SQL with no bind parameters: a value pasted
 * in raw is an injection (`' OR 1=1 --` matched every row in a probe). Every
 * value that reaches a filter goes through one of these helpers, and column
 * names come only from the whitelist below.
 */

/** A SQL string literal. Doubling `'` is the only escape DataFusion honours; backslashes are literal. */
export function sqlStr(value: string): string {
  // NUL cannot be represented in the literal; no valid value of ours contains one.
  if (value.includes('\u0000')) throw new Error('NUL character in a SQL string value');
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlStrList(values: readonly string[]): string {
  return values.map(sqlStr).join(', ');
}

/** A timestamp literal from epoch milliseconds (an integer, so nothing to escape). */
export function sqlTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new Error(`not an epoch-ms integer: ${ms}`);
  return `to_timestamp_millis(${ms})`;
}

/** Every column of our tables: the only names a filter may use. */
const COLUMNS = new Set([memoriesSchema(1), sessionsSchema, metaSchema].flatMap((schema) => schema.fields.map((f) => f.name)));

/** A quoted column name, refused unless it is one of ours. */
export function col(name: string): string {
  if (!COLUMNS.has(name)) throw new Error(`unknown column in a filter: ${name}`);
  return `"${name}"`;
}

export const and = (...parts: Array<string | undefined | false>): string =>
  parts.filter((p): p is string => typeof p === 'string' && p !== '').map((p) => `(${p})`).join(' AND ');
