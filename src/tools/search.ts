import { z } from 'zod';
import { maxRetriesOption } from '../batch/options.js';
import { recordObject } from '../batch/output.js';
import { defineTool, type Outcome } from '../batch/tool.js';
import { DEFAULTS, LIMITS } from '../model.js';
import { sessionIdSchema } from '../scope/ids.js';
import type { SearchFilter } from '../store/filter.js';
import type { SearchHit } from '../store/search.js';
import * as f from './fields.js';
import { CallVectors, callerVector, isItemError } from './vectors.js';

const shortString = f.filterString;

const filterSchema = z
  .object({
    types: z.array(shortString).min(1).max(32).optional().describe('Any of these types'),
    tags_any: z.array(shortString).min(1).max(32).optional().describe('Any of these tags'),
    tags_all: z.array(shortString).min(1).max(32).optional().describe('All of these tags'),
    session_id: sessionIdSchema.optional().describe('Written in this session'),
    source: shortString.optional().describe('With this source'),
    pinned: z.boolean().optional().describe('Pinned or not'),
    created_after: f.timeBound('after').optional().describe('A date: from its start (UTC)'),
    created_before: f.timeBound('before').optional().describe('A date: to its end (UTC)'),
    metadata: z
      .record(z.string().min(1).max(LIMITS.stringChars), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
      .optional()
      .describe('Exact top-level values'),
  })
  .strict();

const boostSchema = z
  .object({
    recency: z.number().min(0).max(10).optional().describe('Half-life 30 days'),
    importance: z.number().min(0).max(10).optional().describe('Weight of importance'),
    pinned: z.number().min(0).max(10).optional().describe('Weight of being pinned'),
  })
  .strict();

/** The fields of a hit, in the order results carry them. */
export const HIT_FIELDS = [
  'id', 'score', 'content', 'type', 'title', 'tags', 'metadata', 'confidence', 'importance', 'pinned', 'immutable',
  'created_at', 'updated_at', 'expires_at', 'session_id', 'version', 'context', 'explain',
] as const;
export type HitField = (typeof HIT_FIELDS)[number];

export const searchItemSchema = z
  .object({
    query: z.string().trim().min(1).max(4096).describe('Words or a question'),
    limit: z.number().int().min(1).max(100).default(10).describe('Most hits to return'),
    mode: z
      .enum(['hybrid', 'vector', 'text'])
      .default('hybrid')
      .describe('hybrid: words + vectors'),
    min_score: z.number().min(0).max(1).default(0).describe('Drop hits below; 0.2 drops those without the query\'s words'),
    scope: z.enum(['agent', 'session']).default('agent').describe('session: this one only'),
    filter: filterSchema.optional().describe('All must hold'),
    context: z.number().int().min(0).max(5).default(0).describe('Session neighbours per hit'),
    boost: boostSchema.optional().describe('Ranking weights'),
    embedding: z.array(z.number()).min(1).max(8192).optional().describe('Your own vector'),
    fields: z
      .array(z.enum(HIT_FIELDS))
      .min(1)
      .max(HIT_FIELDS.length)
      .optional()
      .describe('Text block shows only these'),
    explain: z.boolean().default(false).describe('Say why each hit ranked'),
  })
  .strict();
export type SearchItem = z.infer<typeof searchItemSchema>;

/** A search hit: contract §4's record fields and the score. */
export const hitSchema = z.object({
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
    "Search this agent's memories, 1–{max} queries; hits come best first, `score` 0–1. `filter` narrows, `context` adds " +
    "each hit's session neighbours, `fields` trims the text block. Expired memories never appear.",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  itemsKey: 'queries',
  itemsDescription: 'Queries',
  itemSchema: searchItemSchema,
  options: { max_retries: maxRetriesOption },
  resultShape: {
    total: z.number().int().optional().describe('Number of results returned for this query'),
    results: z.array(recordObject).optional(),
  },

  brief(result, item) {
    const hits = result.results as Hit[] | undefined;
    if (!hits) return result;
    return { ...result, results: hits.map((hit) => (item?.fields ? pick(hit, item.fields) : withoutDefaults(hit))) };
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

type Hit = z.infer<typeof hitSchema>;

/** The values a hit's field holds unless said otherwise (contract §2), which the text block leaves out. */
const HIT_DEFAULTS: Partial<Record<HitField, unknown>> = {
  type: DEFAULTS.type,
  title: null,
  confidence: DEFAULTS.confidence,
  importance: DEFAULTS.importance,
  pinned: false,
  immutable: false,
  expires_at: null,
};

/** Bookkeeping a model rarely needs to use a hit: in the text block only when `fields` asks for it. */
const BOOKKEEPING: ReadonlySet<string> = new Set(['created_at', 'updated_at', 'session_id', 'version']);

/**
 * A hit for the text block: what the memory says (id, score, content, context)
 * and every field that differs from its default; fields that hold their default
 * or null, empty tags and metadata, and the bookkeeping are left out. Ten hits
 * of short memories then cost about 1.2 KB instead of 4.
 */
function withoutDefaults(hit: Hit): Partial<Hit> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(hit)) {
    if (BOOKKEEPING.has(key) || (Object.hasOwn(HIT_DEFAULTS, key) && HIT_DEFAULTS[key as HitField] === value)) continue;
    if ((key === 'tags' && hit.tags.length === 0) || (key === 'metadata' && Object.keys(hit.metadata).length === 0)) continue;
    out[key] = value;
  }
  return out;
}

/** Only the asked fields of a hit, in the order asked (a hit without `context` has none to give). */
function pick(hit: Hit, fields: readonly HitField[]): Partial<Hit> {
  return Object.fromEntries(fields.flatMap((f) => (hit[f] === undefined ? [] : [[f, hit[f]]])));
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const iso = (ms: number) => new Date(ms).toISOString();

function toHit({ memory: m, score, context, explain }: SearchHit): z.infer<typeof hitSchema> {
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
