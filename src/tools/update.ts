import { z } from 'zod';
import { maxRetriesOption } from '../batch/options.js';
import { defineTool, type Outcome } from '../batch/tool.js';
import { ErrorCode, itemError } from '../errors.js';
import { LIMITS, type StoredMemory } from '../model.js';
import { contentHash, embeddingText } from '../store/text.js';
import * as f from './fields.js';
import { jsonEqual, mergePatch } from './merge-patch.js';
import { expiryOf } from './remember.js';
import { CallVectors, callerVector, isItemError } from './vectors.js';

const changeFields = {
  content: f.content.optional(),
  type: f.type.optional(),
  title: f.title.nullable().optional().describe('null removes it'),
  tags: f.tags.optional().describe('Replaces the tags'),
  metadata: f.metadataPatch.optional(),
  confidence: f.confidence.optional(),
  importance: f.importance.optional(),
  source: f.source.optional(),
  provenance: f.provenance.optional(),
  pinned: f.pinned.optional(),
  immutable: f.immutable.optional(),
  expires_at: f.expiresAt.optional(),
  ttl_seconds: f.ttlSeconds.optional(),
  embedding: f.embedding.optional(),
};

export const updateItemSchema = z
  .object({ id: f.memoryId, ...changeFields, expected_version: f.expectedVersion.optional() })
  .strict()
  .refine((u) => Object.keys(changeFields).some((k) => (u as Record<string, unknown>)[k] !== undefined), {
    message: 'give at least one field to change besides id and expected_version',
  })
  .refine((u) => u.expires_at === undefined || u.expires_at === null || u.ttl_seconds === undefined, {
    message: 'give expires_at or ttl_seconds, not both',
    path: ['ttl_seconds'],
  });
export type UpdateItem = z.infer<typeof updateItemSchema>;

const path = (index: number, field?: string) => `updates[${index}]${field ? `.${field}` : ''}`;

export const updateTool = defineTool<UpdateItem, { max_retries: number; force: boolean }>({
  name: 'batch_update',
  title: 'Update memories',
  description:
    'Change 1–{max} memories by id; give only the fields to change. Changed content is re-embedded. `expected_version` turns ' +
    'a concurrent change into VERSION_CONFLICT. Errors: NOT_FOUND, IMMUTABLE (unless options.force).',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  itemsKey: 'updates',
  itemsDescription: 'Changes, one per id',
  itemSchema: updateItemSchema,
  options: {
    max_retries: maxRetriesOption,
    force: z.boolean().default(false).describe('Also update immutable memories'),
  },
  resultShape: { version: z.number().int().optional().describe('The stored version after this call') },
  idOf: (item) => item.id,

  async run(items, ctx) {
    const { store, embedder } = ctx.services;
    const { scope, now } = ctx;
    const outcomes = new Map<number, Outcome>();
    const vectors = new CallVectors(embedder, {
      signal: ctx.deadline.signal,
      maxRetries: ctx.options.max_retries,
      deadlineAt: ctx.deadline.at,
      progress: ctx.progress,
    });
    const ids = items.map(({ item }) => item.id);

    // Embed changed text outside the write lock; the vector depends only on embeddingText.
    await vectors.ensure(changedTexts(items, await store.getMany(scope.namespace, ids, now)));
    ctx.progress.advance('embedded', items.length);
    ctx.deadline.check('writing');

    return store.exclusive(async () => {
      const current = await store.getMany(scope.namespace, ids, now, { withVector: true });
      // Another process may have changed a memory since the first read: embed what is new now.
      await vectors.ensure(changedTexts(items, current));
      const writes = new Map<number, StoredMemory>();
      for (const { index, item } of items) {
        const result = applyUpdate(index, item, current.get(item.id), now, store.dim, vectors, ctx.options.force);
        if ('error' in result) {
          outcomes.set(index, { status: 'error', id: item.id, error: result.error });
        } else if (result.changed) {
          writes.set(index, result.memory);
          outcomes.set(index, { status: 'ok', id: item.id, action: 'updated', extra: { version: result.memory.version } });
        } else {
          outcomes.set(index, { status: 'ok', id: item.id, action: 'unchanged', extra: { version: result.memory.version } });
        }
      }
      const writable = ctx.settle(outcomes);
      ctx.deadline.check('commit');
      await store.upsert([...writable].flatMap((i) => writes.get(i) ?? []));
      ctx.progress.advance('written', writable.size);
      return outcomes;
    }, { deadlineAt: ctx.deadline.at, embeds: true });
  },
});

type Applied = { error: ReturnType<typeof itemError> } | { memory: StoredMemory; changed: boolean };

function applyUpdate(index: number, item: UpdateItem, current: StoredMemory | undefined, now: number, dim: number, vectors: CallVectors, force: boolean): Applied {
  if (!current) return { error: itemError(ErrorCode.NotFound, `no memory with id "${item.id}"`, path(index, 'id')) };
  if (current.immutable && !force) {
    return { error: itemError(ErrorCode.Immutable, `memory ${item.id} is immutable; pass options.force = true to update it`, path(index, 'id')) };
  }
  if (item.expected_version !== undefined && item.expected_version !== current.version) {
    return {
      error: itemError(ErrorCode.VersionConflict, `memory ${item.id} is at version ${current.version}, not ${item.expected_version}; read it again and retry`, path(index, 'expected_version')),
    };
  }

  const next: StoredMemory = { ...current, ...patched(current, item) };
  if (item.content !== undefined) next.content_hash = contentHash(item.content);
  if (item.type !== undefined) next.type = item.type;
  if (item.tags !== undefined) next.tags = item.tags;
  if (item.metadata !== undefined) {
    if (Buffer.byteLength(JSON.stringify(next.metadata)) > LIMITS.metadataBytes) {
      return { error: itemError(ErrorCode.PayloadTooLarge, `metadata after the patch exceeds ${LIMITS.metadataBytes} bytes as JSON`, path(index, 'metadata')) };
    }
  }
  for (const key of ['confidence', 'importance', 'source', 'provenance', 'pinned', 'immutable'] as const) {
    if (item[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = item[key];
  }
  const expires = expiryOf(item, now);
  if (expires !== undefined) {
    if (expires !== null && expires <= now) return { error: itemError(ErrorCode.Validation, 'expires_at must be in the future', path(index, 'expires_at')) };
    next.expires_at = expires;
  }

  if (item.embedding) {
    const v = callerVector(item.embedding, dim, path(index, 'embedding'));
    if (isItemError(v)) return { error: v };
    next.vector = v;
  } else if (embeddingText(next) !== embeddingText(current)) {
    const v = vectors.get(embeddingText(next), path(index, 'content'));
    if (isItemError(v)) return { error: v };
    next.vector = v;
  }

  if (!differs(current, next)) return { memory: current, changed: false };
  next.version = current.version + 1;
  next.updated_at = now;
  return { memory: next, changed: true };
}

type Embedded = Pick<StoredMemory, 'content' | 'title' | 'metadata'>;

/** The texts these updates would need embedded, against the given stored memories. */
function changedTexts(items: ReadonlyArray<{ item: UpdateItem }>, stored: ReadonlyMap<string, Embedded>): string[] {
  return items.flatMap(({ item }) => {
    const old = stored.get(item.id);
    if (!old || item.embedding) return [];
    const text = embeddingText(patched(old, item));
    return text === embeddingText(old) ? [] : [text];
  });
}


/** The content, title and metadata after `item` is applied to `m`. */
function patched(m: Embedded, item: UpdateItem): Embedded {
  return {
    content: item.content ?? m.content,
    title: item.title !== undefined ? item.title : m.title,
    metadata: item.metadata !== undefined ? (mergePatch(m.metadata, item.metadata) as Record<string, unknown>) : m.metadata,
  };
}

const COMPARED = ['content', 'type', 'title', 'confidence', 'importance', 'source', 'provenance', 'pinned', 'immutable', 'expires_at'] as const;

function differs(a: StoredMemory, b: StoredMemory): boolean {
  if (COMPARED.some((k) => a[k] !== b[k])) return true;
  if (!jsonEqual(a.tags, b.tags) || !jsonEqual(a.metadata, b.metadata)) return true;
  return a.vector !== b.vector && !(a.vector && b.vector && a.vector.every((x, i) => x === b.vector![i]));
}
