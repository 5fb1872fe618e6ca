/**
 * Contract §5: a database remembers its embedder; another one is refused with
 * a message naming both and `memlane reembed`; `reembed` moves every memory to
 * the new embedder, resumably, leaving the database usable by the old one
 * until it has finished.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { OpenAIEmbedder } from '../../src/embed/openai.js';
import { EmbedderMismatchError } from '../../src/store/db.js';
import { type ReembedProgress, reembedAll } from '../../src/store/reembed.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
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

const openai = (opts: { maxRetries?: number } = {}) =>
  OpenAIEmbedder.create({ baseURL: fake.url, apiKey: 'k', model: 'fake-model', dim: DIM, ...opts });
const config = (dir: string) => loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });

/** Writes `n` memories with the local embedder across two sessions; returns id → content. */
async function seed(dir: string, n: number): Promise<Map<string, string>> {
  const h = await startHarness({ dir });
  const contents = new Map<string, string>();
  try {
    const other = await h.app.sessions.create('default', { origin: 'test' });
    for (let i = 0; i < n; i += 100) {
      const memories = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
        content: `note ${i + j}: the ${['red', 'green', 'blue', 'amber'][(i + j) % 4]} lantern hangs in room ${i + j}`,
        tags: [`t${(i + j) % 7}`],
        metadata: { n: i + j, quote: "it's \"fine\"" },
      }));
      const out = await h.ok('batch_remember', { memories, session_token: (i / 100) % 2 ? other.token : h.defaultToken });
      expect(out.succeeded).toBe(memories.length);
      out.results.forEach((r: any, j: number) => contents.set(r.id, memories[j]!.content));
    }
  } finally {
    await h.close();
  }
  return contents;
}

/** Every memory of the database, read through batch_get, must be there with the same content. */
async function expectIntact(h: Harness, contents: Map<string, string>): Promise<void> {
  const ids = [...contents.keys()];
  for (let i = 0; i < ids.length; i += 100) {
    const got = await h.ok('batch_get', { ids: ids.slice(i, i + 100) });
    for (const r of got.results) {
      expect(r.status, JSON.stringify(r)).toBe('ok');
      expect(r.memory.content).toBe(contents.get(r.id));
    }
  }
  const pks: string[] = [];
  for (const table of await h.app.db.memoryTables()) pks.push(...(await table.query().select(['pk']).toArray()).map((r) => String(r.pk)));
  expect(pks).toHaveLength(contents.size);
  expect(new Set(pks).size).toBe(contents.size);
}

async function mismatchOf(dir: string, embedder: Awaited<ReturnType<typeof openai>>): Promise<EmbedderMismatchError> {
  let app: App | undefined;
  try {
    app = await openApp(config(dir), { embedder, maintenance: false });
  } catch (err) {
    expect(err).toBeInstanceOf(EmbedderMismatchError);
    return err as EmbedderMismatchError;
  }
  await app.close();
  throw new Error('opening with another embedder succeeded');
}

describe('embedder mismatch and reembedAll (interrupted, then resumed)', () => {
  let dir: string;
  let contents: Map<string, string>;
  beforeAll(async () => {
    dir = tempDir('memlane-reembed-');
    dirs.push(dir);
    contents = await seed(dir, 600);
  });

  it('opening a local-embedder database with the openai embedder throws EmbedderMismatchError naming both and `memlane reembed`', async () => {
    const err = await mismatchOf(dir, await openai());
    expect(err.name).toBe('EmbedderMismatchError');
    expect(err.message).toMatch(/\blocal\/\S+ \(\d+ dimensions\)/);
    expect(err.message).toContain('openai/fake-model (64 dimensions)');
    expect(err.message).toContain('memlane reembed');
  });

  it('a reembed that fails midway leaves the database on the old embedder with every memory intact', async () => {
    // Page 1 (256 rows) succeeds, then page 2 fails on every attempt (1 + 2 retries).
    fake.failNext({}, ...Array.from({ length: 3 }, () => ({ status: 500, message: 'provider fell over', headers: FAST })));
    const before = fake.requests.length;
    const app = await openApp(config(dir), { embedder: await openai({ maxRetries: 2 }), maintenance: false, adopt: true });
    const progress: ReembedProgress[] = [];
    try {
      await expect(reembedAll(app.db, app.embedder, (p) => progress.push({ ...p }))).rejects.toThrow(/provider fell over/);
    } finally {
      await app.close();
    }
    expect(fake.requests.length - before).toBe(4);
    expect(progress[0]).toEqual({ done: 0, total: 600 });
    expect(progress.at(-1)!.done).toBeGreaterThan(0);
    expect(progress.at(-1)!.done).toBeLessThan(600);

    // Still the old embedder: openai is refused, local opens and sees everything.
    await mismatchOf(dir, await openai());
    const h = await startHarness({ dir });
    try {
      expect(h.app.db.embedder.provider).toBe('local');
      await expectIntact(h, contents);
      const [id, content] = [...contents].find(([, c]) => c.startsWith('note 42:'))!;
      const s = await h.ok('batch_search', { queries: [{ query: content, mode: 'hybrid', limit: 5 }, { query: content, mode: 'vector', limit: 1 }] });
      expect(s.results[0].results[0].id).toBe(id);
      expect(s.results[1].results[0].id).toBe(id);
    } finally {
      await h.close();
    }
  });

  it('a second run resumes: fewer requests than a full run, and every memory exactly once', async () => {
    const before = fake.requests.length;
    const app = await openApp(config(dir), { embedder: await openai(), maintenance: false, adopt: true });
    let result;
    const progress: ReembedProgress[] = [];
    try {
      result = await reembedAll(app.db, app.embedder, (p) => progress.push({ ...p }));
    } finally {
      await app.close();
    }
    const requests = fake.requests.slice(before);
    // A full run is 3 requests (pages of 256, 256, 88); the first page was carried over.
    expect(requests.length).toBeLessThan(3);
    expect(requests.reduce((n, r) => n + r.inputs.length, 0)).toBe(600 - result.resumed);
    expect(result.resumed).toBeGreaterThan(0);
    expect(result).toMatchObject({ memories: 600, from: { provider: 'local' }, to: { provider: 'openai', model: 'fake-model', dim: DIM } });
    expect(progress[0]!.done).toBe(result.resumed);
    expect(progress.at(-1)).toEqual({ done: 600, total: 600 });

    // Now the database belongs to the new embedder.
    await expect(openApp(config(dir), { maintenance: false })).rejects.toBeInstanceOf(EmbedderMismatchError);
    const h = await startHarness({ dir, embedder: await openai() });
    try {
      expect(h.app.db.embedder).toEqual({ provider: 'openai', model: 'fake-model', dim: DIM });
      expect(await h.app.db.getMeta('reembed_target')).toBeUndefined();
      await expectIntact(h, contents);
      // The vectors are the new embedder's: a vector query with exactly the embedded
      // text (what the full-text index sees: content, then short metadata strings) scores 1.
      const [id, content] = [...contents].find(([, c]) => c.startsWith('note 300:'))!;
      const s = await h.ok('batch_search', {
        queries: [
          { query: `${content}\nit's "fine"`, mode: 'vector', limit: 1 },
          { query: 'amber lantern', mode: 'text', limit: 100 },
          { query: content, mode: 'hybrid', limit: 3 },
        ],
      });
      expect(s.results[0].results[0].id).toBe(id);
      expect(s.results[0].results[0].score).toBeCloseTo(1, 5);
      expect(s.results[1].results.filter((x: any) => x.content.includes('amber')).length).toBe(100);
      expect(s.results[2].results[0].id).toBe(id);
      // Sessions and write order came across: note 300's neighbours in its session are notes 199 and 301.
      const idOfNote = (n: number) => [...contents].find(([, c]) => c.startsWith(`note ${n}:`))![0];
      const ctx = await h.ok('batch_search', { queries: [{ query: content, mode: 'text', limit: 1, context: 1 }] });
      expect(ctx.results[0].results[0].id).toBe(id);
      expect(ctx.results[0].results[0].context.map((c: any) => c.id)).toEqual([idOfNote(199), idOfNote(301)]);
      // Tags and metadata came across too.
      const got = await h.ok('batch_get', { ids: [id] });
      expect(got.results[0].memory).toMatchObject({ tags: ['t6'], metadata: { n: 300, quote: "it's \"fine\"" } });
    } finally {
      await h.close();
    }
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the fake provider answers from this process.
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('`memlane reembed` on the command line', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\` first`);
  });

  it('re-embeds every memory with the configured openai embedder; the database then opens with it', async () => {
    const dir = tempDir('memlane-reembed-cli-');
    dirs.push(dir);
    const contents = await seed(dir, 150);
    const env = {
      MEMLANE_DB: dir,
      MEMLANE_EMBEDDER: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'k',
      MEMLANE_EMBED_MODEL: 'fake-model',
      MEMLANE_EMBED_DIM: String(DIM),
      MEMLANE_MAINTENANCE_INTERVAL_MS: '0',
    };
    const before = fake.requests.length;
    const run = await runCli(['reembed'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('openai/fake-model (64 dimensions)');
    expect(run.stderr).toContain('150 memories re-embedded');
    const inputs = fake.requests.slice(before).reduce((n, r) => n + r.inputs.length, 0);
    expect(inputs).toBe(150);

    await expect(openApp(config(dir), { maintenance: false })).rejects.toBeInstanceOf(EmbedderMismatchError);
    const h = await startHarness({ dir, embedder: await openai() });
    try {
      await expectIntact(h, contents);
      const [id, content] = [...contents][77]!;
      const s = await h.ok('batch_search', { queries: [{ query: `${content}\nit's "fine"`, mode: 'vector', limit: 1 }, { query: 'lantern', mode: 'text', limit: 5 }] });
      expect(s.results[0].results[0].id).toBe(id);
      expect(s.results[0].results[0].score).toBeCloseTo(1, 5);
      expect(s.results[1].total).toBe(5);
    } finally {
      await h.close();
    }

    // Running it again with the same configuration has nothing to do.
    const again = await runCli(['reembed'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to do');
  });
});
