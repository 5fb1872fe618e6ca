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

/** Exact match on top-level metadata keys: each equals the given JSON value (a nested key with that value does not match). */
export function metadataMatches(metadata: Record<string, unknown>, wanted: SearchFilter['metadata']): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v);
}

