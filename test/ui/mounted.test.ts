/**
 * `memlane serve --http --ui`: the inspector beside /mcp in one process,
 * spoken to with plain HTTP requests (the browser tests are in
 * inspector.test.ts). Each door keeps its own key: an agent's bearer token
 * does not open /ui, the inspector's cookie does not open /mcp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, spawnRaw, tempDir, type RawChild } from '../e2e/_spawn.js';
import { type HttpClient, JSON_HEADERS, connectClient, initializeBody, raw } from '../http/_http.js';
import { LoginLinks, waitForStderr } from './_ui.js';

let env: Record<string, string>;
let server: RawChild;
let mcpUrl: string;
let origin: string;
let links: LoginLinks;
let token: string;
let agent: HttpClient;

async function signIn(): Promise<string> {
  const res = await raw(await links.next(), { method: 'GET' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/ui/');
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  expect(cookie).toMatch(/^memlane_ui=[A-Za-z0-9_-]{43}$/);
  return cookie;
}

/** The form token of a signed-in page (every form carries it). */
async function csrfOf(cookie: string, path: string): Promise<string> {
  const page = await raw(`${origin}${path}`, { method: 'GET', headers: { Cookie: cookie } });
  expect(page.status).toBe(200);
  return /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
}

const post = (cookie: string, path: string, form: Record<string, string>) =>
  raw(`${origin}${path}`, {
    method: 'POST',
    headers: { Cookie: cookie, Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

beforeAll(async () => {
  env = { MEMLANE_DB: tempDir('memlane-ui-mounted-'), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' };
  const made = await runCli(['session', 'create', '--agent', 'alice'], env);
  expect(made.code, made.stderr).toBe(0);
  token = made.stdout.trim();
  server = spawnRaw(env, ['serve', '--http', '--ui', '--port', '0']);
  mcpUrl = (await waitForStderr(server, /listening on (http:\/\/\S+\/mcp)/, 'its URL'))[1]!;
  origin = mcpUrl.slice(0, -'/mcp'.length);
  await waitForStderr(server, /inspector at http:\/\/\S+\/ui\/login\?secret=/, 'the login link');
  links = new LoginLinks(server);
  agent = await connectClient(mcpUrl, token);
}, 60_000);

afterAll(async () => {
  await agent?.close().catch(() => undefined);
  await cleanup();
});

describe('memlane serve --http --ui', () => {
  it('prints a login link on the same origin as /mcp, and the inspector answers only to its own cookie', async () => {
    expect(links.all()[0]!.startsWith(`${origin}/ui/login?secret=`)).toBe(true);
    expect((await raw(`${origin}/ui/`, { method: 'GET' })).status).toBe(401);
    expect((await raw(`${origin}/ui/`, { method: 'GET', headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await raw(`${origin}/`, { method: 'GET' })).headers.location).toBe('/ui/');

    const cookie = await signIn();
    const page = await raw(`${origin}/ui/`, { method: 'GET', headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('<h1>Agents</h1>');
    // Its own origin check is on as for /mcp: a foreign Host (DNS rebinding) is refused before anything.
    const rebound = await raw(`${origin}/ui/`, { method: 'GET', headers: { Cookie: cookie, Host: 'evil.example' } });
    expect(rebound.status).toBe(403);
  });

  it('the inspector cookie does not open /mcp, and the bearer token still does', async () => {
    const cookie = await signIn();
    const res = await raw(mcpUrl, { method: 'POST', headers: { ...JSON_HEADERS, Cookie: cookie }, body: initializeBody });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await agent.ok('batch_get', { ids: ['nothing-here'] })).results[0].error.code).toBe('NOT_FOUND');
  });

  it("an edit made in the inspector is the agent's next batch_get, and the agent's searches fill the latency chart", async () => {
    const wrote = await agent.ok('batch_remember', { memories: [{ content: 'The office plant is a fern', tags: ['office'] }] });
    const id = wrote.results[0].id as string;
    await agent.ok('batch_search', { queries: [{ query: 'office plant' }] });
    const cookie = await signIn();
    const csrf = await csrfOf(cookie, `/ui/agents/alice/memory?id=${id}`);
    const res = await post(cookie, '/ui/agents/alice/memory/edit', {
      csrf,
      id,
      expected_version: '1',
      content: 'The office plant is a ficus',
      title: '',
      tags: 'office, plants',
      importance: '0.5',
      expires_at: '',
      metadata: '{}',
    });
    expect(res.status).toBe(303);
    const got = (await agent.ok('batch_get', { ids: [id] })).results[0].memory;
    expect(got).toMatchObject({ version: 2, content: 'The office plant is a ficus', tags: ['office', 'plants'] });

    const overview = await raw(`${origin}/ui/`, { method: 'GET', headers: { Cookie: cookie } });
    expect(overview.text).toMatch(/data-p50>\d+\.\d ms</);
    expect(overview.text).toContain('data-chart="latency"');
    expect(server.stderr()).toContain(`inspector: batch_update agent=alice id=${id}: updated (version 2)`);
    expect(server.stderr()).not.toContain('ficus');
  });

  it('a session revoked in the inspector is refused by /mcp at its next request, even inside an open MCP session', async () => {
    const made = await runCli(['session', 'create', '--agent', 'alice', '--json'], env);
    const other = JSON.parse(made.stdout) as { token: string; session_id: string };
    const client = await connectClient(mcpUrl, other.token);
    await client.ok('batch_get', { ids: ['x'] });
    const cookie = await signIn();
    const csrf = await csrfOf(cookie, '/ui/sessions');
    const wrongToken = await post(cookie, `/ui/sessions/${other.session_id}/revoke`, { csrf: `${csrf}x` });
    expect(wrongToken.status).toBe(403);
    await client.ok('batch_get', { ids: ['x'] });
    const revoked = await post(cookie, `/ui/sessions/${other.session_id}/revoke`, { csrf });
    expect(revoked.status).toBe(303);
    await expect(client.call('batch_get', { ids: ['x'] })).rejects.toThrow(/401|UNAUTHORIZED/);
    await client.close().catch(() => undefined);
  });

  it('signing out ends the browser session: its cookie opens nothing after', async () => {
    const cookie = await signIn();
    const csrf = await csrfOf(cookie, '/ui/');
    const out = await post(cookie, '/ui/logout', { csrf });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await raw(`${origin}/ui/`, { method: 'GET', headers: { Cookie: cookie } })).status).toBe(401);
  });

  it('--ui needs --http, and `memlane ui` refuses a bad port before opening anything', async () => {
    const noHttp = await runCli(['serve', '--ui'], env);
    expect(noHttp.code).toBe(2);
    expect(noHttp.stderr).toContain('--ui need --http');
    const badPort = await runCli(['ui', '--port', 'eighty'], env);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port');
  });
});
