/**
 * Sessions made, listed and revoked by `memlane session …` in separate
 * processes count in a server that is already running (contract §1, §6);
 * the open local default; the command line's usage errors, --help, --version.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PKG_VERSION, SESSION_ID_RE, TOKEN_RE, assertBuilt, cleanup, runCli, startMcp, tempDir, textOf } from './_spawn.js';

interface ListedSession {
  session_id: string;
  agent_id: string;
  origin: string;
  state: 'active' | 'revoked' | 'expired';
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

describe('session command line against a running server', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it('create → use → list → revoke, across processes, while the server keeps running', { timeout: 25_000 }, async () => {
    const dir = tempDir();
    const db = { MEMLANE_DB: dir };
    const server = await startMcp({ ...db, MEMLANE_REQUIRE_TOKEN: '1' });

    // No open default: without a token the call fails as a whole.
    const anonymous = await server.call('batch_search', { queries: [{ query: 'anything' }] });
    expect(anonymous.isError).toBe(true);
    expect(textOf(anonymous)).toMatch(/^UNAUTHORIZED/);

    // ---- create, in its own process
    const before = Date.now();
    const created = await runCli(['session', 'create', '--agent', 'alice', '--ttl', '7d'], db);
    expect(created.code, created.stderr).toBe(0);
    const outLines = created.stdout.split('\n');
    expect(outLines).toHaveLength(2); // one line and its newline
    expect(outLines[1]).toBe('');
    const token = outLines[0]!;
    expect(token).toMatch(TOKEN_RE);
    expect(created.stderr).toContain('"alice"');
    const sessionId = SESSION_ID_RE.exec(created.stderr)?.[0];
    expect(sessionId, created.stderr).toBeDefined();
    expect(created.stderr).not.toContain(token); // printed once, on stdout only

    // ---- the running server accepts it at once
    const wrote = await server.ok('batch_remember', { session_token: token, memories: [{ content: 'Alice prefers tea over coffee.' }] });
    expect(wrote).toMatchObject({ agent_id: 'alice', namespace: 'agent:alice', session_id: sessionId, succeeded: 1 });
    const found = await server.ok('batch_search', { session_token: token, queries: [{ query: 'tea or coffee' }] });
    expect(found.results[0].results[0].content).toBe('Alice prefers tea over coffee.');

    // ---- list, human and JSON
    const listed = await runCli(['session', 'list', '--agent', 'alice'], db);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(sessionId);
    expect(listed.stdout).toMatch(new RegExp(`${sessionId}\\s+alice\\s+active`));
    expect(listed.stdout).not.toContain(token);

    const listedJson = await runCli(['session', 'list', '--agent', 'alice', '--json'], db);
    expect(listedJson.code, listedJson.stderr).toBe(0);
    const rows = JSON.parse(listedJson.stdout) as ListedSession[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ session_id: sessionId, agent_id: 'alice', state: 'active', revoked_at: null });
    const expiresIn = Date.parse(rows[0]!.expires_at) - before;
    expect(expiresIn).toBeGreaterThanOrEqual(7 * 86_400_000 - 1_000);
    expect(expiresIn).toBeLessThan(7 * 86_400_000 + 60_000);
    expect(JSON.stringify(rows)).not.toContain(token);

    // ---- revoke in another process: the running server refuses the token from its next call
    const revoked = await runCli(['session', 'revoke', sessionId!], db);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain(sessionId);

    const refused = await server.call('batch_search', { session_token: token, queries: [{ query: 'tea' }] });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/^UNAUTHORIZED/);
    const refusedWrite = await server.call('batch_remember', { session_token: token, memories: [{ content: 'must not be stored' }] });
    expect(refusedWrite.isError).toBe(true);
    expect(textOf(refusedWrite)).toMatch(/^UNAUTHORIZED/);

    const afterRevoke = JSON.parse((await runCli(['session', 'list', '--agent', 'alice', '--json'], db)).stdout) as ListedSession[];
    expect(afterRevoke[0]).toMatchObject({ session_id: sessionId, state: 'revoked' });
    expect(Date.parse(afterRevoke[0]!.revoked_at ?? '')).toBeGreaterThan(0);

    // Revoking again: nothing active to revoke.
    const again = await runCli(['session', 'revoke', sessionId!], db);
    expect(again.code).toBe(1);

    const exit = await server.close();
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it('a server started with MEMLANE_SESSION_TOKEN acts for that session without the argument', { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const db = { MEMLANE_DB: dir };
    const created = await runCli(['session', 'create', '--agent', 'alice', '--ttl', '1h'], db);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(TOKEN_RE);
    const sessionId = SESSION_ID_RE.exec(created.stderr)?.[0];

    const server = await startMcp({ ...db, MEMLANE_SESSION_TOKEN: token, MEMLANE_AGENT: 'carol' });
    const wrote = await server.ok('batch_remember', { memories: [{ content: 'Alice works on the lighthouse project.' }] });
    expect(wrote).toMatchObject({ agent_id: 'alice', namespace: 'agent:alice', session_id: sessionId });

    // Naming another agent than the token's fails the whole call.
    const other = await server.call('batch_get', { agent_id: 'bob', ids: [wrote.results[0].id] });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toMatch(/^UNAUTHORIZED/);

    // The env token is not logged.
    expect(server.stderr()).not.toContain(token);
    const exit = await server.close();
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it('the open local default acts as MEMLANE_AGENT', { timeout: 15_000 }, async () => {
    const dir = tempDir();
    const server = await startMcp({ MEMLANE_DB: dir, MEMLANE_AGENT: 'carol' });
    const wrote = await server.ok('batch_remember', { memories: [{ content: 'Carol keeps bees on the roof.' }] });
    expect(wrote).toMatchObject({ agent_id: 'carol', namespace: 'agent:carol', succeeded: 1 });
    expect(wrote.session_id).toMatch(new RegExp(`^${SESSION_ID_RE.source}$`));
    const found = await server.ok('batch_search', { queries: [{ query: 'bees' }] });
    expect(found.agent_id).toBe('carol');
    expect(found.results[0].results[0].content).toBe('Carol keeps bees on the roof.');

    // The minted default session is visible to the command line, under carol.
    const listed = await runCli(['session', 'list', '--agent', 'carol', '--json'], { MEMLANE_DB: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as ListedSession[];
    expect(rows.map((r) => r.session_id)).toContain(wrote.session_id);
    expect(rows.find((r) => r.session_id === wrote.session_id)).toMatchObject({ agent_id: 'carol', state: 'active' });

    const exit = await server.close();
    expect(exit).toMatchObject({ code: 0, signal: null });
  });
});

describe('command line usage', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it.each([
    { name: 'session create without --agent', args: ['session', 'create'], says: /--agent/ },
    { name: 'session create with --ttl 5x', args: ['session', 'create', '--agent', 'alice', '--ttl', '5x'], says: /ttl/i },
    { name: 'session create with an unknown option', args: ['session', 'create', '--agent', 'alice', '--bogus'], says: /bogus/ },
    { name: 'session revoke with a malformed id', args: ['session', 'revoke', 'nope'], says: /"nope" is not a session id/ },
    { name: 'an unknown command', args: ['frobnicate'], says: /unknown command "frobnicate"/ },
  ])('$name exits 2 with a message on stderr and nothing on stdout', { timeout: 10_000 }, async ({ args, says }) => {
    const dir = tempDir();
    const run = await runCli(args, { MEMLANE_DB: dir });
    expect(run.code, `exit status; stderr was:\n${run.stderr}`).toBe(2);
    expect(run.stderr).toMatch(says);
    expect(run.stderr, 'a usage message, not a stack trace').not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
  });

  it('--version prints the package version', { timeout: 10_000 }, async () => {
    const run = await runCli(['--version'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${PKG_VERSION}\n`);
  });

  it('--help prints usage', { timeout: 10_000 }, async () => {
    const run = await runCli(['--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage:/m);
    expect(run.stdout).toContain('memlane session create --agent <id>');
    expect(run.stdout).toContain('memlane session revoke <session_id>');
    expect(run.stdout).toContain('--version');
  });
});
