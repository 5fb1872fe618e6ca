import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../tools/_helpers.js';
import { JSON_HEADERS, connectClient, initializeBody, raw, useHttpHarness } from './_http.js';

describe('Streamable HTTP: the tools and MCP sessions', () => {
  const h = useHttpHarness();

  it('serves the five tools, with logging declared, to a real StreamableHTTPClientTransport', async () => {
    const c = await h().client(await h().token('alice'));
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['batch_delete', 'batch_get', 'batch_remember', 'batch_search', 'batch_update']);
    expect(c.client.getServerCapabilities()).toMatchObject({ tools: {}, logging: {} });
    expect(c.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('remember, get, update, search and delete round-trip in the bearer token’s agent', async () => {
    const c = await h().client(await h().token('alice'));
    const w = uniqueWord();
    const made = await c.ok('batch_remember', { memories: [{ content: `${w} likes tea` }, { content: `${w} lives in Oslo`, tags: ['place'] }] });
    expect(made).toMatchObject({ agent_id: 'alice', namespace: 'agent:alice', succeeded: 2 });
    const [a, b] = made.results.map((r: any) => r.id as string);

    const got = await c.ok('batch_get', { ids: [a, b] });
    expect(got.results.map((r: any) => r.memory.content)).toEqual([`${w} likes tea`, `${w} lives in Oslo`]);

    const upd = await c.ok('batch_update', { updates: [{ id: a, content: `${w} likes green tea`, expected_version: 1 }] });
    expect(upd.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });

    const found = await c.ok('batch_search', { queries: [{ query: `${w} green tea`, mode: 'text' }] });
    expect(found.results[0].results[0]).toMatchObject({ id: a, content: `${w} likes green tea` });

    const del = await c.ok('batch_delete', { ids: [a, b] });
    expect(del.succeeded).toBe(2);
    const gone = await c.ok('batch_get', { ids: [a] });
    expect(gone.results[0].error.code).toBe('NOT_FOUND');
  });

  it('several clients at once each get their own MCP session', async () => {
    const token = await h().token('alice');
    const clients = await Promise.all([0, 1, 2].map(() => h().client(token)));
    expect(new Set(clients.map((c) => c.transport.sessionId)).size).toBe(3);
    const w = uniqueWord();
    const outs = await Promise.all(clients.map((c, i) => c.ok('batch_remember', { memories: [{ content: `${w} client ${i}` }] })));
    expect(outs.map((o) => o.succeeded)).toEqual([1, 1, 1]);
  });

  it('DELETE /mcp ends a session: its id is unknown from the next request on', async () => {
    const token = await h().token('alice');
    const c = await connectClient(h().url, token);
    const id = c.transport.sessionId!;
    const before = h().http.sessionCount();
    await c.transport.terminateSession();
    await c.close();
    expect(h().http.sessionCount()).toBe(before - 1);
    const res = await raw(h().url, {
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}`, 'Mcp-Session-Id': id, 'Mcp-Protocol-Version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('a GET stream opens for a session (the SDK supports it), and needs the token too', async () => {
    const token = await h().token('alice');
    const init = await raw(h().url, { headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}` }, body: initializeBody });
    expect(init.status).toBe(200);
    expect(init.headers['content-type']).toContain('text/event-stream');
    const sid = init.headers['mcp-session-id'] as string;
    const noToken = await raw(h().url, { method: 'GET', headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
    expect(noToken.status).toBe(401);
    const stream = await fetch(h().url, { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}`, 'Mcp-Session-Id': sid } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await stream.body?.cancel();
  });

  it('a request with no session id that is not an initialize is a 400', async () => {
    const token = await h().token('alice');
    const res = await raw(h().url, { headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(res.status).toBe(400);
  });

  it('a body that is not JSON is a 400 parse error', async () => {
    const token = await h().token('alice');
    const res = await raw(h().url, { headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}` }, body: '{"jsonrpc": "2.0", ' });
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe(-32700);
  });

  it('/healthz reports status and version without a token, and no memory data', async () => {
    const token = await h().token('alice');
    const res = await raw(h().url.replace('/mcp', '/healthz'), { method: 'GET' });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'ok', name: 'memlane', transport: 'streamable-http' });
    expect(typeof body.version).toBe('string');
    expect(Object.keys(body).sort()).toEqual(['name', 'sessions', 'status', 'transport', 'version']);
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain('mlt_');
  });

  it('other paths are 404', async () => {
    expect((await raw(h().url.replace('/mcp', '/nope'), { method: 'GET' })).status).toBe(404);
  });
});
