/**
 * The open local default session (issue 8): every stdio start used to mint a
 * one-year session, so 57 starts left 57 active sessions. Now the session
 * ends when its server exits cleanly, a crashed server's session expires an
 * hour after its last use, a live server's session never lapses (each use
 * slides it), long-ended ones are deleted, and `session list` tells them
 * apart from minted ones.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPEN_IDLE_TTL_MS, OPEN_KEEP_ENDED_MS, OPEN_ORIGIN, OPEN_RENEW_EVERY_MS } from '../../src/scope/sessions.js';
import { startHarness } from '../helpers/harness.js';
import { assertBuilt, cleanup, runCli, startMcp, tempDir } from './_spawn.js';

interface Listed {
  session_id: string;
  origin: string;
  state: string;
  created_at: string;
  expires_at: string;
}

async function list(dir: string): Promise<Listed[]> {
  const run = await runCli(['session', 'list', '--json'], { MEMLANE_DB: dir });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Listed[];
}

describe('open local default sessions across processes', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  it('three clean starts leave no active session; a SIGKILLed one leaves one that expires an hour after its last use; minted ones are told apart', async () => {
    const dir = tempDir();
    const minted = await runCli(['session', 'create', '--agent', 'default'], { MEMLANE_DB: dir });
    expect(minted.code).toBe(0);
    for (let i = 0; i < 3; i++) {
      const m = await startMcp({ MEMLANE_DB: dir });
      await m.ok('batch_remember', { memories: [{ content: `clean start ${i}` }] });
      const exit = await m.close();
      expect(exit.code).toBe(0);
    }
    const killed = await startMcp({ MEMLANE_DB: dir });
    const wrote = await killed.ok('batch_remember', { memories: [{ content: 'then a crash' }] });
    killed.child.kill('SIGKILL');
    await killed.exit;

    const sessions = await list(dir);
    const open = sessions.filter((s) => s.origin === OPEN_ORIGIN);
    expect(open).toHaveLength(4);
    expect(open.filter((s) => s.state === 'ended')).toHaveLength(3);
    const left = open.filter((s) => s.state === 'active');
    expect(left.map((s) => s.session_id)).toEqual([wrote.session_id]);
    expect(Date.parse(left[0]!.expires_at) - Date.parse(left[0]!.created_at)).toBeLessThanOrEqual(OPEN_IDLE_TTL_MS);
    // The minted session is another kind and stays active.
    expect(sessions.filter((s) => s.origin === 'cli').map((s) => s.state)).toEqual(['active']);

    const human = await runCli(['session', 'list'], { MEMLANE_DB: dir });
    expect(human.stdout).toMatch(new RegExp(`ses_[0-9a-f]{16}\\s+default\\s+ended\\s+${OPEN_ORIGIN}`));
  });
});

describe('the open session slides while its process lives', () => {
  it('a use near its expiry moves it an hour on (at most one write per renewal interval); an expired one is revived by use; a revoked one is not', async () => {
    const h = await startHarness();
    try {
      const { sessions } = h.app;
      const t0 = Date.now();
      const s = await sessions.openDefault('default', t0);
      const row = async () => (await sessions.list('default')).find((r) => r.session_id === s.session_id)!;
      expect((await row()).expires_at).toBe(t0 + OPEN_IDLE_TTL_MS);

      // Used soon after: no write.
      await sessions.verify(s.token, t0 + OPEN_RENEW_EVERY_MS / 2);
      expect((await row()).expires_at).toBe(t0 + OPEN_IDLE_TTL_MS);
      // Used later: slid forward.
      const t1 = t0 + OPEN_RENEW_EVERY_MS + 1_000;
      await sessions.verify(s.token, t1);
      expect((await row()).expires_at).toBe(t1 + OPEN_IDLE_TTL_MS);
      // Used after it lapsed (the process slept for a day): revived, not refused.
      const t2 = t1 + 86_400_000;
      await expect(sessions.verify(s.token, t2)).resolves.toMatchObject({ session_id: s.session_id });
      expect((await row()).expires_at).toBe(t2 + OPEN_IDLE_TTL_MS);
      // Ended (clean exit): refused, and not revived.
      await sessions.endOpenDefault(s.session_id);
      await expect(sessions.verify(s.token, t2 + 1)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect((await row()).revoked_at).not.toBeNull();

      // A minted session does not slide: expired is expired.
      const cli = await sessions.create('default', { ttlMs: 1_000, now: t0 });
      await expect(sessions.verify(cli.token, t0 + 5_000)).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
    } finally {
      await h.close();
    }
  });

  it('a start deletes open sessions that ended more than a week ago, and nothing else', async () => {
    const h = await startHarness();
    try {
      const { sessions } = h.app;
      const now = Date.now();
      const old = now - OPEN_KEEP_ENDED_MS - 86_400_000;
      const endedLongAgo = await sessions.openDefault('default', old);
      await sessions.endOpenDefault(endedLongAgo.session_id);
      // endOpenDefault stamps "now"; back-date the end as if it happened then.
      await h.app.db.lock.run(() => h.app.db.sessions.update({ where: `session_id = '${endedLongAgo.session_id}'`, values: { revoked_at: old } }));
      const crashedLongAgo = await sessions.openDefault('default', old); // expired at old + 1 h
      const mintedLongAgo = await sessions.create('default', { ttlMs: 1_000, now: old });
      const recent = await sessions.openDefault('default', now - 3_600_000);

      await sessions.openDefault('default', now);
      const ids = (await sessions.list('default')).map((r) => r.session_id);
      expect(ids).not.toContain(endedLongAgo.session_id);
      expect(ids).not.toContain(crashedLongAgo.session_id);
      expect(ids).toContain(mintedLongAgo.session_id);
      expect(ids).toContain(recent.session_id);
    } finally {
      await h.close();
    }
  });
});
