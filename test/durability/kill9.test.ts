/**
 * kill -9 in the middle of a stream of writes (contract §2/§4, STACK-FACTS §6:
 * one batch is one LanceDB commit, so a crash leaves all of it or none).
 * Every acknowledged item must survive exactly once; an unacknowledged call is
 * all there or not there at all, never half; the database must reopen and the
 * next process must be able to write.
 *
 * A process killed while it holds the cross-process write lock leaves the lock
 * directory behind; memlane records the holder's pid in it and clears a lock
 * whose holder no longer runs (src/store/lock.ts), so restarts are not held up
 * by proper-lockfile's 10 s staleness timeout. The second test shows it: the left lock is dated
 * so that it can never go stale, and the next server still writes.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { utimesSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, envFor, memoriesOf, type McpChild, type Result, startMcp, stats, tempDir, writeLockDir, writeLockLeft } from './_util.js';

const ITERATIONS = 10;
const PER_CALL = 20;
const LANES = 2; // calls in flight per client
const AGENT = 'killer';

interface Call {
  iter: number;
  call: number;
  ids: string[];
  acked: boolean;
}

const itemsOf = (iter: number, call: number) =>
  Array.from({ length: PER_CALL }, (_, i) => ({
    id: `k${iter}-${call}-${i}`,
    content: `iteration ${iter} call ${call} item ${i}: the k${iter}c${call}i${i} weather vane points north`,
    metadata: { iter, call, i },
  }));

/** Set by the test just before it sends SIGKILL: only then may a call fail for want of an answer. */
interface Victim {
  killed: boolean;
}

/**
 * Streams batch_remember calls until the connection dies; records each call and whether it was acknowledged
 * with all items ok. A call counts as unacknowledged only when the connection closed after the test killed
 * the process; any other failure (a protocol error, a timeout, an answer before the kill that is not all ok)
 * fails the test.
 */
function stream(m: McpChild, iter: number, calls: Call[], victim: Victim): Promise<void> {
  let next = 0;
  let dead = false;
  const lane = async () => {
    while (!dead) {
      const call = next++;
      const rec: Call = { iter, call, ids: itemsOf(iter, call).map((x) => x.id), acked: false };
      calls.push(rec);
      let res;
      try {
        res = await m.call('batch_remember', { memories: itemsOf(iter, call) });
      } catch (err) {
        const closed = err instanceof McpError && err.code === ErrorCode.ConnectionClosed;
        if (!victim.killed || !closed) throw new Error(`call k${iter}-${call} failed, and not because the test killed the server: ${String(err)}`);
        dead = true; // the process was killed: this call is unacknowledged
        return;
      }
      const out = res.structuredContent as { results: Result[] } | undefined;
      const allOk = !res.isError && out?.results.length === PER_CALL && out.results.every((r) => r.status === 'ok' && r.action === 'created');
      if (!allOk) throw new Error(`call k${iter}-${call} was answered but not all items are ok/created: ${JSON.stringify(res).slice(0, 600)}`);
      rec.acked = true;
    }
  };
  return Promise.all(Array.from({ length: LANES }, lane)).then(() => undefined);
}

/** Resolves once a call of iteration `iter` has been acknowledged: the server is open and writing. */
async function writing(calls: readonly Call[], iter: number): Promise<void> {
  while (!calls.some((c) => c.iter === iter && c.acked)) await new Promise((r) => setTimeout(r, 5));
}

const randomDelay = () => 50 + Math.floor(Math.random() * 551);

describe('kill -9 during batch_remember streams', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it(`${ITERATIONS} iterations: start, stream, SIGKILL at a random moment, restart and check`, { timeout: 85_000 }, async () => {
    const dir = tempDir('memlane-dur-kill-');
    const env = envFor(dir, { MEMLANE_AGENT: AGENT });
    const calls: Call[] = [];
    const log: string[] = [];
    let server = await startMcp(env);
    let locksLeft = 0;

    for (let iter = 0; iter < ITERATIONS; iter++) {
      // ---- stream, then kill at a random moment
      const delay = randomDelay();
      const victim: Victim = { killed: false };
      const streaming = stream(server, iter, calls, victim);
      // The database opens after the server's first answers (stdio start-up): kill once it is writing.
      await writing(calls, iter);
      await new Promise((r) => setTimeout(r, delay));
      victim.killed = true;
      server.child.kill('SIGKILL');
      const exit = await server.exit;
      expect(exit.signal).toBe('SIGKILL');
      await streaming;

      // ---- restart (see the header: memlane itself clears a dead holder's lock; we only count them)
      const lockLeft = writeLockLeft(dir);
      if (lockLeft) locksLeft++;
      server = await startMcp(env);

      // ---- check every call made so far (this iteration's and all earlier ones)
      let expectedRows = 0;
      let fullUnacked = 0;
      for (const c of calls) {
        const got = await server.ok('batch_get', { ids: c.ids });
        const present = got.results.filter((r: Result) => r.status === 'ok').length;
        if (c.acked) expect(present, `acknowledged call k${c.iter}-${c.call} lost ${PER_CALL - present} items`).toBe(PER_CALL);
        else {
          expect([0, PER_CALL], `unacknowledged call k${c.iter}-${c.call} is half-written: ${present}/${PER_CALL} items`).toContain(present);
          if (present > 0) fullUnacked++;
        }
        got.results.forEach((r: Result & { memory?: { content: string; version: number } }, i: number) => {
          if (r.status !== 'ok') return;
          expect(r.memory!.content).toBe(itemsOf(c.iter, c.call)[i]!.content);
          expect(r.memory!.version).toBe(1);
        });
        expectedRows += present;
      }
      // Exactly once: the agent's row count (a separate `memlane stats --json` process) equals what batch_get found.
      const { stats: s } = await stats(dir);
      expect(memoriesOf(s, AGENT), 'rows for the agent != acknowledged + fully-present unacknowledged (duplicates?)').toBe(expectedRows);

      const mine = calls.filter((c) => c.iter === iter);
      const acked = mine.filter((c) => c.acked).length;
      log.push(
        `iter ${iter}: SIGKILL after ${delay} ms; ${acked} acked, ${mine.length - acked} unacked calls; ` +
          `write lock left behind: ${lockLeft}; rows ${expectedRows} (unacked-but-complete so far: ${fullUnacked})`,
      );
    }

    // Still fully writable after all those crashes.
    const after = await server.ok('batch_remember', { memories: [{ id: 'after-the-storm', content: 'written after ten crashes' }] });
    expect(after.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    await server.close();
    const ackedCalls = calls.filter((c) => c.acked).length;
    console.info(`[kill9]\n${log.join('\n')}\n[kill9] ${ITERATIONS} iterations; ${ackedCalls} acknowledged calls, ${calls.length - ackedCalls} unacknowledged; dead holder's write lock left behind ${locksLeft}/${ITERATIONS} times`);
    expect(ackedCalls).toBeGreaterThan(0);
  });

  it('a server started after another was SIGKILLed while holding the write lock takes the lock over from the dead holder, not by waiting for it to go stale', { timeout: 60_000 }, async () => {
    const dir = tempDir('memlane-dur-kill-lock-');
    const env = envFor(dir, { MEMLANE_AGENT: AGENT });
    // Kill mid-stream until the dead process has left its lock behind (nearly always on the first try).
    let attempts = 0;
    for (;;) {
      attempts++;
      const victim = await startMcp(env);
      const state: Victim = { killed: false };
      const mine: Call[] = [];
      const streaming = stream(victim, 100 + attempts, mine, state);
      await writing(mine, 100 + attempts);
      await new Promise((r) => setTimeout(r, randomDelay()));
      state.killed = true;
      victim.child.kill('SIGKILL');
      await victim.exit;
      await streaming;
      if (writeLockLeft(dir)) break;
      expect(attempts, 'could not catch the process while it held the lock').toBeLessThan(10);
    }
    // proper-lockfile calls a lock stale when its mtime is older than its `stale` window. Dated an hour
    // ahead, this lock can never go stale while the test runs: only the dead-holder check can clear it.
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(writeLockDir(dir), future, future);
    const next = await startMcp(env);
    const w = await next.ok('batch_remember', { memories: [{ content: 'the first write after a crash' }] });
    expect(w.results[0], `${JSON.stringify(w.results[0])}\n${next.stderr()}`).toMatchObject({ status: 'ok', action: 'created' });
    expect(next.stderr()).toMatch(/cleared a write lock: its holder, process \d+, no longer runs/);
  });
});
