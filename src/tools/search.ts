import { z } from 'zod';
import { maxRetriesOption } from '../batch/options.js';
import { defineTool, type Outcome } from '../batch/tool.js';
import { LIMITS } from '../model.js';
import { sessionIdSchema } from '../scope/ids.js';
import type { SearchFilter } from '../store/filter.js';
import type { SearchHit } from '../store/search.js';
import * as f from './fields.js';
import { CallVectors, callerVector, isItemError } from './vectors.js';

const isoTime = z.iso.datetime({ offset: true });
const shortString = f.filterString;

const filterSchema = z
  .object({
    types: z.array(shortString).min(1).max(32).optional().describe('Only these memory types'),
    tags_any: z.array(shortString).min(1).max(32).optional().describe('At least one of these tags'),
    tags_all: z.array(shortString).min(1).max(32).optional().describe('All of these tags'),
    session_id: sessionIdSchema.optional().describe('Only memories written in this session (ses_…)'),
    source: shortString.optional().describe('Only memories with this source'),
    pinned: z.boolean().optional().describe('Only pinned (true) or only unpinned (false) memories'),
    created_after: isoTime.optional().describe('Only memories created after this ISO-8601 time'),
    created_before: isoTime.optional().describe('Only memories created before this ISO-8601 time'),
    metadata: z
      .record(z.string().min(1).max(LIMITS.stringChars), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
      .optional()
      .describe('Exact match on top-level metadata keys: {"project": "apollo"}'),
  })
  .strict();

const boostSchema = z
  .object({
    recency: z.number().min(0).max(10).optional().describe('Weight of recency (half-life 30 days)'),
    importance: z.number().min(0).max(10).optional().describe("Weight of the memory's importance"),
    pinned: z.number().min(0).max(10).optional().describe('Weight of being pinned'),
  })
  .strict();

export const searchItemSchema = z
  .object({
    query: z.string().trim().min(1).max(4096).describe('What to look for, in natural language or keywords'),
    limit: z.number().int().min(1).max(100).default(10).describe('Most results to return (1–100, default 10)'),
    mode: z
      .enum(['hybrid', 'vector', 'text'])
      .default('hybrid')
      .describe('hybrid (default): full-text and vector ranked together; text: keywords only; vector: embeddings only'),
    min_score: z.number().min(0).max(1).default(0).describe('Drop results scoring below this (0–1, default 0)'),
    scope: z.enum(['agent', 'session']).default('agent').describe("agent (default): all of this agent's memories; session: only this session's"),
    filter: filterSchema.optional().describe('Narrow the search; all given conditions must hold'),
    context: z.number().int().min(0).max(5).default(0).describe('Also return up to this many neighbouring memories (written just before/after in the same session) around each hit'),
    boost: boostSchema.optional().describe('Optional ranking boosts, off by default: e.g. {"recency": 0.3, "importance": 0.2}'),
    embedding: z.array(z.number()).min(1).max(8192).optional().describe('Your own query vector (the database dimension); then memlane embeds nothing'),
    explain: z.boolean().default(false).describe('true: each hit also says why it ranked (text evidence, vector similarity, neighbour share, boost)'),
  })
  .strict();
export type SearchItem = z.infer<typeof searchItemSchema>;

const hitSchema = z.object({
  id: z.string(),
  score: z.number().describe('0–1, higher is better'),
  content: z.string(),
  type: z.string(),
  title: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  confidence: z.number(),
  importance: z.number(),
  pinned: z.boolean(),
  immutable: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string().nullable(),
  session_id: z.string(),
  version: z.number().int(),
  context: z.array(z.object({ id: z.string(), content: z.string(), created_at: z.string() })).optional(),
  explain: z
    .object({
      text_evidence: z.number().nullable().describe("Text score its own words earn (0–1); null when the mode reads no text"),
      vector_similarity: z.number().nullable().describe('Cosine similarity to the query (0–1); null when the mode reads no vectors'),
      neighbour_share: z.number().describe('Share of its text score lent by other conversation turns of its session (0–1)'),
      boost: z.number().describe("The boost's factor on the score (1: no boost)"),
    })
    .optional()
    .describe('Only with explain: true'),
});

export const searchTool = defineTool<SearchItem, { max_retries: number }>({
  name: 'batch_search',
  title: 'Search memories',
  description:
    "Search this agent's memories with 1–{max} queries in one call; each query returns its best matches, best first, with a score " +
    'in [0, 1]. The default `hybrid` mode combines keyword (full-text) and embedding similarity; use `filter` to narrow by type, ' +
    'tags, session, source, pinned, creation time or exact metadata values, and `context` to also get the memories written just ' +
    'before and after each hit (useful for conversations). Expired memories are never returned.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  itemsKey: 'queries',
  itemsDescription: 'The queries, 1 to {max}',
  itemSchema: searchItemSchema,
  options: { max_retries: maxRetriesOption },
  resultShape: {
    total: z.number().int().optional().describe('Number of results returned for this query'),
    results: z.array(hitSchema).optional(),
  },

  async run(items, ctx) {
    const { searcher, embedder, store } = ctx.services;
    const outcomes = new Map<number, Outcome>();
    const vectors = new CallVectors(embedder, {
      signal: ctx.deadline.signal,
      maxRetries: ctx.options.max_retries,
      deadlineAt: ctx.deadline.at,
      kind: 'query',
      progress: ctx.progress,
    });
    await vectors.ensure(items.filter(({ item }) => item.mode !== 'text' && !item.embedding).map(({ item }) => item.query));
    ctx.progress.advance('embedded', items.length);

    // Queries are independent reads: run a few at once (LanceDB searches on its own threads).
    await forEachLimit(items, QUERY_CONCURRENCY, async ({ index, item }) => {
      ctx.deadline.check(`query ${index}`);
      let vector: Float32Array | undefined;
      if (item.mode !== 'text') {
        const v = item.embedding
          ? callerVector(item.embedding, store.dim, `queries[${index}].embedding`)
          : vectors.get(item.query, `queries[${index}].query`);
        if (isItemError(v)) {
          outcomes.set(index, { status: 'error', error: v });
          return;
        }
        vector = v;
      }
      const filter: SearchFilter = { ...item.filter };
      if (item.scope === 'session') {
        // A session-scoped query naming another session matches nothing.
        if (filter.session_id !== undefined && filter.session_id !== ctx.scope.session_id) {
          outcomes.set(index, { status: 'ok', action: 'searched', extra: { total: 0, results: [] } });
          return;
        }
        filter.session_id = ctx.scope.session_id;
      }
      const hits = await searcher.search({
        namespace: ctx.scope.namespace,
        now: ctx.now,
        query: item.query,
        ...(vector && { vector }),
        mode: item.mode,
        limit: item.limit,
        minScore: item.min_score,
        filter,
        context: item.context,
        ...(item.boost && { boost: item.boost }),
        ...(item.explain && { explain: true }),
      });
      outcomes.set(index, { status: 'ok', action: 'searched', extra: { total: hits.length, results: hits.map(toHit) } });
      ctx.progress.advance('searched', 1);
    });
    return outcomes;
  },
});

const QUERY_CONCURRENCY = 4;

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const iso = (ms: number) => new Date(ms).toISOString();

function toHit({ memory: m, score, context, explain }: SearchHit) {
  return {
    id: m.id,
    score,
    content: m.content,
    type: m.type,
    title: m.title,
    tags: m.tags,
    metadata: m.metadata,
    confidence: m.confidence,
    importance: m.importance,
    pinned: m.pinned,
    immutable: m.immutable,
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
    expires_at: m.expires_at === null ? null : iso(m.expires_at),
    session_id: m.session_id,
    version: m.version,
    ...(context && { context: context.map((n) => ({ id: n.id, content: n.content, created_at: iso(n.created_at) })) }),
    ...(explain && { explain }),
  };
}
