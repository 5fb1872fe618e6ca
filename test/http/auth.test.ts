import { describe, expect, it } from 'vitest';
import { runCli } from '../e2e/_spawn.js';
import { uniqueWord } from '../tools/_helpers.js';
import { JSON_HEADERS, initializeBody, raw, useHttpHarness } from './_http.js';

/** What the agent's own token finds for a word: the public way to see what was written. */
const contentsWith = async (h: ReturnType<ReturnType<typeof useHttpHarness>>, agent: string, word: string): Promise<string[]> => {
  const c = await h.client(await h.token(agent));
  const out = await c.ok('batch_search', { queries: [{ query: word, mode: 'text', limit: 100 }] });
  return out.results[0].results.map((r: any) => r.content as string);
};

/** A tool call with its own initialize, as raw HTTP: what a client with a bad token sends. */
const rememberBody = (content: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'batch_remember', arguments: { memories: [{ content }] } } });

describe('HTTP auth: every request proves its agent and session', () => {
  const h = useHttpHarness();

  const expect401 = async (authorization: string | undefined, code: string) => {
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (authorization !== undefined) headers.Authorization = authorization;
    const res = await raw(h().url, { headers, body: initializeBody });
    expect(res.status, authorization).toBe(401);
    expect(res.headers['www-authenticate'], authorization).toMatch(/^Bearer realm="memlane"/);
    expect(res.json().error.data.code).toBe(code);
    expect(res.json().error.message).toMatch(new RegExp(code));
    if (authorization) expect(res.text).not.toContain(authorization.replace(/^\S+\s*/, '') || '\u0000');
    return res;
  };

  it('a missing token is 401 with WWW-Authenticate: Bearer and a JSON body naming the problem', async () => {
    const res = await expect401(undefined, 'UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="memlane"');
    expect(res.json().error.message).toMatch(/Authorization: Bearer/);
  });

  it('a malformed header, an unknown token, a revoked token: 401 UNAUTHORIZED, with error="invalid_token"', async () => {
    await expect401('Basic dXNlcjpwYXNz', 'UNAUTHORIZED');
    await expect401('Bearer', 'UNAUTHORIZED');
    await expect401('Bearer not-a-token', 'UNAUTHORIZED');
    const unknown = await expect401(`Bearer mlt_${'A'.repeat(43)}`, 'UNAUTHORIZED');
    expect(unknown.headers['www-authenticate']).toContain('error="invalid_token"');
    const token = await h().token('alice');
    const [session] = (await h().app.sessions.list('alice')).slice(-1);
    await h().app.sessions.revoke(session!.session_id);
    await expect401(`Bearer ${token}`, 'UNAUTHORIZED');
  });

  it('an expired token is 401 SESSION_EXPIRED', async () => {
    const token = await h().token('alice', { now: Date.now() - 60_000, ttlMs: 1_000 });
    await expect401(`Bearer ${token}`, 'SESSION_EXPIRED');
  });

  it('a refused request reads and writes nothing, whatever its body says', async () => {
    const w = uniqueWord();
    for (const authorization of [undefined, 'Bearer nope', `Bearer mlt_${'B'.repeat(43)}`]) {
      const headers: Record<string, string> = { ...JSON_HEADERS, 'Mcp-Protocol-Version': '2025-11-25' };
      if (authorization) headers.Authorization = authorization;
      expect((await raw(h().url, { headers, body: rememberBody(`${w} sneaked in`) })).status).toBe(401);
    }
    expect(await contentsWith(h(), 'alice', w)).toEqual([]);
  });

  it('a token never appears in a log line or error, even a wrong one', async () => {
    const token = await h().token('alice');
    const c = await h().client(token);
    const res = await c.call('batch_remember', { memories: [{ content: 'x' }], agent_id: 'bob' });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res)).not.toContain(token);
    expect(JSON.stringify(c.logs)).not.toContain(token);
  });

  it("a token for agent A can never read, update, delete or even detect agent B's ids", async () => {
    const w = uniqueWord();
    const alice = await h().client(await h().token('alice'));
    const bob = await h().client(await h().token('bob'));
    const bobs = await bob.ok('batch_remember', { memories: [{ content: `${w} bob's secret`, id: `${w}-bob` }] });
    const bobId = bobs.results[0].id as string;
    const missing = `${w}-nobody`;

    // Every answer about B's id is exactly the answer about an id that exists nowhere.
    const same = async (name: string, args: (id: string) => Record<string, unknown>) => {
      const a = await alice.ok(name, args(bobId));
      const b = await alice.ok(name, args(missing));
      const strip = (r: any, id: string) => JSON.parse(JSON.stringify(r).replaceAll(id, '<id>'));
      expect(strip(a.results, bobId), name).toEqual(strip(b.results, missing));
      expect(a.results[0].error.code, name).toBe('NOT_FOUND');
    };
    await same('batch_get', (id) => ({ ids: [id] }));
    await same('batch_update', (id) => ({ updates: [{ id, content: 'hijacked' }] }));
    await same('batch_delete', (id) => ({ ids: [id] }));
    const found = await alice.ok('batch_search', { queries: [{ query: `${w} secret`, mode: 'text' }] });
    expect(found.results[0].total).toBe(0);

    // An upsert with B's id lands in A's own namespace; B's memory is untouched.
    const up = await alice.ok('batch_remember', { memories: [{ id: bobId, content: `${w} alice's own` }] });
    expect(up.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    const still = await bob.ok('batch_get', { ids: [bobId] });
    expect(still.results[0].memory.content).toBe(`${w} bob's secret`);
  });

  it('neither the session_token argument nor agent_id can widen or switch the header’s scope', async () => {
    const w = uniqueWord();
    const alice = await h().client(await h().token('alice'));
    const bobToken = await h().token('bob');
    const bob = await h().client(bobToken);
    const bobId = (await bob.ok('batch_remember', { memories: [{ content: `${w} only bob` }] })).results[0].id;

    const viaArg = await alice.ok('batch_get', { ids: [bobId], session_token: bobToken });
    expect(viaArg.agent_id).toBe('alice');
    expect(viaArg.results[0].error.code).toBe('NOT_FOUND');

    const viaAgent = await alice.call('batch_get', { ids: [bobId], agent_id: 'bob' });
    expect(viaAgent.isError).toBe(true);
    expect((viaAgent.content[0] as { text: string }).text).toMatch(/^UNAUTHORIZED/);
  });

  it("an MCP session belongs to the token that opened it: another token's request on it is 404", async () => {
    const alice = await h().client(await h().token('alice'));
    const bobToken = await h().token('bob');
    const res = await raw(h().url, {
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${bobToken}`, 'Mcp-Session-Id': alice.transport.sessionId!, 'Mcp-Protocol-Version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(res.json().error.code).toBe(-32001);
  });

  it('a session revoked from the command line in another process fails at the next request of an open MCP session', async () => {
    const token = await h().token('carol');
    const c = await h().client(token);
    const w = uniqueWord();
    expect((await c.ok('batch_remember', { memories: [{ content: `${w} before` }] })).succeeded).toBe(1);
    const [session] = await h().app.sessions.list('carol');
    const revoked = await runCli(['session', 'revoke', session!.session_id], { MEMLANE_DB: h().dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    expect(revoked.code, revoked.stderr).toBe(0);
    await expect(c.call('batch_remember', { memories: [{ content: `${w} after` }] })).rejects.toMatchObject({ code: 401, message: expect.stringMatching(/UNAUTHORIZED/) });
    expect(await contentsWith(h(), 'carol', w)).toEqual([`${w} before`]);
  });
});
