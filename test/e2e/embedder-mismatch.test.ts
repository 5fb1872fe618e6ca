/**
 * Contract §5: a database remembers which embedder wrote it. Starting the
 * built server on it with another embedder stops with a clear message naming
 * both and `memlane reembed`, never with silently mixed vectors.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { assertBuilt, cleanup, exitWithin, spawnRaw, startMcp, tempDir } from './_spawn.js';

describe('embedder mismatch at start-up', () => {
  let fake: FakeOpenAI | undefined;
  beforeAll(() => assertBuilt());
  afterEach(async () => {
    await cleanup();
    await fake?.close();
    fake = undefined;
  });

  it('a local-embedder database refuses to start with an openai embedder, naming both and `memlane reembed`', { timeout: 20_000 }, async () => {
    const dir = tempDir();

    // A server with the default (local) embedder creates the database and writes to it.
    const first = await startMcp({ MEMLANE_DB: dir });
    const wrote = await first.ok('batch_remember', { memories: [{ content: 'Written with the local embedder.' }] });
    expect(wrote.succeeded).toBe(1);
    expect(await first.close()).toMatchObject({ code: 0, signal: null });

    fake = await startFakeOpenAI({ dim: 64 });
    // stdin stays open, as an MCP client would keep it: the server must stop by itself.
    const srv = spawnRaw({
      MEMLANE_DB: dir,
      MEMLANE_EMBEDDER: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'sk-e2e-fake-key',
      MEMLANE_EMBED_DIM: '64',
      MEMLANE_EMBED_MODEL: 'fake-model',
    });
    const exit = await exitWithin(srv.exit, 10_000, 'memlane with a mismatched embedder');
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();

    const err = srv.stderr();
    expect(err).toMatch(/\blocal\//); // the embedder that wrote the database …
    expect(err).toContain('openai/fake-model'); // … and the configured one
    expect(err).toContain('64 dimensions');
    expect(err).toContain('memlane reembed');
    expect(err, 'a message, not a stack trace').not.toMatch(/^\s+at /m);
    expect(srv.stdout()).toBe(''); // nothing on the protocol channel
    expect(err).not.toContain('sk-e2e-fake-key');

    // The database is untouched: the local embedder still opens it and finds the memory.
    const again = await startMcp({ MEMLANE_DB: dir });
    const got = await again.ok('batch_get', { ids: [wrote.results[0].id] });
    expect(got.results[0].memory.content).toBe('Written with the local embedder.');
    expect(await again.close()).toMatchObject({ code: 0, signal: null });
  });
});
