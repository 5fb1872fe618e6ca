import type { StoredMemory } from '../../src/model.js';

/** A fixed instant the rows' times are built from. */
export const T0 = Date.UTC(2026, 11, 3, 6, 0, 0, 123);

/**
 * `n` stored memories of agent "a" that exercise every column's edge cases:
 * nulls (title, expires_at), empty, one-item and non-ASCII tag lists,
 * booleans past the first byte of a bitmap, unicode and quotes in content,
 * nested metadata, several sessions, and 4-d vectors.
 */
export function edgeCaseMemories(n: number): StoredMemory[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `mem_${i}`,
    namespace: 'agent:a',
    agent_id: 'a',
    session_id: `ses_${String(i % 3).repeat(16)}`,
    ord: i + 1,
    content: i === 3 ? 'Grüße aus Köln 🍺 — «quoted» \'single\' "double" 東京' : `memory ${i}`,
    content_hash: `${i}`.padStart(64, '0'),
    type: i % 2 ? 'fact' : 'preference',
    title: i % 3 === 0 ? null : `title ${i} ✓`,
    tags: i % 4 === 0 ? [] : i === 5 ? ['日本語', 'x', 'y'] : [`t${i}`],
    metadata: i === 7 ? { where: 'Lisbon', n: 3, nested: { a: [1, 2] } } : {},
    confidence: i / n,
    importance: 1 - i / n,
    source: 'agent',
    provenance: i === 8 ? 'import' : 'test',
    pinned: i % 3 === 1,
    immutable: i === 9 || i === n - 1,
    expires_at: i % 5 === 0 ? null : T0 + i * 86_400_000,
    created_at: T0 - i,
    updated_at: T0 + i,
    version: i + 1,
    vector: new Float32Array([i, 0.5, -1, 0]),
  }));
}
