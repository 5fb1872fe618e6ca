import { z } from 'zod';
import { maxRetriesOption } from '../batch/options.js';
import { defineTool, type Outcome } from '../batch/tool.js';
import { ErrorCode, itemError } from '../errors.js';
import { DEFAULTS, type StoredMemory } from '../model.js';
import { newMemoryId } from '../scope/ids.js';
import { contentHash, embeddingText } from '../store/text.js';
import * as f from './fields.js';
import { CallVectors, callerVector, isItemError } from './vectors.js';

export const rememberItemSchema = z
  .object({
    id: f.memoryId.optional().describe('Yours makes it an upsert'),
    content: f.content,
    type: f.type.default(DEFAULTS.type),
    title: f.title.optional(),
    tags: f.tags.default([]),
    metadata: f.metadata.default({}),
    confidence: f.confidence.default(DEFAULTS.confidence),
    importance: f.importance.default(DEFAULTS.importance),
    source: f.source.default(DEFAULTS.source),
    provenance: f.provenance.default(DEFAULTS.provenance),
    pinned: f.pinned.default(false),
    immutable: f.immutable.default(false),
    expires_at: f.expiresAt.optional(),
    ttl_seconds: f.ttlSeconds.optional(),
    embedding: f.embedding.optional(),
  })
  .strict()
  .refine((m) => m.expires_at === undefined || m.expires_at === null || m.ttl_seconds === undefined, {
    message: 'give expires_at or ttl_seconds, not both',
    path: ['ttl_seconds'],
  });
export type RememberItem = z.infer<typeof rememberItemSchema>;

const path = (index: number, field?: string) => `memories[${index}]${field ? `.${field}` : ''}`;

export const rememberTool = defineTool<RememberItem, { dedupe: boolean; max_retries: number }>({
  name: 'batch_remember',
  title: 'Remember memories',
  description:
    'Store 1–{max} memories (facts, preferences, events, instructions); only `content` is required. Content already ' +
    'stored is not stored twice (action "deduplicated", the existing id). Your own `id` makes retries safe (an upsert).',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  itemsKey: 'memories',
  itemsDescription: 'Memories to store',
  itemSchema: rememberItemSchema,
  options: {
    dedupe: z.boolean().default(true).describe('false: store duplicates too'),
    max_retries: maxRetriesOption,
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

    // Checks that need no database: the caller's vector and the expiry time.
    const ready = items.flatMap(({ index, item }) => {
      const expires = expiryOf(item, now);
      if (expires !== undefined && expires !== null && expires <= now) {
        outcomes.set(index, { status: 'error', error: itemError(ErrorCode.Validation, 'expires_at must be in the future', path(index, 'expires_at')) });
        return [];
      }
      let vector: Float32Array | undefined;
      if (item.embedding) {
        const v = callerVector(item.embedding, store.dim, path(index, 'embedding'));
        if (isItemError(v)) {
          outcomes.set(index, { status: 'error', error: v });
          return [];
        }
        vector = v;
      }
      // The vector sees what the full-text index sees (title, content, short metadata strings):
      // a date or place in the metadata is often what a question asks by.
      const text = embeddingText({ content: item.content, title: item.title ?? null, metadata: item.metadata });
      return [{ index, item, hash: contentHash(item.content), text, expires: expires ?? null, vector }];
    });

    // Embed outside the write lock (it is the slow part), skipping content that is already stored.
    const known = ctx.options.dedupe ? await store.idsByContentHash(scope.namespace, ready.map((r) => r.hash), now) : new Map();
    await vectors.ensure(ready.filter((r) => !r.vector && (r.item.id !== undefined || !known.has(r.hash))).map((r) => r.text));
    ctx.progress.advance('embedded', ready.length);
    ctx.deadline.check('writing');

    return store.exclusive(async () => {
      // Decide against the latest committed state: another process may have written meanwhile.
      const clientIds = ready.flatMap((r) => (r.item.id === undefined ? [] : [r.item.id]));
      const existing = await store.getMany(scope.namespace, clientIds, now, { withVector: true });
      const byHash = ctx.options.dedupe ? await store.idsByContentHash(scope.namespace, ready.map((r) => r.hash), now) : new Map<string, string>();
      // Normalised content → the memory holding it once this call's earlier items are written,
      // so content stored "earlier in this call" dedupes too, and an upsert that replaces a
      // memory's content no longer claims the old one.
      const holder = new Map(byHash);
      let ord = await store.nextOrd(scope.namespace, scope.session_id);

      const writes = new Map<number, StoredMemory>();
      for (const { index, item, hash, text, expires, vector: given } of ready) {
        const current = item.id === undefined ? undefined : existing.get(item.id);
        if (current?.immutable) {
          outcomes.set(index, { status: 'error', id: current.id, error: itemError(ErrorCode.Immutable, `memory ${current.id} is immutable and cannot be replaced`, path(index, 'id')) });
          continue;
        }
        if (!current && ctx.options.dedupe) {
          const same = holder.get(hash);
          if (same !== undefined) {
            outcomes.set(index, { status: 'ok', id: same, action: 'deduplicated', reason: `same content as memory ${same}` });
            continue;
          }
        }
        const sameText = current && embeddingText(current) === text;
        let vector = given ?? (sameText ? current.vector : undefined);
        if (!vector) {
          // Normally embedded before the lock; content that stopped being a duplicate since then is embedded now.
          await vectors.ensure([text]);
          const v = vectors.get(text, path(index, 'content'));
          if (isItemError(v)) {
            outcomes.set(index, { status: 'error', ...(item.id !== undefined && { id: item.id }), error: v });
            continue;
          }
          vector = v;
        }
        const memory: StoredMemory = {
          id: current?.id ?? item.id ?? newMemoryId(),
          namespace: scope.namespace,
          agent_id: scope.agent_id,
          session_id: current?.session_id ?? scope.session_id,
          ord: current?.ord ?? ord++,
          content: item.content,
          content_hash: hash,
          type: item.type,
          title: item.title ?? null,
          tags: item.tags,
          metadata: item.metadata,
          confidence: item.confidence,
          importance: item.importance,
          source: item.source,
          provenance: item.provenance,
          pinned: item.pinned,
          immutable: item.immutable,
          expires_at: expires,
          created_at: current?.created_at ?? now,
          updated_at: now,
          version: current ? current.version + 1 : 1,
          vector,
        };
        writes.set(index, memory);
        if (current && current.content_hash !== hash && holder.get(current.content_hash) === current.id) holder.delete(current.content_hash);
        if (!holder.has(hash)) holder.set(hash, memory.id);
        outcomes.set(index, { status: 'ok', id: memory.id, action: current ? 'updated' : 'created', extra: { version: memory.version } });
      }

      const writable = ctx.settle(outcomes);
      ctx.deadline.check('commit');
      await store.upsert([...writable].flatMap((i) => writes.get(i) ?? []));
      ctx.progress.advance('written', writable.size);
      return outcomes;
    }, { deadlineAt: ctx.deadline.at, embeds: true });
  },
});

/** expires_at (ISO or null) or ttl_seconds → epoch ms, null (never), or undefined (not given). */
export function expiryOf(item: { expires_at?: string | null | undefined; ttl_seconds?: number | undefined }, now: number): number | null | undefined {
  if (item.ttl_seconds !== undefined) return now + item.ttl_seconds * 1000;
  if (item.expires_at === undefined) return undefined;
  return item.expires_at === null ? null : Date.parse(item.expires_at);
}
