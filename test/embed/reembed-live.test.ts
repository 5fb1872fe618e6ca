/**
 * `memlane reembed` next to running servers, and resumed after changes
 * (issue 8): a resumed run must copy what changed since the interruption
 * (never bring back an old version), and a server that keeps running during
 * a reembed must see the new generation at its next call and go on: reads
 * and deletes work, and what needs its (now foreign) embedder fails per item
 * with a message saying what happened.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { OpenAIEmbedder } from '../../src/embed/openai.js';
import { reembedAll } from '../../src/store/reembed.js';
import { memoriesTableName } from '../../src/store/schema.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

const DIM = 64;
const FAST = { 'retry-after-ms': '5' };
let fake: FakeOpenAI;
const dirs: string[] = [];
beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: DIM });
});
afterAll(async () => {
  await fake?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const openai = () => OpenAIEmbedder.create({ baseURL: fake.url, apiKey: 'k', model: 'fake-model', dim: DIM, maxRetries: 0 });
const config = (dir: string) => loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });

async function seed(h: Harness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const memories = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ id: `r${i + j}`, content: `record ${i + j} about the ${['oak', 'elm', 'ash'][(i + j) % 3]} tree` }));
    const out = await h.ok('batch_remember', { memories });
    expect(out.succeeded).toBe(memories.length);
    ids.push(...memories.map((m) => m.id));
  }
  return ids;
}

const statusOf = (out: { results: Array<{ status: string; error?: { code: string } }> }) => out.results.map((r) => r.error?.code ?? r.status);

describe('a resumed reembed after changes', () => {
  it('copies what changed since the interruption, drops what was deleted, adds what was written; nothing comes back old', async () => {
    const dir = tempDir('memlane-reembed-resume-');
    dirs.push(dir);
    const h = await startHarness({ dir });
    const ids = await seed(h, 600);
    await h.close();

    // First run: page 1 (256 rows) is copied, then the provider fails.
    fake.failNext({}, { status: 500, message: 'down', headers: FAST });
    let app = await openApp(config(dir), { embedder: await openai(), maintenance: false, adopt: true });
    await expect(reembedAll(app.db, app.embedder)).rejects.toThrow(/down/);
    const copied = (await (await app.db.conn.openTable(memoriesTableName('default', 1))).query().select(['id']).toArray()).map((r) => String(r.id));
    await app.close();
    expect(copied.length).toBe(256);

    // Between the runs the old embedder's server changes memories that were already copied.
    const [changed, deleted] = [copied[10]!, copied[20]!];
    const local = await startHarness({ dir });
    const upd = await local.ok('batch_update', { updates: [{ id: changed, content: 'record rewritten after the interruption', importance: 0.9 }] });
    expect(upd.results[0]).toMatchObject({ status: 'ok', version: 2 });
    expect(statusOf(await local.ok('batch_delete', { ids: [deleted] }))).toEqual(['ok']);
    await local.ok('batch_remember', { memories: [{ id: 'late', content: 'written between the two runs' }] });
    await local.close();

    app = await openApp(config(dir), { embedder: await openai(), maintenance: false, adopt: true });
    const result = await reembedAll(app.db, app.embedder);
    await app.close();
    expect(result.memories).toBe(600);

    const after = await startHarness({ dir, embedder: await openai() });
    try {
      const got = await after.ok('batch_get', { ids: [changed, deleted, 'late'] });
      expect(got.results[0].memory).toMatchObject({ content: 'record rewritten after the interruption', importance: 0.9, version: 2 });
      expect(got.results[1].error.code).toBe('NOT_FOUND');
      expect(got.results[2].memory.content).toBe('written between the two runs');
      const rows = (await (await after.app.db.memoryTables())[0]!.query().select(['id']).toArray()).map((r) => String(r.id));
      expect(rows.length).toBe(600);
      expect(new Set(rows).size).toBe(600);
      expect(rows).not.toContain(deleted);
      // The rewritten memory is found by its new words, with the new embedder's vector.
      const s = await after.ok('batch_search', { queries: [{ query: 'record rewritten after the interruption', mode: 'vector', limit: 1 }] });
      expect(s.results[0].results[0].id).toBe(changed);
      expect(s.results[0].results[0].score).toBeCloseTo(1, 5);
      expect(ids.filter((id) => id !== deleted).length).toBe(599);
    } finally {
      await after.close();
    }
  });
});

describe('a server that keeps running during a reembed', () => {
  it('writes during the reembed are carried over; at its next call it reads the new generation, and embedding fails per item with the reason', async () => {
    const dir = tempDir('memlane-reembed-live-');
    dirs.push(dir);
    const server = await startHarness({ dir });
    const ids = await seed(server, 300);

    const app = await openApp(config(dir), { embedder: await openai(), maintenance: false, adopt: true });
    // The first page's embedding request is slow, so the server's write below lands during the bulk copy.
    fake.failNext({ delayMs: 1_500 });
    let during: Promise<unknown> | undefined;
    let wroteDuring = false;
    await reembedAll(app.db, app.embedder, () => {
      if (wroteDuring) return;
      wroteDuring = true;
      // The running server writes while the copy is under way (between two pages).
      during = server.ok('batch_remember', { memories: [{ id: 'during', content: 'remembered while the reembed ran' }] });
    });
    await app.close();
    expect(wroteDuring).toBe(true);
    expect(((await during) as { results: Array<{ action: string }> }).results[0]!.action).toBe('created');

    // Next calls of the same running server: no STORAGE_ERROR from dropped tables.
    const got = await server.ok('batch_get', { ids: [...ids.slice(0, 50), 'during'] });
    expect(got.results.every((r: { status: string }) => r.status === 'ok')).toBe(true);
    expect(got.results.at(-1).memory.content).toBe('remembered while the reembed ran');
    const text = await server.ok('batch_search', { queries: [{ query: 'elm tree', mode: 'text', limit: 5 }] });
    expect(text.results[0].status).toBe('ok');
    expect(text.results[0].total).toBe(5);

    const rem = await server.ok('batch_remember', { memories: [{ content: 'needs the old embedder' }] });
    expect(rem.results[0].error.code).toBe('EMBEDDING_FAILED');
    expect(rem.results[0].error.message).toMatch(/re-embedded with openai\/fake-model \(64 dimensions\).*local\/\S+/);
    const vec = await server.ok('batch_search', { queries: [{ query: 'oak', mode: 'hybrid' }] });
    expect(vec.results[0].error.code).toBe('EMBEDDING_FAILED');
    const del = await server.ok('batch_delete', { ids: [ids[0]] });
    expect(statusOf(del)).toEqual(['ok']);
    await server.close();

    // Restarted with the new embedder: everything is there once.
    const next = await startHarness({ dir, embedder: await openai() });
    try {
      const rows = (await (await next.app.db.memoryTables())[0]!.query().select(['id']).toArray()).map((r) => String(r.id));
      expect(rows.length).toBe(300); // 300 seeded + 'during' − the deleted one
      expect(rows).toContain('during');
      expect(rows).not.toContain(ids[0]);
      const again = await next.ok('batch_remember', { memories: [{ content: 'the new embedder writes' }] });
      expect(again.results[0].action).toBe('created');
    } finally {
      await next.close();
    }
  });
});
