import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmbeddingError } from '../../src/embed/embedder.js';
import { OpenAIEmbedder } from '../../src/embed/openai.js';
import type { OpenAIEmbedderOptions } from '../../src/embed/openai.js';
import { expectedUnitVector, startFakeOpenAI } from '../helpers/fake-openai.js';
import type { FakeOpenAI } from '../helpers/fake-openai.js';

const KEY = 'sk-test-0123456789abcdef';
const MODEL = 'fake-embed';
const DIM = 64;

let fake: FakeOpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI({ dim: DIM });
});

afterEach(async () => {
  await fake.close();
});

function embedder(opts: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder {
  return new OpenAIEmbedder({ apiKey: KEY, baseURL: fake.url, model: MODEL, dim: DIM, ...opts });
}

function texts(n: number, prefix = 'text'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** Runs `p` expecting an EmbeddingError and returns it. */
async function embeddingError(p: Promise<unknown>): Promise<EmbeddingError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EmbeddingError);
  return err as EmbeddingError;
}

describe('OpenAIEmbedder', () => {
  it('returns unit vectors in input order, matching the server', async () => {
    const e = embedder();
    const input = ['alpha', 'beta', 'gamma'];
    const out = await e.embed(input);
    expect(e.provider).toBe('openai');
    expect(e.model).toBe(MODEL);
    expect(e.dim).toBe(DIM);
    expect(out).toHaveLength(3);
    out.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(DIM);
      expect(norm(v)).toBeCloseTo(1, 5);
      expect(Array.from(v)).toEqual(Array.from(expectedUnitVector(input[i]!, DIM)));
    });
  });

  it('is deterministic across calls', async () => {
    const e = embedder();
    const [a] = await e.embed(['same text']);
    const [b] = await e.embed(['same text']);
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });

  it('sends nothing for an empty list', async () => {
    expect(await embedder().embed([])).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('always asks for floats, sends the key and no dimensions for other models', async () => {
    await embedder().embed(['x']);
    const [req] = fake.requests;
    expect(req!.path).toBe('/v1/embeddings');
    expect(req!.body['encoding_format']).toBe('float');
    expect(req!.body['model']).toBe(MODEL);
    expect(req!.body).not.toHaveProperty('dimensions');
    expect(req!.headers['authorization']).toBe(`Bearer ${KEY}`);
  });

  it('works with servers that ignore encoding_format', async () => {
    await fake.close();
    fake = await startFakeOpenAI({ dim: DIM, ignoreEncodingFormat: true });
    const [v] = await embedder().embed(['local server']);
    expect(Array.from(v!)).toEqual(Array.from(expectedUnitVector('local server', DIM)));
  });

  it('sends chunks of chunkSize, one request each, preserving order', async () => {
    const input = texts(600);
    const out = await embedder({ chunkSize: 256 }).embed(input);
    expect(fake.requests.map((r) => r.inputs.length).sort((a, b) => a - b)).toEqual([88, 256, 256]);
    expect(fake.requests.flatMap((r) => r.inputs).sort()).toEqual([...input].sort());
    out.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(expectedUnitVector(input[i]!, DIM))));
  });

  it('caps chunkSize at 2048 inputs per request', async () => {
    await embedder({ chunkSize: 5000 }).embed(texts(2100));
    expect(fake.requests.map((r) => r.inputs.length).sort((a, b) => a - b)).toEqual([52, 2048]);
  });

  it('embeds identical texts once and fans them back out', async () => {
    const input = ['a', 'b', 'a', 'c', 'b', 'a'];
    const out = await embedder().embed(input);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.inputs).toEqual(['a', 'b', 'c']);
    expect(out).toHaveLength(6);
    out.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(expectedUnitVector(input[i]!, DIM))));
    // Duplicates are independent copies.
    expect(out[0]).not.toBe(out[2]);
  });

  it('places items by their index field when the server reorders them', async () => {
    fake.failNext({ reverse: true });
    const input = ['one', 'two', 'three'];
    const out = await embedder().embed(input);
    out.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(expectedUnitVector(input[i]!, DIM))));
  });

  it('retries after 429 and 500, then succeeds', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after-ms': '10' } }, { status: 500, headers: { 'retry-after-ms': '10' } });
    const out = await embedder({ maxRetries: 2 }).embed(['retry me']);
    expect(fake.requests).toHaveLength(3);
    expect(Array.from(out[0]!)).toEqual(Array.from(expectedUnitVector('retry me', DIM)));
  });

  it('retries a 500 with the SDK backoff: it sleeps its computed delay, then sends the retry after the failure was answered', async () => {
    // No retry-after header: the SDK computes an exponential backoff (0.5 s × jitter for the first retry) and sleeps it.
    const backoff = vi.spyOn(OpenAI.prototype as unknown as { calculateDefaultRetryTimeoutMillis(r: number, m: number): number }, 'calculateDefaultRetryTimeoutMillis');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      fake.failNext({ status: 500 });
      const [v] = await embedder({ maxRetries: 1 }).embed(['backoff']);
      expect(Array.from(v!)).toEqual(Array.from(expectedUnitVector('backoff', DIM)));
      expect(fake.requests.map((r) => r.answered)).toEqual([500, 200]);
      expect(backoff).toHaveBeenCalledTimes(1);
      const delay = backoff.mock.results[0]!.value as number;
      expect(delay).toBeGreaterThanOrEqual(375);
      expect(delay).toBeLessThanOrEqual(500);
      // …and that delay was really slept (a timer of exactly that many milliseconds), not skipped.
      expect(timers.mock.calls.some((c) => c[1] === delay)).toBe(true);
    } finally {
      backoff.mockRestore();
      timers.mockRestore();
    }
  });

  it('fails with the provider status and message after retries are exhausted', async () => {
    const fast = { status: 429, headers: { 'retry-after-ms': '5' } };
    fake.failNext(fast, fast, fast);
    const err = await embeddingError(embedder({ maxRetries: 2 }).embed(['x']));
    expect(err.message).toBe('openai embeddings failed after 3 attempts: 429 Rate limit exceeded');
    expect(fake.requests).toHaveLength(3);
  });

  it('per-call maxRetries overrides the constructor default', async () => {
    const fast = { status: 429, headers: { 'retry-after-ms': '5' } };
    fake.failNext(fast, fast, fast);
    const err = await embeddingError(embedder({ maxRetries: 2 }).embed(['x'], { maxRetries: 0 }));
    expect(err.message).toBe('openai embeddings failed after 1 attempt: 429 Rate limit exceeded');
    expect(fake.requests).toHaveLength(1);
  });

  it('does not retry a 400', async () => {
    fake.failNext({ status: 400, message: "'$.input' is invalid" });
    const err = await embeddingError(embedder({ maxRetries: 2 }).embed(['x']));
    expect(err.message).toBe("openai embeddings failed after 1 attempt: 400 '$.input' is invalid");
    expect(fake.requests).toHaveLength(1);
  });

  it('times out a response that never comes: the client gives up on the request and reports the timeout', async () => {
    fake.failNext({ hold: true });
    const err = await embeddingError(embedder({ timeoutMs: 150, maxRetries: 0 }).embed(['slow']));
    expect(err.message).toBe('openai embeddings failed after 1 attempt: request timed out after 150 ms');
    expect(fake.requests).toHaveLength(1);
    // The server sees the client hang up (its side of the close may arrive a moment after the rejection).
    await vi.waitFor(() => expect(fake.requests[0]!.abandoned).toBe(true));
    expect(fake.requests[0]!.answered).toBeUndefined();
  });

  it('retries after a timeout', async () => {
    fake.failNext({ hold: true });
    const out = await embedder({ timeoutMs: 150, maxRetries: 1 }).embed(['slow then fast']);
    expect(Array.from(out[0]!)).toEqual(Array.from(expectedUnitVector('slow then fast', DIM)));
    expect(fake.requests.map((r) => [r.abandoned, r.answered])).toEqual([
      [true, undefined],
      [false, 200],
    ]);
  });

  it('reports connection failures', async () => {
    const url = fake.url;
    await fake.close();
    const err = await embeddingError(
      new OpenAIEmbedder({ apiKey: KEY, baseURL: url, model: MODEL, dim: DIM, maxRetries: 0 }).embed(['x']),
    );
    expect(err.message).toMatch(/^openai embeddings failed after 1 attempt: Connection error/);
    fake = await startFakeOpenAI({ dim: DIM }); // for afterEach
  });

  it('honours an abort signal even while waiting to retry', async () => {
    // The server asks for a wait far longer than the test: the call must end at the abort, inside that wait,
    // before the retry is ever sent.
    fake.failNext({ status: 429, headers: { 'retry-after-ms': '600000' } });
    const controller = new AbortController();
    const embedding = embedder().embed(['x'], { signal: controller.signal });
    await vi.waitFor(() => expect(fake.requests[0]?.answered).toBe(429));
    controller.abort(new Error('caller gave up'));
    const err = await embeddingError(embedding);
    expect(err.message).toBe('openai embeddings aborted: caller gave up');
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const err = await embeddingError(embedder().embed(['x'], { signal: AbortSignal.abort() }));
    expect(err.message).toMatch(/aborted/);
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects vectors of the wrong dimension', async () => {
    fake.failNext({ wrongDim: 10 });
    const err = await embeddingError(embedder().embed(['x']));
    expect(err.message).toMatch(/^embedding endpoint returned 10 dimensions, expected 64/);
  });

  it('rejects a response with missing embeddings', async () => {
    fake.failNext({ dropItems: 1 });
    const err = await embeddingError(embedder().embed(['x', 'y']));
    expect(err.message).toBe('embedding endpoint returned 1 embeddings for 2 inputs');
  });

  it('rejects non-finite values', async () => {
    fake.failNext({ nonFinite: true });
    const err = await embeddingError(embedder().embed(['x']));
    expect(err.message).toMatch(/non-finite value at dimension 0 of input 0/);
  });

  it('rejects base64 answers to a float request instead of returning empty vectors', async () => {
    fake.failNext({ base64: true });
    const err = await embeddingError(embedder().embed(['x']));
    expect(err.message).toMatch(/returned a string instead of a float array/);
  });

  it('fails the whole call when one chunk fails', async () => {
    fake.failNext({}, { status: 400 });
    await embeddingError(embedder({ chunkSize: 2, maxRetries: 0 }).embed(texts(6)));
  });

  it('never puts the API key into error messages', async () => {
    fake.failNext({ status: 401, message: `Incorrect API key provided: ${KEY}` });
    const err = await embeddingError(embedder().embed(['x']));
    expect(err.message).not.toContain(KEY);
    expect(err.message).toContain('401');
  });
});

describe('OpenAIEmbedder dimensions', () => {
  it('requests dimensions from text-embedding-3 models only when dim is explicit', async () => {
    const out = await embedder({ model: 'text-embedding-3-small', dim: 32 }).embed(['short']);
    expect(fake.requests[0]!.body['dimensions']).toBe(32);
    expect(out[0]).toHaveLength(32);
  });

  it('uses the known table for OpenAI models and sends no dimensions', async () => {
    await fake.close();
    fake = await startFakeOpenAI({ dim: 1536 });
    const e = await OpenAIEmbedder.create({ apiKey: KEY, baseURL: fake.url, model: 'text-embedding-3-small' });
    expect(e.dim).toBe(1536);
    expect(fake.requests).toHaveLength(0); // no probe needed
    await e.embed(['x']);
    expect(fake.requests[0]!.body).not.toHaveProperty('dimensions');
  });

  it('does not send dimensions to other models even when dim is explicit', async () => {
    await embedder({ model: 'text-embedding-ada-002', dim: DIM }).embed(['x']);
    expect(fake.requests[0]!.body).not.toHaveProperty('dimensions');
  });

  it('probes the endpoint once to learn an unknown model’s dimension', async () => {
    await fake.close();
    fake = await startFakeOpenAI({ dim: 768 });
    const e = await OpenAIEmbedder.create({ apiKey: KEY, baseURL: fake.url, model: 'nomic-embed-text' });
    expect(e.dim).toBe(768);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.inputs).toHaveLength(1);
    expect(fake.requests[0]!.body).not.toHaveProperty('dimensions');
    const [v] = await e.embed(['after probe']);
    expect(v).toHaveLength(768);
  });

  it('create() with an explicit dim does not probe', async () => {
    const e = await OpenAIEmbedder.create({ apiKey: KEY, baseURL: fake.url, model: MODEL, dim: DIM });
    expect(e.dim).toBe(DIM);
    expect(fake.requests).toHaveLength(0);
  });

  it('a failed probe is an EmbeddingError', async () => {
    fake.failNext({ status: 404, message: 'model "nope" not found' });
    const err = await embeddingError(
      OpenAIEmbedder.create({ apiKey: KEY, baseURL: fake.url, model: 'nope', maxRetries: 0 }),
    );
    expect(err.message).toBe('openai embeddings failed after 1 attempt: 404 model "nope" not found');
  });

  it('the constructor refuses an unknown model without dim', () => {
    expect(() => new OpenAIEmbedder({ apiKey: KEY, baseURL: fake.url, model: 'mystery' })).toThrow(/MEMLANE_EMBED_DIM/);
  });

  it('a local server without a key gets a dummy key', async () => {
    const saved = process.env['OPENAI_API_KEY'];
    delete process.env['OPENAI_API_KEY'];
    try {
      await new OpenAIEmbedder({ baseURL: fake.url, model: MODEL, dim: DIM }).embed(['x']);
      expect(fake.requests[0]!.headers['authorization']).toMatch(/^Bearer \S+/);
    } finally {
      if (saved !== undefined) process.env['OPENAI_API_KEY'] = saved;
    }
  });
});
