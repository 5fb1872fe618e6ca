import { and, col, sqlStr, sqlStrList, sqlTimestamp } from './sql.js';

/** Contract §4's search filter, already validated by the tool's schema. */
export interface SearchFilter {
  types?: string[];
  tags_any?: string[];
  tags_all?: string[];
  session_id?: string;
  source?: string;
  pinned?: boolean;
  created_after?: string;
  created_before?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

/**
 * A filter → one LanceDB predicate. Every value passes through the escaping
 * helpers of `sql.ts` or is checked by type (booleans, epoch-ms integers);
 * the namespace predicate is added by the caller, outside these parentheses,
 * so nothing here can widen a search beyond its namespace.
 */
export function compileFilter(filter: SearchFilter): string {
  const parts: string[] = [];
  if (filter.types?.length) parts.push(`${col('type')} IN (${sqlStrList(filter.types)})`);
  if (filter.tags_any?.length) parts.push(`array_has_any(${col('tags')}, [${sqlStrList(filter.tags_any)}])`);
  if (filter.tags_all?.length) parts.push(`array_has_all(${col('tags')}, [${sqlStrList(filter.tags_all)}])`);
  if (filter.session_id !== undefined) parts.push(`${col('session_id')} = ${sqlStr(filter.session_id)}`);
  if (filter.source !== undefined) parts.push(`${col('source')} = ${sqlStr(filter.source)}`);
  if (filter.pinned !== undefined) parts.push(`${col('pinned')} = ${filter.pinned ? 'true' : 'false'}`);
  if (filter.created_after !== undefined) parts.push(`${col('created_at')} > ${sqlTimestamp(Date.parse(filter.created_after))}`);
  if (filter.created_before !== undefined) parts.push(`${col('created_at')} < ${sqlTimestamp(Date.parse(filter.created_before))}`);
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    // Metadata is stored as compact JSON text, so `"key":value` appears in it
    // whenever the key holds that value. LIKE narrows the candidates inside
    // LanceDB (so `limit` still fills); `metadataMatches` then confirms the
    // match is a top-level key, not a nested one.
    parts.push(`${col('metadata')} LIKE ${sqlStr(`%${likeEscape(`${JSON.stringify(key)}:${JSON.stringify(value)}`)}%`)}`);
  }
  return and(...parts);
}

/** Escapes LIKE's wildcards; backslash is DataFusion's only LIKE escape character. */
function likeEscape(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_');
}

/** The exact check behind the LIKE prefilter: top-level keys equal the given JSON values. */
export function metadataMatches(metadata: Record<string, unknown>, wanted: SearchFilter['metadata']): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v);
}

