/**
 * The OpenAI embedder behind the MCP tools, against the loopback fake server:
 * batching into chunks, embedding identical texts once, retries, per-item
 * EMBEDDING_FAILED with nothing written, `max_retries`, and search in every mode.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIEmbedder } from '../../src/embed/openai.js';
import { fakeVector, type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const DIM = 64;
const CHUNK = 64;
/** Keeps the SDK's retry back-off short. */
const FAST = { 'retry-after-ms': '5' };

let fake: FakeOpenAI;
let h: Harness;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: DIM });
  const embedder = await OpenAIEmbedder.create({ baseURL: fake.url, apiKey: 'k', model: 'fake-model', dim: DIM, chunkSize: CHUNK });
  expect(embedder.dim).toBe(DIM);
  h = await startHarness({ embedder, env: { MEMLANE_MAX_BATCH: '500' } });
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

let mark = 0;
beforeEach(() => {
  mark = fake.requests.length;
});
const requestsSince = () => fake.requests.slice(mark).filter((r) => r.path === '/v1/embeddings');

let counter = 0;
const word = () => `w${Date.now().toString(36)}x${(counter++).toString(36)}`;

describe('batch_remember with the openai embedder', () => {
  it('300 items are embedded in ceil(300 / chunkSize) requests, not 300', async () => {
    const tag = word();
    const memories = Array.from({ length: 300 }, (_, i) => ({ content: `${tag} item number ${i}` }));
    const out = await h.ok('batch_remember', { memories });
    expect(out.succeeded).toBe(300);
    const reqs = requestsSince();
    expect(reqs).toHaveLength(Math.ceil(300 / CHUNK));
    expect(reqs.reduce((n, r) => n + r.inputs.length, 0)).toBe(300);
    for (const r of reqs) {
      expect(r.inputs.length).toBeLessThanOrEqual(CHUNK);
      expect(r.body.model).toBe('fake-model');
      expect(r.headers.authorization).toBe('Bearer k');
    }
    // Stored vectors are the provider's (unit-normalised): an exact-text vector query finds the item with cosine 1.
    const s = await h.ok('batch_search', { queries: [{ query: `${tag} item number 17`, mode: 'vector', limit: 1 }] });
    expect(s.results[0].results[0].content).toBe(`${tag} item number 17`);
    expect(s.results[0].results[0].score).toBeCloseTo(1, 5);
  });

  it('identical contents in one call are embedded once (dedupe on and off)', async () => {
    const tag = word();
    const distinct = Array.from({ length: 10 }, (_, i) => `${tag} repeated content ${i}`);
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: distinct[i % 10]! }));
    const out = await h.ok('batch_remember', { memories, options: { dedupe: false } });
    expect(out.succeeded).toBe(100);
    expect(out.results.every((r: any) => r.action === 'created')).toBe(true);
    let reqs = requestsSince();
    expect(reqs).toHaveLength(1);
    expect([...reqs[0]!.inputs].sort()).toEqual([...distinct].sort());

    mark = fake.requests.length;
    const tag2 = word();
    const again = Array.from({ length: 50 }, (_, i) => ({ content: `${tag2} twice ${i % 5}` }));
    const out2 = await h.ok('batch_remember', { memories: again });
    expect(out2.results.filter((r: any) => r.action === 'created')).toHaveLength(5);
    expect(out2.results.filter((r: any) => r.action === 'deduplicated')).toHaveLength(45);
    reqs = requestsSince();
    expect(reqs.reduce((n, r) => n + r.inputs.length, 0)).toBe(5);

    // Already stored content is not embedded again.
    mark = fake.requests.length;
    const out3 = await h.ok('batch_remember', { memories: again.slice(0, 5) });
    expect(out3.results.every((r: any) => r.action === 'deduplicated')).toBe(true);
    expect(requestsSince()).toHaveLength(0);
  });

  it('a 429 then success: every item is stored (the SDK retried)', async () => {
    const tag = word();
    fake.failNext({ status: 429, headers: FAST });
    const out = await h.ok('batch_remember', { memories: Array.from({ length: 5 }, (_, i) => ({ content: `${tag} retry ${i}` })) });
    expect(out.succeeded).toBe(5);
    const reqs = requestsSince();
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.inputs).toEqual(reqs[0]!.inputs);
  });

  it('persistent 500s: every embedded item fails with EMBEDDING_FAILED and the provider message, nothing is written; caller vectors still succeed', async () => {
    const tag = word();
    const message = `upstream exploded ${tag}`;
    // max_retries 2 (default) → 3 attempts.
    fake.failNext(...Array.from({ length: 3 }, () => ({ status: 500, message, headers: FAST })));
    const own = fakeVector(`${tag} own vector`, DIM);
    const out = await h.ok('batch_remember', {
      memories: [
        { id: `${tag}-a`, content: `${tag} needs embedding a` },
        { id: `${tag}-own`, content: `${tag} brings its own vector`, embedding: own },
        { id: `${tag}-b`, content: `${tag} needs embedding b` },
        { content: `${tag} needs embedding c (no id)` },
      ],
    });
    expect(requestsSince()).toHaveLength(3);
    expect(out.succeeded).toBe(1);
    expect(out.failed).toBe(3);
    for (const i of [0, 2, 3]) {
      const r = out.results[i];
      expect(r, JSON.stringify(r)).toMatchObject({ index: i, status: 'error', error: { code: 'EMBEDDING_FAILED', field: `memories[${i}].content` } });
      expect(r.error.message).toContain(message);
      expect(r.error.message).toContain('3 attempts');
    }
    expect(out.results[1]).toMatchObject({ status: 'ok', action: 'created', id: `${tag}-own` });

    const got = await h.ok('batch_get', { ids: [`${tag}-a`, `${tag}-own`, `${tag}-b`] });
    expect(got.results.map((r: any) => r.status === 'ok' ? 'ok' : r.error.code)).toEqual(['NOT_FOUND', 'ok', 'NOT_FOUND']);
    const s = await h.ok('batch_search', { queries: [{ query: tag, mode: 'text', limit: 100 }] });
    // (Session neighbours of a match may rank too; only memories containing the word count here.)
    expect(s.results[0].results.filter((x: any) => x.content.includes(tag)).map((x: any) => x.id)).toEqual([`${tag}-own`]);
  });

  it('batch_update with changed content under persistent 500s: EMBEDDING_FAILED and the old version stays', async () => {
    const tag = word();
    const created = await h.ok('batch_remember', { memories: [{ id: `${tag}-u`, content: `${tag} original content` }] });
    expect(created.succeeded).toBe(1);
    mark = fake.requests.length;
    fake.failNext({ status: 500, headers: FAST });
    const out = await h.ok('batch_update', { updates: [{ id: `${tag}-u`, content: `${tag} changed content` }], options: { max_retries: 0 } });
    expect(out.results[0]).toMatchObject({ status: 'error', error: { code: 'EMBEDDING_FAILED' } });
    expect(requestsSince()).toHaveLength(1);
    const got = await h.ok('batch_get', { ids: [`${tag}-u`] });
    expect(got.results[0].memory).toMatchObject({ content: `${tag} original content`, version: 1 });
  });

  it('options.max_retries: 0 makes exactly one attempt', async () => {
    const tag = word();
    fake.failNext({ status: 500, message: 'one shot only', headers: FAST }, { status: 500, headers: FAST });
    const out = await h.ok('batch_remember', { memories: [{ id: `${tag}-x`, content: `${tag} single attempt` }], options: { max_retries: 0 } });
    expect(requestsSince()).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ status: 'error', error: { code: 'EMBEDDING_FAILED' } });
    expect(out.results[0].error.message).toContain('one shot only');
    expect(out.results[0].error.message).toContain('1 attempt');
    // The second scripted 500 is still queued: consume it so the next test starts clean.
    mark = fake.requests.length;
    const cleanup = await h.ok('batch_remember', { memories: [{ content: `${tag} consumes the leftover failure` }], options: { max_retries: 1 } });
    expect(cleanup.succeeded).toBe(1);
    expect(requestsSince()).toHaveLength(2);

    // max_retries: 1 → two attempts.
    mark = fake.requests.length;
    fake.failNext({ status: 503, headers: FAST }, { status: 503, headers: FAST }, { status: 503, headers: FAST });
    const two = await h.ok('batch_remember', { memories: [{ content: `${tag} two attempts` }], options: { max_retries: 1 } });
    expect(two.results[0]).toMatchObject({ status: 'error', error: { code: 'EMBEDDING_FAILED' } });
    expect(requestsSince()).toHaveLength(2);
    mark = fake.requests.length;
    const drain = await h.ok('batch_remember', { memories: [{ content: `${tag} drains the last one` }] });
    expect(drain.succeeded).toBe(1);
    expect(requestsSince()).toHaveLength(2);
  });
});

describe('batch_search with the openai embedder', () => {
  let tag: string;
  let ids: string[];
  beforeAll(async () => {
    tag = word();
    const out = await h.ok('batch_remember', {
      memories: [`${tag} the ferry leaves at noon`, `${tag} bring a warm jacket`, `${tag} the museum opens on tuesday`].map((content) => ({ content })),
    });
    ids = out.results.map((r: any) => r.id);
  });

  it('works in all modes, with the query embedded once per distinct text', async () => {
    mark = fake.requests.length;
    const q = `${tag} bring a warm jacket`;
    const out = await h.ok('batch_search', {
      queries: [
        { query: q, mode: 'vector', limit: 3 },
        { query: q, mode: 'hybrid', limit: 3 },
        { query: q, mode: 'text', limit: 3 },
        { query: `${tag} ferry noon`, mode: 'hybrid', limit: 3 },
      ],
    });
    expect(out.failed).toBe(0);
    const reqs = requestsSince();
    expect(reqs).toHaveLength(1);
    expect([...reqs[0]!.inputs].sort()).toEqual([q, `${tag} ferry noon`].sort());
    for (const r of out.results) {
      expect(r.status).toBe('ok');
      for (const x of r.results) {
        expect(x.score).toBeGreaterThanOrEqual(0);
        expect(x.score).toBeLessThanOrEqual(1);
      }
    }
    expect(out.results[0].results[0].id).toBe(ids[1]);
    expect(out.results[0].results[0].score).toBeCloseTo(1, 5);
    expect(out.results[1].results[0].id).toBe(ids[1]);
    expect(out.results[2].results[0].id).toBe(ids[1]);
    expect(out.results[3].results[0].id).toBe(ids[0]);
  });

  it('a provider failure fails only the queries that needed a vector', async () => {
    mark = fake.requests.length;
    fake.failNext({ status: 500, message: 'search side outage', headers: FAST });
    const out = await h.ok('batch_search', {
      queries: [
        { query: `${tag} museum`, mode: 'text', limit: 3 },
        { query: `${tag} museum`, mode: 'vector', limit: 3 },
        { query: `${tag} museum`, mode: 'hybrid', limit: 3 },
        { query: `${tag} museum`, mode: 'vector', limit: 3, embedding: fakeVector(`${tag} the museum opens on tuesday`, DIM) },
      ],
      options: { max_retries: 0 },
    });
    expect(requestsSince()).toHaveLength(1);
    expect(out.results[0].status).toBe('ok');
    expect(out.results[0].results[0].id).toBe(ids[2]);
    for (const i of [1, 2]) {
      expect(out.results[i]).toMatchObject({ status: 'error', error: { code: 'EMBEDDING_FAILED' } });
      expect(out.results[i].error.message).toContain('search side outage');
    }
    expect(out.results[3].status).toBe('ok');
    expect(out.results[3].results[0].id).toBe(ids[2]);
  });
});
