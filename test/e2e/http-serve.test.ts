import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/commands/serve.js';
import { connectClient, raw } from '../http/_http.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { cleanup, runCli, spawnRaw, tempDir, type RawChild } from './_spawn.js';

/** Waits for `memlane: listening on <url>` on the child's stderr. */
async function listeningUrl(child: RawChild): Promise<string> {
  const until = Date.now() + 20_000;
  for (;;) {
    const m = /listening on (http:\/\/\S+\/mcp)/.exec(child.stderr());
    if (m) return m[1]!;
    if (child.child.exitCode !== null) throw new Error(`memlane exited: ${child.stderr()}`);
    if (Date.now() > until) throw new Error(`memlane did not start listening: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

describe('memlane serve --http (a real process)', () => {
  afterEach(cleanup);

  it('SIGTERM with a call in flight: the call finishes and is stored, new requests are refused, the port is released, exit 0', async () => {
    const fake = await startFakeOpenAI({ dim: 16 });
    try {
      const env = {
        MEMLANE_DB: tempDir(),
        MEMLANE_EMBEDDER: 'openai',
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        MEMLANE_EMBED_MODEL: 'fake-embed',
        MEMLANE_EMBED_DIM: '16',
      };
      const made = await runCli(['session', 'create', '--agent', 'alice'], env);
      expect(made.code, made.stderr).toBe(0);
      const token = made.stdout.trim();

      const server = spawnRaw(env, ['serve', '--http', '--port', '0']);
      const url = await listeningUrl(server);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const port = Number(new URL(url).port);
      const c = await connectClient(url, token);

      let release!: () => void;
      fake.failNext({ gate: new Promise<void>((r) => (release = r)) });
      const asked = fake.requests.length;
      const inFlight = c.call('batch_remember', { memories: [{ content: 'finished during shutdown' }] });
      // The call is in flight once its embedding request has reached the provider.
      await expect.poll(() => fake.requests.length, { timeout: 10_000 }).toBeGreaterThan(asked);

      server.child.kill('SIGTERM');
      // It stops accepting: a new request is refused (503 while draining, or the connection is refused).
      await expect
        .poll(async () => (await raw(url.replace('/mcp', '/healthz'), { method: 'GET' }).then((r) => r.status, () => 'refused')), { timeout: 10_000 })
        .not.toBe(200);

      release();
      const result = await inFlight;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as any).results[0]).toMatchObject({ status: 'ok', action: 'created' });

      const exit = await server.exit;
      expect(exit, server.stderr()).toMatchObject({ code: 0, signal: null });
      expect(await canListen(port)).toBe(true);
      await c.close().catch(() => undefined);

      const exported = await runCli(['export', '--agent', 'alice'], env);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain('finished during shutdown');
      expect(server.stderr()).not.toContain(token);
    } finally {
      await fake.close();
    }
  });

  it('refuses to bind beyond loopback without MEMLANE_ALLOWED_ORIGINS or --public, before opening the database', async () => {
    const dir = tempDir();
    const run = await runCli(['serve', '--http', '--host', '0.0.0.0', '--port', '0'], { MEMLANE_DB: `${dir}/db` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not a loopback address.*MEMLANE_ALLOWED_ORIGINS.*--public/s);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${dir}/db`)).toBe(false);
  });

  it('bad serve arguments are usage errors (exit 2)', async () => {
    const run = await runCli(['serve', '--http', '--port', 'abc'], { MEMLANE_DB: tempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--port/);
    expect(() => parseServeArgs(['--port', '1'])).toThrow(/need --http/);
    expect(() => parseServeArgs(['--http', '--bogus'])).toThrow();
    expect(() => parseServeArgs(['--http', '--port', '70000'])).toThrow(/--port/);
    expect(parseServeArgs(['--http'])).toEqual({ http: { host: '127.0.0.1', port: 8787, public: false } });
    expect(parseServeArgs([])).toEqual({ http: undefined });
  });
});
