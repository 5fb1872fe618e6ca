import { z } from 'zod';

/**
 * The memory record of contract §2: bounds shared by every tool's input schema,
 * and the record as tools return it.
 */
export const LIMITS = {
  contentChars: 32_768,
  typeChars: 32,
  titleChars: 200,
  tags: 32,
  tagChars: 64,
  metadataBytes: 16 * 1024,
  /** Objects and arrays inside metadata (or any item field) nest at most this deep; the field itself is level 1. */
  nestingDepth: 32,
  idChars: 128,
  stringChars: 256,
  maxTtlSeconds: 100 * 365 * 24 * 3600,
} as const;

export const DEFAULTS = {
  type: 'fact',
  confidence: 0.8,
  importance: 0.5,
  source: 'agent',
  provenance: 'explicit_statement',
} as const;

/** `\w` is exactly A-Z a-z 0-9 _ (no `i` flag), and 8 bytes shorter in every advertised schema. */
export const MEMORY_ID_PATTERN = /^[\w.:-]{1,128}$/;

export const memoryRecordSchema = z.object({
  id: z.string(),
  content: z.string(),
  type: z.string(),
  title: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  confidence: z.number(),
  importance: z.number(),
  source: z.string(),
  provenance: z.string(),
  pinned: z.boolean(),
  immutable: z.boolean(),
  expires_at: z.string().nullable().describe('ISO-8601; null when the memory never expires'),
  agent_id: z.string(),
  namespace: z.string(),
  session_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number().int(),
});
export type MemoryRecord = z.infer<typeof memoryRecordSchema>;

/** A memory as the store holds it: times in epoch ms, plus what only the store needs. */
export interface StoredMemory {
  id: string;
  namespace: string;
  agent_id: string;
  session_id: string;
  ord: number;
  content: string;
  content_hash: string;
  type: string;
  title: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  confidence: number;
  importance: number;
  source: string;
  provenance: string;
  pinned: boolean;
  immutable: boolean;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  version: number;
  vector?: Float32Array;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toRecord(m: StoredMemory): MemoryRecord {
  return {
    id: m.id,
    content: m.content,
    type: m.type,
    title: m.title,
    tags: m.tags,
    metadata: m.metadata,
    confidence: m.confidence,
    importance: m.importance,
    source: m.source,
    provenance: m.provenance,
    pinned: m.pinned,
    immutable: m.immutable,
    expires_at: m.expires_at === null ? null : iso(m.expires_at),
    agent_id: m.agent_id,
    namespace: m.namespace,
    session_id: m.session_id,
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
    version: m.version,
  };
}
