import type { StoredMemory } from '../../model.js';
import { type SearchFilter, metadataMatches } from '../filter.js';

/**
 * A search filter (contract §4) as a test on a memory held in memory: types,
 * tags any/all, session, source, pinned, creation time strictly after/before,
 * exact top-level metadata values; plus liveness: this namespace and not
 * expired at `now`. Search runs on the replica, so no filter value ever
 * reaches LanceDB's SQL.
 * (No namespace: only a test that removes that wall asks for it.)
 */
export function memoryPredicate(namespace: string | undefined, now: number, filter: SearchFilter): (m: StoredMemory) => boolean {
  const types = filter.types?.length ? new Set(filter.types) : undefined;
  const tagsAny = filter.tags_any?.length ? filter.tags_any : undefined;
  const tagsAll = filter.tags_all?.length ? filter.tags_all : undefined;
  const after = filter.created_after !== undefined ? Date.parse(filter.created_after) : undefined;
  const before = filter.created_before !== undefined ? Date.parse(filter.created_before) : undefined;
  const metadata = filter.metadata && Object.keys(filter.metadata).length > 0 ? filter.metadata : undefined;
  return (m) =>
    (namespace === undefined || m.namespace === namespace) &&
    (m.expires_at === null || m.expires_at > now) &&
    (types === undefined || types.has(m.type)) &&
    (tagsAny === undefined || tagsAny.some((t) => m.tags.includes(t))) &&
    (tagsAll === undefined || tagsAll.every((t) => m.tags.includes(t))) &&
    (filter.session_id === undefined || m.session_id === filter.session_id) &&
    (filter.source === undefined || m.source === filter.source) &&
    (filter.pinned === undefined || m.pinned === filter.pinned) &&
    (after === undefined || m.created_at > after) &&
    (before === undefined || m.created_at < before) &&
    (metadata === undefined || metadataMatches(m.metadata, metadata));
}
