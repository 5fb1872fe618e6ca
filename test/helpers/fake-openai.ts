/**
 * A loopback server speaking the OpenAI embeddings wire format, so the
 * OpenAI embedder is tested against real HTTP (SDK retries, timeouts,
 * headers) without a network or a key.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer, consumed by one HTTP request (one SDK attempt). */
export interface FakeScript {
  /** Answer with this error status and an OpenAI-style error body. */
  status?: number;
  /** Error message in the body; defaults by status (429 → 'Rate limit exceeded'). */
  message?: string;
  /** Extra response headers, e.g. { 'retry-after-ms': '10' }. */
  headers?: Record<string, string>;
  /** Wait before answering (for timeout tests). */
  delayMs?: number;
  /** Answer only once this settles: holds a call in flight for as long as a test needs. */
  gate?: Promise<void>;
  /** Return vectors of this length instead of the configured one. */
  wrongDim?: number;
  /** Return this many fewer embeddings than inputs. */
  dropItems?: number;
  /** Put a null (non-finite after decoding) into the first vector. */
  nonFinite?: boolean;
  /** Answer with floats even if base64 was asked for (like many local servers). */
  ignoreEncodingFormat?: boolean;
  /** Answer with base64 even if floats were asked for. */
  base64?: boolean;
  /** Return the items in reverse order (their `index` fields stay right). */
  reverse?: boolean;
  /** Drop the connection without answering. */
  destroy?: boolean;
  /** Never answer: wait until the client gives up (or the fake closes), so a test needs no clock. */
  hold?: boolean;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** `input` normalised to an array. */
  inputs: string[];
  body: Record<string, unknown>;
  /** True once the client closed the connection before any answer was sent (a timeout or an abort). */
  abandoned: boolean;
  /** The status sent, once an answer was sent. */
  answered?: number;
}

export interface FakeOpenAIOptions {
  /** Dimension of returned vectors when the request has no `dimensions`; default 64. */
  dim?: number;
  /** Whether `dimensions` in the request changes the vector length (like text-embedding-3); default true. */
  honourDimensions?: boolean;
  /** Behave like a server that always answers with floats; default false. */
  ignoreEncodingFormat?: boolean;
}

export interface FakeOpenAI {
  /** Base URL for the SDK; ends with `/v1`. */
  url: string;
  /** Every request received, including failed attempts, in arrival order. */
  requests: FakeRequest[];
  /** Queues scripted answers for the next requests, in order. */
  failNext(...scripts: FakeScript[]): void;
  close(): Promise<void>;
}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Incorrect API key provided',
  404: 'Not found',
  429: 'Rate limit exceeded',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/**
 * Deterministic, deliberately non-unit vector for `text` (values in
 * [-1, 1) from chained sha256), so tests can check normalisation too.
 */
export function fakeVector(text: string, dim: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dim; block++) {
    const bytes = createHash('sha256').update(`${block}\0${text}`).digest();
    for (let i = 0; i + 1 < bytes.length && out.length < dim; i += 2) {
      out.push(bytes.readUInt16LE(i) / 32768 - 1);
    }
  }
  return out;
}

/** `fakeVector` scaled to unit length, as the embedder should return it. */
export function expectedUnitVector(text: string, dim: number): Float32Array {
  const v = Float32Array.from(fakeVector(text, dim));
  let sum = 0;
  for (const x of v) sum += x * x;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const config = { dim: 64, honourDimensions: true, ignoreEncodingFormat: false, ...opts };
  const requests: FakeRequest[] = [];
  const queue: FakeScript[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: { message: 'fake server crashed' } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseBody(await readBody(req));
    const inputs = normaliseInput(body['input']);
    const record: FakeRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, inputs, body, abandoned: false };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.abandoned = true;
    });
    res.on('finish', () => (record.answered = res.statusCode));
    const script = queue.shift() ?? {};
    if (script.delayMs) await sleep(script.delayMs, timers);
    if (script.gate) await script.gate;
    if (script.hold) await new Promise<void>((resolve) => res.once('close', () => resolve()));
    if (res.destroyed) return; // the client gave up (timeout or abort)
    if (script.destroy) {
      req.socket.destroy();
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      send(res, 404, errorBody(404, `no route ${req.method} ${req.url}`));
      return;
    }
    if (script.status !== undefined && script.status >= 400) {
      send(res, script.status, errorBody(script.status, script.message), script.headers);
      return;
    }
    send(res, 200, embeddingsBody(body, inputs, script, config), script.headers);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext: (...scripts) => void queue.push(...scripts),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function embeddingsBody(
  body: Record<string, unknown>,
  inputs: string[],
  script: FakeScript,
  config: Required<FakeOpenAIOptions>,
): unknown {
  const requested = typeof body['dimensions'] === 'number' && config.honourDimensions ? body['dimensions'] : undefined;
  const dim = script.wrongDim ?? requested ?? config.dim;
  const wantsBase64 = body['encoding_format'] === 'base64' && !config.ignoreEncodingFormat && !script.ignoreEncodingFormat;
  const asBase64 = script.base64 || wantsBase64;
  const kept = inputs.slice(0, Math.max(0, inputs.length - (script.dropItems ?? 0)));
  let data = kept.map((text, index) => {
    const vec: Array<number | null> = fakeVector(text, dim);
    if (script.nonFinite && index === 0) vec[0] = null;
    return { object: 'embedding', index, embedding: asBase64 ? toBase64(vec) : vec };
  });
  if (script.reverse) data = data.reverse();
  const tokens = inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  return { object: 'list', data, model: body['model'], usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function toBase64(vec: Array<number | null>): string {
  const f = Float32Array.from(vec, (x) => x ?? Number.NaN);
  return Buffer.from(f.buffer).toString('base64');
}

function errorBody(status: number, message?: string): unknown {
  return {
    error: {
      message: message ?? DEFAULT_MESSAGES[status] ?? `error ${status}`,
      type: status === 429 ? 'rate_limit_exceeded' : 'server_error',
      param: null,
      code: null,
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function normaliseInput(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  return Array.isArray(input) ? input.map(String) : [];
}

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });
}
