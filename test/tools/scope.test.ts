import { describe, expect, it } from 'vitest';
import { expectCallError, getOne, idsContaining, remember, sleep, uniqueWord, useHarness } from './_helpers.js';

const TOOL_CALLS: Array<[string, Record<string, unknown>]> = [
  ['batch_remember', { memories: [{ content: 'scope probe' }] }],
  ['batch_update', { updates: [{ id: 'x', importance: 0.1 }] }],
  ['batch_delete', { ids: ['x'] }],
  ['batch_search', { queries: [{ query: 'x' }] }],
  ['batch_get', { ids: ['x'] }],
];

describe('scope resolution with the open local default', () => {
  const h = useHarness();

  it('an unknown token is UNAUTHORIZED for every tool and writes nothing', async () => {
    const w = uniqueWord();
    const unknown = `mlt_${'A'.repeat(43)}`;
    for (const [tool, args] of TOOL_CALLS) {
      expectCallError(await h().call(tool, { ...args, session_token: unknown }), 'UNAUTHORIZED');
    }
    expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} x` }], session_token: unknown }), 'UNAUTHORIZED');
    expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} x` }], session_token: 'not-a-token' }), 'UNAUTHORIZED');
    expect(await idsContaining(h(), w)).toEqual([]);
  });

  it('a malformed and an unknown well-formed token fail with the same message', async () => {
    const a = expectCallError(await h().call('batch_get', { ids: ['x'], session_token: 'garbage' }), 'UNAUTHORIZED');
    const b = expectCallError(await h().call('batch_get', { ids: ['x'], session_token: `mlt_${'b'.repeat(43)}` }), 'UNAUTHORIZED');
    expect(a).toBe(b);
  });

  it('a valid token acts as its agent and session', async () => {
    const s = await h().app.sessions.create('carol');
    const out = await remember(h(), [{ content: `carol ${uniqueWord()}` }], { session_token: s.token });
    expect(out).toMatchObject({ agent_id: 'carol', namespace: 'agent:carol', session_id: s.session_id });
    expect((await getOne(h(), out.results[0].id, { session_token: s.token })).session_id).toBe(s.session_id);
  });

  it('a revoked token is UNAUTHORIZED from the next call on', async () => {
    const s = await h().app.sessions.create('dave');
    const w = uniqueWord();
    const ok = await remember(h(), [{ content: `${w} before revoke` }], { session_token: s.token });
    expect(ok.succeeded).toBe(1);
    expect(await h().app.sessions.revoke(s.session_id)).toBe(true);
    for (const [tool, args] of TOOL_CALLS) expectCallError(await h().call(tool, { ...args, session_token: s.token }), 'UNAUTHORIZED');
    expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} after revoke` }], session_token: s.token }), 'UNAUTHORIZED');
    // A fresh session of the same agent still sees only what was written before.
    const again = await h().app.sessions.create('dave');
    expect(await idsContaining(h(), w, 'text', { session_token: again.token })).toEqual([ok.results[0].id]);
  });

  it('an expired token is SESSION_EXPIRED', async () => {
    const s = await h().app.sessions.create('erin', { ttlMs: 1 });
    await sleep(10);
    const w = uniqueWord();
    for (const [tool, args] of TOOL_CALLS) expectCallError(await h().call(tool, { ...args, session_token: s.token }), 'SESSION_EXPIRED');
    const text = expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} x` }], session_token: s.token }), 'SESSION_EXPIRED');
    expect(text).toContain('memlane session create');
    const fresh = await h().app.sessions.create('erin');
    expect(await idsContaining(h(), w, 'text', { session_token: fresh.token })).toEqual([]);
  });

  it("agent_id differing from the token's agent is UNAUTHORIZED; equal is ok", async () => {
    const s = await h().app.sessions.create('frank');
    const w = uniqueWord();
    expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} x` }], session_token: s.token, agent_id: 'default' }), 'UNAUTHORIZED');
    expectCallError(await h().call('batch_get', { ids: ['x'], session_token: s.token, agent_id: 'Frank' }), 'UNAUTHORIZED');
    const ok = await remember(h(), [{ content: `${w} y` }], { session_token: s.token, agent_id: 'frank' });
    expect(ok).toMatchObject({ agent_id: 'frank', succeeded: 1 });
    expect(await idsContaining(h(), w, 'text', { session_token: s.token })).toEqual([ok.results[0].id]);
  });

  it("agent_id with the open default: equal to its agent is ok, any other is UNAUTHORIZED (no switching agents by argument)", async () => {
    const w = uniqueWord();
    expect((await remember(h(), [{ content: `${w} a` }], { agent_id: 'default' })).succeeded).toBe(1);
    expectCallError(await h().call('batch_remember', { memories: [{ content: `${w} b` }], agent_id: 'bob' }), 'UNAUTHORIZED');
    const bob = await h().app.sessions.create('bob');
    expect(await idsContaining(h(), w, 'text', { session_token: bob.token })).toEqual([]);
  });

  it('an invalid agent_id is a whole-call VALIDATION_ERROR', async () => {
    for (const agent_id of ['', 'has space', 'a/b', 'x'.repeat(65), "' OR 1=1 --"]) {
      expectCallError(await h().call('batch_get', { ids: ['x'], agent_id }), 'VALIDATION_ERROR');
    }
  });
});

describe('scope resolution when a token is required', () => {
  const h = useHarness({ requireToken: true });

  it('no token is UNAUTHORIZED for every tool', async () => {
    for (const [tool, args] of TOOL_CALLS) expectCallError(await h().call(tool, args), 'UNAUTHORIZED');
  });

  it('agent_id alone is not a credential', async () => {
    expectCallError(await h().call('batch_get', { ids: ['x'], agent_id: 'default' }), 'UNAUTHORIZED');
  });

  it('a session_token argument works', async () => {
    const s = await h().app.sessions.create('default');
    const out = await remember(h(), [{ content: `required ${uniqueWord()}` }], { session_token: s.token });
    expect(out).toMatchObject({ agent_id: 'default', session_id: s.session_id, succeeded: 1 });
    expect(await getOne(h(), out.results[0].id, { session_token: s.token })).toBeDefined();
  });
});
