import OpenAI from 'openai';
import { EmbeddingError, l2normalize } from './embedder.js';
import type { Embedder, EmbedOptions } from './embedder.js';

export interface OpenAIEmbedderOptions {
  /** Falls back to OPENAI_API_KEY; local servers get a dummy (the SDK insists on one). */
  apiKey?: string;
  /** Falls back to OPENAI_BASE_URL, then api.openai.com. Must end in `/v1` for most servers. */
  baseURL?: string;
  /** e.g. 'text-embedding-3-small' (the caller picks the default). */
  model: string;
  /**
   * Vector dimension. Given explicitly, it is also requested from
   * text-embedding-3 models via `dimensions`; omitted, it comes from the
   * table of known models or (in `create`) from one probe request.
   */
  dim?: number;
  /** Per-attempt HTTP timeout; the SDK's own default is 10 minutes. */
  timeoutMs?: number;
  /** Inputs per request; OpenAI accepts at most 2048. */
  chunkSize?: number;
  /** SDK retries on 408/409/429/5xx/timeouts/connection errors. */
  maxRetries?: number;
}

/** Native dimensions of OpenAI's own models, so start-up needs no request. */
const KNOWN_DIMS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CHUNK_SIZE = 256;
const MAX_CHUNK_SIZE = 2048;
const DEFAULT_MAX_RETRIES = 2;
/** Chunks in flight at once: enough to hide latency, few enough to avoid 429 storms. */
const CHUNK_CONCURRENCY = 2;
/** Local servers (Ollama, LM Studio, vLLM) ignore the key, but the SDK refuses to start without one. */
const DUMMY_API_KEY = 'memlane-no-key';
const PROBE_TEXT = 'memlane dimension probe';

export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai';
  readonly model: string;
  readonly dim: number;

  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly chunkSize: number;
  private readonly maxRetries: number;
  /**
   * Whether to send `dimensions`. Only when the caller chose `dim` AND the
   * model is a text-embedding-3 model: those shorten vectors on request,
   * while ada-002 and most local models reject the parameter with a 400.
   * For any other model an explicit `dim` is only an expectation, checked
   * against every response.
   */
  private readonly sendDimensions: boolean;

  /**
   * Needs a known dimension: `opts.dim` or a model in the known table. For
   * any other model use `OpenAIEmbedder.create`, which probes the endpoint.
   * `probedDim` is for `create` only.
   */
  constructor(opts: OpenAIEmbedderOptions, probedDim?: number) {
    this.model = opts.model;
    this.dim = resolveDim(opts, probedDim);
    this.sendDimensions = opts.dim !== undefined && isTextEmbedding3(opts.model);
    this.timeoutMs = positiveInt('timeoutMs', opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.chunkSize = Math.min(positiveInt('chunkSize', opts.chunkSize ?? DEFAULT_CHUNK_SIZE), MAX_CHUNK_SIZE);
    this.maxRetries = retryCount(opts.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.apiKey = resolveApiKey(opts);
    this.client = new OpenAI({
      apiKey: this.apiKey,
      ...(opts.baseURL !== undefined && { baseURL: opts.baseURL }),
      timeout: this.timeoutMs,
      maxRetries: this.maxRetries,
      // The SDK's default logger prints info/debug to stdout, which belongs to MCP.
      logger: stderrLogger,
    });
  }

  /**
   * Builds an embedder whose dimension is known before the database is
   * opened: explicit `dim`, else the known-model table, else one probe
   * request with a short input.
   */
  static async create(opts: OpenAIEmbedderOptions): Promise<OpenAIEmbedder> {
    if (opts.dim !== undefined || KNOWN_DIMS[opts.model] !== undefined) return new OpenAIEmbedder(opts);
    // Any positive placeholder lets the probe reuse the request path; its
    // result is not validated against it.
    const prober = new OpenAIEmbedder(opts, 1);
    const dim = await prober.probeDim();
    return new OpenAIEmbedder(opts, dim);
  }

  async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const { unique, slots } = dedupe(texts);
    const vectors = await this.embedUnique(unique, opts);
    // Fan out: duplicates get their own copy so callers may mutate freely.
    const used = new Set<number>();
    return slots.map((u) => {
      const v = vectors[u]!;
      if (used.has(u)) return new Float32Array(v);
      used.add(u);
      return v;
    });
  }

  private async embedUnique(unique: string[], opts: EmbedOptions): Promise<Float32Array[]> {
    const chunks = chunk(unique, this.chunkSize);
    const out: Float32Array[][] = new Array(chunks.length);
    // One chunk failing aborts the rest: the whole call fails anyway.
    // (Linked by hand: AbortSignal.any needs Node 20.3.)
    const stop = new AbortController();
    const signal = stop.signal;
    const forward = (): void => stop.abort(opts.signal?.reason);
    if (opts.signal?.aborted) forward();
    else opts.signal?.addEventListener('abort', forward, { once: true });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const i = next++;
        out[i] = await this.embedChunk(chunks[i]!, opts.maxRetries, signal);
      }
    };
    const workers = Array.from({ length: Math.min(CHUNK_CONCURRENCY, chunks.length) }, worker);
    try {
      await Promise.all(
        workers.map((w) =>
          w.catch((err: unknown) => {
            stop.abort(new Error('another chunk failed'));
            throw err;
          }),
        ),
      );
    } catch (err) {
      // The first failure is the cause; siblings only fail because of it.
      // Waiting for them means no request outlives the call.
      await Promise.allSettled(workers);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', forward);
    }
    return out.flat();
  }

  private async embedChunk(inputs: string[], maxRetries: number | undefined, signal: AbortSignal): Promise<Float32Array[]> {
    const raw = await this.request(inputs, maxRetries, signal);
    return validate(raw, inputs.length, this.dim, this.model);
  }

  /** One SDK call (with the SDK's own retries) for one chunk. */
  private async request(inputs: string[], maxRetries: number | undefined, signal: AbortSignal): Promise<unknown> {
    const retries = retryCount(maxRetries ?? this.maxRetries);
    const call = this.client.embeddings.create(
      {
        model: this.model,
        input: inputs,
        // Without this the SDK asks for base64 and, when a local server
        // answers with floats anyway, silently yields empty vectors.
        encoding_format: 'float',
        ...(this.sendDimensions && { dimensions: this.dim }),
      },
      { timeout: this.timeoutMs, maxRetries: retries, signal },
    );
    try {
      return (await raceAbort(call, signal)).data;
    } catch (err) {
      throw this.toEmbeddingError(err, retries, signal);
    }
  }

  private async probeDim(): Promise<number> {
    const data = await this.request([PROBE_TEXT], undefined, new AbortController().signal);
    const first = Array.isArray(data) ? (data[0] as { embedding?: unknown } | undefined) : undefined;
    const emb = first?.embedding;
    if (!Array.isArray(emb) || emb.length === 0) {
      throw new EmbeddingError(`embedding endpoint returned no usable vector when probing the dimension of model ${this.model}`);
    }
    return emb.length;
  }

  private toEmbeddingError(err: unknown, retries: number, signal: AbortSignal): EmbeddingError {
    if (err instanceof EmbeddingError) return err;
    if (signal.aborted || err instanceof OpenAI.APIUserAbortError) {
      return new EmbeddingError(`openai embeddings aborted: ${this.redact(describeReason(signal.reason))}`, { cause: err });
    }
    const attempts = isRetryable(err) ? retries + 1 : 1;
    const detail = this.redact(describeError(err, this.timeoutMs));
    return new EmbeddingError(
      `openai embeddings failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${detail}`,
      { cause: err },
    );
  }

  /** Providers sometimes echo (part of) the key in 401 messages. */
  private redact(text: string): string {
    return this.apiKey.length >= 8 ? text.split(this.apiKey).join('***') : text;
  }
}

function resolveDim(opts: OpenAIEmbedderOptions, probedDim: number | undefined): number {
  const dim = opts.dim ?? probedDim ?? KNOWN_DIMS[opts.model];
  if (dim === undefined) {
    throw new EmbeddingError(
      `dimension of embedding model ${opts.model} is unknown: set MEMLANE_EMBED_DIM or use OpenAIEmbedder.create() to probe it`,
    );
  }
  return positiveInt('dim', dim);
}

function resolveApiKey(opts: OpenAIEmbedderOptions): string {
  const key = opts.apiKey || process.env['OPENAI_API_KEY'];
  if (key) return key;
  if (opts.baseURL || process.env['OPENAI_BASE_URL']) return DUMMY_API_KEY;
  throw new EmbeddingError(
    'OPENAI_API_KEY is not set (for a local OpenAI-compatible server such as Ollama, set OPENAI_BASE_URL instead)',
  );
}

function isTextEmbedding3(model: string): boolean {
  return /(^|\/)text-embedding-3-/.test(model);
}

function positiveInt(name: string, n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new EmbeddingError(`${name} must be a positive integer, got ${n}`);
  return n;
}

function retryCount(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new EmbeddingError(`maxRetries must be a non-negative integer, got ${n}`);
  return n;
}

/** Unique texts in first-seen order, and for each input the index of its unique text. */
function dedupe(texts: readonly string[]): { unique: string[]; slots: number[] } {
  const index = new Map<string, number>();
  const unique: string[] = [];
  const slots = texts.map((t) => {
    let u = index.get(t);
    if (u === undefined) {
      u = unique.push(t) - 1;
      index.set(t, u);
    }
    return u;
  });
  return { unique, slots };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Checks the response shape and converts it. Items are placed by their
 * `index` field when every item has a valid distinct one (some servers
 * reorder), else by position.
 */
function validate(data: unknown, count: number, dim: number, model: string): Float32Array[] {
  if (!Array.isArray(data)) throw new EmbeddingError('embedding endpoint returned no data array');
  if (data.length !== count) {
    throw new EmbeddingError(`embedding endpoint returned ${data.length} embeddings for ${count} inputs`);
  }
  const items = data as Array<{ index?: unknown; embedding?: unknown }>;
  const order = byIndex(items) ?? items;
  return order.map((item, i) => toVector(item.embedding, i, dim, model));
}

function byIndex<T extends { index?: unknown }>(items: T[]): T[] | undefined {
  const out: T[] = new Array(items.length);
  for (const item of items) {
    const i = item.index;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= items.length || out[i] !== undefined) {
      return undefined;
    }
    out[i] = item;
  }
  return out;
}

function toVector(emb: unknown, i: number, dim: number, model: string): Float32Array {
  if (!Array.isArray(emb)) {
    // A base64 string here means the server ignored encoding_format: 'float'.
    throw new EmbeddingError(`embedding endpoint returned a ${typeof emb} instead of a float array for input ${i}`);
  }
  if (emb.length !== dim) {
    throw new EmbeddingError(
      `embedding endpoint returned ${emb.length} dimensions, expected ${dim} (model ${model}; ` +
        'set MEMLANE_EMBED_DIM to match the model, or re-embed with `memlane reembed`)',
    );
  }
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const x: unknown = emb[j];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new EmbeddingError(`embedding endpoint returned a non-finite value at dimension ${j} of input ${i}`);
    }
    v[j] = x;
  }
  return l2normalize(v);
}

/**
 * The SDK checks the signal only between attempts and sleeps through
 * retry-after delays, so settle as soon as the caller aborts. The SDK's own
 * promise is left to fail at its next check; its rejection is swallowed.
 */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new OpenAI.APIUserAbortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(new OpenAI.APIUserAbortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Mirrors the SDK's retry rule, to report how many attempts were made. */
function isRetryable(err: unknown): boolean {
  if (err instanceof OpenAI.APIConnectionError) return true; // includes timeouts
  if (!(err instanceof OpenAI.APIError)) return false;
  const header = err.headers?.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  const s = err.status;
  return s === 408 || s === 409 || s === 429 || (s !== undefined && s >= 500);
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return `request timed out after ${timeoutMs} ms`;
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  // APIError messages already read "<status> <provider message>".
  return err instanceof Error ? err.message : String(err);
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'request was aborted' : String(reason);
}

const writeLog = (level: string) => (message: string, ...rest: unknown[]): void => {
  const extra = rest.length ? ' ' + rest.map((r) => safeJson(r)).join(' ') : '';
  process.stderr.write(`[memlane openai ${level}] ${message}${extra}\n`);
};

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

const stderrLogger = {
  error: writeLog('error'),
  warn: writeLog('warn'),
  info: writeLog('info'),
  debug: writeLog('debug'),
};
