import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { EmbeddingError } from '../embed/embedder.js';
import { CallError, ErrorCode, ReadOnlyError, StorageError, TimeoutError, itemError, type ItemError } from '../errors.js';
import { log } from '../log.js';
import { CallTimer, timed, timedSync, withTimer } from '../timing.js';
import { LIMITS } from '../model.js';
import { agentIdSchema, newBatchId } from '../scope/ids.js';
import { resolveScope, type ScopeSources } from '../scope/resolve.js';
import type { Scope, Sessions } from '../scope/sessions.js';
import { Deadline } from './deadline.js';
import { issuesToError, jsonPath } from './issues.js';
import { advertisedJsonSchema } from './json-schema.js';
import { commonOptions, type CommonOptions } from './options.js';
import { batchOutputSchema } from './output.js';
import { applyPolicy, type Outcome, type Result } from './policy.js';
import { CallProgress, type ProgressSink } from './progress.js';
import { recordCall } from './recent.js';
import type { BatchTool, Indexed, Services } from './tool.js';

/** What the server hands the runner for every call. */
export interface CallEnv {
  services: Services;
  sessions: Sessions;
  /** Token sources the transport knows of (bearer header, env token, open default). */
  sources: ScopeSources;
  maxBatch: number;
  /** Set when the request asked for progress (`_meta.progressToken`). */
  progress?: ProgressSink;
  /** A read replica (MEMLANE_READ_ONLY=1): write tools fail as a whole call. */
  readOnly?: boolean;
}

const sessionTokenField = z
  .string()
  .max(256)
  .describe('mlt_… (stdio: optional)');
const agentIdField = agentIdSchema.describe("The token's agent");

function optionsSchema(tool: BatchTool) {
  return z.object({ ...commonOptions, ...tool.options }).strict().describe('Call options');
}

/** The exact input schema a tool advertises: every field, bound, default and description. */
export function advertisedInputSchema(tool: BatchTool, maxBatch: number) {
  return z
    .object({
      [tool.itemsKey]: z.array(tool.itemSchema).min(1).max(maxBatch).describe(withMax(tool.itemsDescription, maxBatch)),
      agent_id: agentIdField.optional(),
      session_token: sessionTokenField.optional(),
      options: optionsSchema(tool).optional(),
    })
    .strict();
}

/** The `tools/list` entry of a batch tool. */
export function toolListing(tool: BatchTool, maxBatch: number): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: withMax(tool.description, maxBatch),
    inputSchema: advertisedJsonSchema(advertisedInputSchema(tool, maxBatch), 'input') as Tool['inputSchema'],
    outputSchema: advertisedJsonSchema(batchOutputSchema(tool.resultShape), 'output') as Tool['outputSchema'],
    annotations: { title: tool.title, ...tool.annotations },
  };
}

const withMax = (text: string, maxBatch: number): string => text.replaceAll('{max}', String(maxBatch));

/**
 * Runs one call of a batch tool: envelope, scope, per-item validation,
 * duplicate ids, the tool's own work, the options' policy, and the output of
 * contract §3. Whole-call problems become `isError: true` with nothing written.
 */
export async function runBatch(tool: BatchTool, args: unknown, env: CallEnv): Promise<CallToolResult> {
  const started = performance.now();
  const timer = new CallTimer();
  let items = 0;
  try {
    const result = await withTimer(timer, async () => {
      const envelope = timedSync('envelope', () => parseEnvelope(tool, args, env.maxBatch));
      items = envelope.items.length;
      if (env.readOnly && !tool.annotations.readOnlyHint) {
        throw new CallError(ErrorCode.ReadOnly, `${tool.name} writes, and this memlane is a read replica (MEMLANE_READ_ONLY=1): it answers batch_search and batch_get; send writes to a writer`);
      }
      // Independent: what other processes changed (one version check), and who is calling.
      const [, scope] = await timed('scope', () =>
        Promise.all([
          catchUp(env.services),
          resolveScope(env.sessions, env.sources, {
            ...(envelope.session_token !== undefined && { sessionToken: envelope.session_token }),
            ...(envelope.agent_id !== undefined && { agentId: envelope.agent_id }),
          }),
        ]),
      );
      const options = envelope.options;
      const batchId = options.batch_id ?? newBatchId();
      const progress = new CallProgress(env.progress, envelope.items.length);
      const { results, items: parsed } = await runItems(tool, envelope.items, scope, options, env.services, progress);
      await progress.finish();
      return timedSync('respond', () => respond(tool, scope, batchId, options.validate_only, results, parsed, started));
    });
    if (log.enabled('debug')) log.debug(`${tool.name} ${items} items: ${timer.summary()}`);
    recordCall(tool.name, performance.now() - started);
    return result;
  } catch (err) {
    if (err instanceof CallError) return callFailure(err);
    log.error(`${tool.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return callFailure(new CallError(ErrorCode.Internal, `internal error: ${err instanceof Error ? err.message : String(err)}`));
  }
}

/** Another process may have changed the database since the last call (reembed, revocations): see it first. */
async function catchUp(services: Services): Promise<void> {
  try {
    await services.store.refresh();
  } catch (err) {
    if (err instanceof StorageError) throw new CallError(ErrorCode.StorageError, err.message);
    throw err;
  }
}

const envelopes = new WeakMap<BatchTool, z.ZodType>();

/** The envelope a call is parsed with, built once per tool (building a zod schema costs more than using it). */
function envelopeSchema(tool: BatchTool): z.ZodType {
  let schema = envelopes.get(tool);
  if (!schema) {
    schema = z
      .object({
        [tool.itemsKey]: z.array(z.unknown()),
        agent_id: agentIdField.optional(),
        session_token: sessionTokenField.optional(),
        options: optionsSchema(tool).prefault({}),
      })
      .strict();
    envelopes.set(tool, schema);
  }
  return schema;
}

interface Envelope {
  items: unknown[];
  agent_id?: string;
  session_token?: string;
  options: CommonOptions & Record<string, unknown>;
}

function parseEnvelope(tool: BatchTool, args: unknown, maxBatch: number): Envelope {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new CallError(ErrorCode.Validation, 'arguments must be a JSON object');
  }
  const items = (args as Record<string, unknown>)[tool.itemsKey];
  if (items === undefined) {
    throw new CallError(ErrorCode.Validation, `"${tool.itemsKey}" is required: ${withMax(tool.itemsDescription, maxBatch)}`, tool.itemsKey);
  }
  if (!Array.isArray(items)) throw new CallError(ErrorCode.Validation, `"${tool.itemsKey}" must be an array`, tool.itemsKey);
  if (items.length === 0) throw new CallError(ErrorCode.Validation, `"${tool.itemsKey}" must hold at least one item`, tool.itemsKey);
  if (items.length > maxBatch) {
    throw new CallError(
      ErrorCode.BatchTooLarge,
      `"${tool.itemsKey}" has ${items.length} items; at most ${maxBatch} per call (MEMLANE_MAX_BATCH). Split the batch.`,
      tool.itemsKey,
    );
  }
  const parsed = envelopeSchema(tool).safeParse(args);
  if (!parsed.success) {
    const e = issuesToError(parsed.error.issues, []);
    throw new CallError(e.code, e.message, e.field);
  }
  const data = parsed.data as Record<string, unknown>;
  return {
    items,
    ...(data.agent_id !== undefined && { agent_id: data.agent_id as string }),
    ...(data.session_token !== undefined && { session_token: data.session_token as string }),
    options: data.options as Envelope['options'],
  };
}

async function runItems(
  tool: BatchTool,
  rawItems: unknown[],
  scope: Scope,
  options: Envelope['options'],
  services: Services,
  progress: CallProgress,
): Promise<{ results: Result[]; items: Map<number, unknown> }> {
  const valid: Indexed<unknown>[] = [];
  const results = await settleItems(tool, rawItems, scope, options, services, progress, valid);
  return { results, items: new Map(valid.map(({ index, item }) => [index, item])) };
}

async function settleItems(
  tool: BatchTool,
  rawItems: unknown[],
  scope: Scope,
  options: Envelope['options'],
  services: Services,
  progress: CallProgress,
  valid: Indexed<unknown>[],
): Promise<Result[]> {
  const outcomes = new Map<number, Outcome>();
  const seenIds = new Map<string, number>();

  timedSync('validate', () => rawItems.forEach((raw, index) => {
    const deep = tooDeep(raw, [tool.itemsKey, index]);
    if (deep !== undefined) {
      // Checked before anything walks the value recursively (zod, JSON.stringify, our own checks).
      outcomes.set(index, { status: 'error', error: itemError(ErrorCode.Validation, `${deep} nests more than ${LIMITS.nestingDepth} levels deep`, deep) });
      return;
    }
    const proto = protoKeyPath(raw, [tool.itemsKey, index]);
    if (proto !== undefined) {
      // zod (like any plain assignment) would turn this key into the object's
      // prototype and silently drop it; refuse it instead.
      outcomes.set(index, { status: 'error', error: itemError(ErrorCode.Validation, '"__proto__" is not allowed as a key', proto) });
      return;
    }
    const parsed = tool.itemSchema.safeParse(raw);
    if (!parsed.success) {
      outcomes.set(index, { status: 'error', error: issuesToError(parsed.error.issues, [tool.itemsKey, index]) });
      return;
    }
    const id = tool.idOf?.(parsed.data);
    if (id !== undefined) {
      const first = seenIds.get(id);
      if (first !== undefined) {
        outcomes.set(index, {
          status: 'error',
          id,
          error: itemError(ErrorCode.DuplicateId, `id "${id}" already appears at index ${first} of this call; only the first runs`, jsonPath([tool.itemsKey, index])),
        });
        return;
      }
      seenIds.set(id, index);
    }
    valid.push({ index, item: parsed.data });
  }));
  progress.advance('validated', rawItems.length);

  const policy = { continue_on_error: options.continue_on_error, atomic: options.atomic, validate_only: options.validate_only };
  const dense = (from: ReadonlyMap<number, Outcome>): Outcome[] =>
    rawItems.map((_, i) => outcomes.get(i) ?? from.get(i) ?? { status: 'error', error: itemError(ErrorCode.Internal, 'item produced no outcome') });

  let settled: { results: Result[]; writable: Set<number> } | undefined;
  const deadline = new Deadline(options.timeout_ms);
  try {
    const run = () =>
      tool.run(valid, {
            scope,
            options,
            services,
            now: Date.now(),
            deadline,
            progress,
            settle: (planned) => {
              settled = applyPolicy(dense(planned), policy);
              return settled.writable;
            },
          });
    // A read can be abandoned at its deadline; a write stops only at its safe points (never mid-commit).
    const produced = valid.length === 0 ? new Map<number, Outcome>() : tool.annotations.readOnlyHint ? await deadline.race(run()) : await run();
    return settled?.results ?? applyPolicy(dense(produced), policy).results;
  } catch (err) {
    const failure = failureOf(err);
    // Nothing of the call was committed: every item that was going to be written
    // (or, before the tool settled, every valid item) reports why instead.
    if (settled) {
      const { writable } = settled;
      // A creation that was not committed names no id (it was never written).
      return settled.results.map((r) =>
        writable.has(r.index) ? { index: r.index, ...(r.id !== undefined && r.action !== 'created' && { id: r.id }), status: 'error', error: failure } : r,
      );
    }
    const failed = new Map(valid.map(({ index }) => [index, { status: 'error', error: failure } as Outcome]));
    return applyPolicy(dense(failed), { ...policy, validate_only: false }).results;
  } finally {
    deadline.dispose();
  }
}

/**
 * The JSON path of the item's field whose value nests deeper than
 * LIMITS.nestingDepth (an object or array is one level), if any. Iterative:
 * a 5,000-level value must not overflow the stack while being measured.
 */
function tooDeep(item: unknown, path: PropertyKey[]): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  for (const [key, value] of Object.entries(item)) {
    const stack: Array<[unknown, number]> = [[value, 1]];
    while (stack.length > 0) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > LIMITS.nestingDepth) return jsonPath([...path, Array.isArray(item) ? Number(key) : key]);
      for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** The JSON path of the first own `__proto__` key inside `value`, if any. */
function protoKeyPath(value: unknown, path: PropertyKey[]): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return jsonPath([...path, '__proto__']);
  for (const [key, child] of Object.entries(value)) {
    const found = protoKeyPath(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Infrastructure failures of a whole run → the item error every pending item reports. */
function failureOf(err: unknown): ItemError {
  if (err instanceof TimeoutError) return itemError(ErrorCode.Timeout, `${err.message}; nothing was written`);
  if (err instanceof EmbeddingError) return itemError(ErrorCode.EmbeddingFailed, `${err.message}; nothing was written`);
  if (err instanceof StorageError) return itemError(ErrorCode.StorageError, `${err.message}; nothing was written`);
  if (err instanceof ReadOnlyError) return itemError(ErrorCode.ReadOnly, `${err.message}; nothing was written`);
  log.error(`unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return itemError(ErrorCode.Internal, `internal error: ${err instanceof Error ? err.message : String(err)}; nothing was written`);
}

function respond(
  tool: BatchTool,
  scope: Scope,
  batchId: string,
  validateOnly: boolean,
  results: Result[],
  items: ReadonlyMap<number, unknown>,
  started: number,
): CallToolResult {
  const count = (s: Result['status']) => results.filter((r) => r.status === s).length;
  const structured = {
    batch_id: batchId,
    agent_id: scope.agent_id,
    namespace: scope.namespace,
    session_id: scope.session_id,
    total: results.length,
    succeeded: count('ok'),
    failed: count('error'),
    skipped: count('skipped'),
    execution_ms: Math.round((performance.now() - started) * 100) / 100,
    validate_only: validateOnly,
    results,
  };
  return {
    content: [{ type: 'text', text: `${summaryLine(structured, results)}\n${JSON.stringify(textObject(tool, structured, items))}` }],
    structuredContent: structured,
  };
}

/**
 * What the text block shows (clients that give the model only `content` pay
 * for every byte of it): structuredContent without what holds its default or
 * can be derived — `namespace` (always `agent:` + agent_id), `failed` and
 * `skipped` when 0, `validate_only` when false — and each result as the tool
 * briefs it (search hits without their default fields, or only `fields`).
 * structuredContent itself stays complete.
 */
function textObject(tool: BatchTool, s: Record<string, unknown> & { results: Result[] }, items: ReadonlyMap<number, unknown>) {
  const { namespace: _namespace, failed, skipped, validate_only, results, ...rest } = s;
  return {
    ...rest,
    ...(failed !== 0 && { failed }),
    ...(skipped !== 0 && { skipped }),
    ...(validate_only !== false && { validate_only }),
    results: tool.brief ? results.map((r) => (r.status === 'ok' ? tool.brief!(r, items.get(r.index)) : r)) : results,
  };
}

/** `3 ok, 1 error (NOT_FOUND) in 12 ms` — what a model reading only `content` sees first. */
export function summaryLine(s: { succeeded: number; failed: number; skipped: number; execution_ms: number }, results: Result[]): string {
  const parts = [`${s.succeeded} ok`];
  if (s.failed > 0) {
    const codes = [...new Set(results.flatMap((r) => (r.error ? [r.error.code] : [])))].join(', ');
    parts.push(`${s.failed} error${s.failed === 1 ? '' : 's'} (${codes})`);
  }
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  return `${parts.join(', ')} in ${Math.round(s.execution_ms)} ms`;
}

function callFailure(err: CallError): CallToolResult {
  const where = err.field ? ` (field: ${err.field})` : '';
  return { isError: true, content: [{ type: 'text', text: `${err.code}: ${err.message}${where}` }] };
}
