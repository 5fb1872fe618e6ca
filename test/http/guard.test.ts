import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { assertBindAllowed } from '../../src/transport/http.js';
import { uniqueWord } from '../tools/_helpers.js';
import { JSON_HEADERS, initializeBody, raw, useHttpHarness } from './_http.js';

const LIMIT = 64 * 1024;

describe('HTTP guard: Origin, Host, body limit, rate limit', () => {
  const h = useHttpHarness({ MEMLANE_MAX_BODY: String(LIMIT), MEMLANE_RATE_LIMIT: '5/min' });

  const auth = async () => ({ ...JSON_HEADERS, Authorization: `Bearer ${await h().token('alice')}` });

  it('a foreign Origin is 403, before the token is even looked at', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1.evil.example']) {
      const res = await raw(h().url, { headers: { ...(await auth()), Origin: origin }, body: initializeBody });
      expect(res.status, origin).toBe(403);
      expect(res.json().error.data.code).toBe('FORBIDDEN');
    }
    const noToken = await raw(h().url, { headers: { ...JSON_HEADERS, Origin: 'https://evil.example' }, body: initializeBody });
    expect(noToken.status).toBe(403);
  });

  it('a loopback Origin passes by default and gets CORS headers', async () => {
    const port = new URL(h().url).port;
    const res = await raw(h().url, { headers: { ...(await auth()), Origin: `http://localhost:${port}` }, body: initializeBody });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(`http://localhost:${port}`);
    const preflight = await raw(h().url, { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:3000', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
  });

  it('on a loopback bind, a Host that is not a loopback name is 403 (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8787', '10.0.0.1']) {
      const res = await raw(h().url, { headers: { ...(await auth()), Host: host }, body: initializeBody });
      expect(res.status, host).toBe(403);
      expect(res.json().error.message).toMatch(/loopback/);
    }
    for (const host of ['localhost', `127.0.0.1:${new URL(h().url).port}`, '[::1]:1234']) {
      expect((await raw(h().url, { headers: { ...(await auth()), Host: host }, body: initializeBody })).status, host).toBe(200);
    }
  });

  it('a body that declares more than MEMLANE_MAX_BODY is 413 PAYLOAD_TOO_LARGE, and nothing is written', async () => {
    const w = uniqueWord();
    const headers = await auth();
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'batch_remember', arguments: { memories: [{ content: `${w} ${'x'.repeat(LIMIT)}` }] } },
    });
    const res = await raw(h().url, { headers, body });
    expect(res.status).toBe(413);
    expect(res.json().error.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.json().error.message).toMatch(/MEMLANE_MAX_BODY/);
    const c = await h().client(await h().token('alice'));
    const found = await c.ok('batch_search', { queries: [{ query: w, mode: 'text' }] });
    expect(found.results[0].total).toBe(0);
  });

  it('a chunked body is cut off at the limit: 413, without reading the rest', async () => {
    const headers = await auth();
    const chunk = Buffer.alloc(16 * 1024, 'x');
    // 16 × 16 KiB = 256 KiB, four times the limit, sent without Content-Length.
    const res = await raw(h().url, { headers, body: Array.from({ length: 16 }, () => chunk) });
    expect(res.status).toBe(413);
    expect(res.json().error.data.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a body under the limit passes', async () => {
    const res = await raw(h().url, { headers: await auth(), body: initializeBody });
    expect(res.status).toBe(200);
  });

  it('over the rate limit, a token gets 429 with Retry-After; another token is unaffected', async () => {
    const limited = await auth();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await raw(h().url, { headers: limited, body: initializeBody })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const res = await raw(h().url, { headers: limited, body: initializeBody });
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.json().error.data.code).toBe('RATE_LIMITED');
    expect((await raw(h().url, { headers: await auth(), body: initializeBody })).status).toBe(200);
  });

  it('a refused request on an open MCP session is also told to that session as a log message', async () => {
    const token = await h().token('alice');
    const c = await h().client(token); // initialize, initialized, GET stream, tools/list: 4 of the 5
    await c.ok('batch_get', { ids: ['nope'] });
    await expect(c.call('batch_get', { ids: ['nope'] })).rejects.toMatchObject({ code: 429 });
    // The message travels on the session's GET stream, which the client opens on its own: if it was not up yet, the next refusal tells it.
    await expect
      .poll(
        async () => {
          await c.call('batch_get', { ids: ['nope'] }).catch(() => undefined);
          return c.logs.map((l) => String(l.data)).join('\n');
        },
        { timeout: 10_000 },
      )
      .toMatch(/request refused: 429 RATE_LIMITED/);
  });
});

describe('HTTP guard: allowed origins and the bind address', () => {
  const h = useHttpHarness({ MEMLANE_ALLOWED_ORIGINS: 'https://app.example.com' });

  it('MEMLANE_ALLOWED_ORIGINS replaces the loopback default with exactly those origins', async () => {
    const headers = { ...JSON_HEADERS, Authorization: `Bearer ${await h().token('alice')}` };
    expect((await raw(h().url, { headers: { ...headers, Origin: 'https://app.example.com' }, body: initializeBody })).status).toBe(200);
    expect((await raw(h().url, { headers: { ...headers, Origin: 'https://app.example.com:8443' }, body: initializeBody })).status).toBe(403);
    expect((await raw(h().url, { headers: { ...headers, Origin: 'http://localhost:3000' }, body: initializeBody })).status).toBe(403);
  });

  it('a non-loopback bind is refused without MEMLANE_ALLOWED_ORIGINS or --public', () => {
    const plain = loadConfig({ MEMLANE_DB: '/nonexistent' });
    expect(() => assertBindAllowed(plain, { host: '0.0.0.0', port: 8787 })).toThrow(/not a loopback address.*--public/);
    expect(() => assertBindAllowed(plain, { host: '0.0.0.0', port: 8787, public: true })).not.toThrow();
    expect(() => assertBindAllowed(plain, { host: '127.0.0.1', port: 8787 })).not.toThrow();
    expect(() => assertBindAllowed(plain, { host: '::1', port: 8787 })).not.toThrow();
    const allowed = loadConfig({ MEMLANE_DB: '/nonexistent', MEMLANE_ALLOWED_ORIGINS: 'https://app.example.com' });
    expect(() => assertBindAllowed(allowed, { host: '0.0.0.0', port: 8787 })).not.toThrow();
  });

  it('the HTTP variables are validated at start-up', () => {
    expect(loadConfig({ MEMLANE_MAX_BODY: '10MiB' }).http.maxBodyBytes).toBe(10 * 1024 * 1024);
    expect(loadConfig({}).http.maxBodyBytes).toBe(10 * 1024 * 1024);
    expect(loadConfig({ MEMLANE_RATE_LIMIT: '600/min' }).http.rateLimit).toEqual({ points: 600, windowSeconds: 60 });
    expect(loadConfig({}).http.rateLimit).toBeUndefined();
    expect(() => loadConfig({ MEMLANE_RATE_LIMIT: 'lots' })).toThrow(/MEMLANE_RATE_LIMIT/);
    expect(() => loadConfig({ MEMLANE_MAX_BODY: 'big' })).toThrow(/MEMLANE_MAX_BODY/);
    expect(() => loadConfig({ MEMLANE_ALLOWED_ORIGINS: 'https://app.example.com/path' })).toThrow(/MEMLANE_ALLOWED_ORIGINS/);
  });
});
