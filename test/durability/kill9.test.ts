/**
 * kill -9 in the middle of a stream of writes (contract §2/§4, STACK-FACTS §6:
 * one batch is one LanceDB commit, so a crash leaves all of it or none).
 * Every acknowledged item must survive exactly once; an unacknowledged call is
 * all there or not there at all, never half; the database must reopen and the
 * next process must be able to write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, chunks, cleanup, envFor, memoriesOf, type McpChild, type Result, startMcp, stats, tempDir } from './_util.js';

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

/** Streams batch_remember calls until the connection dies; records each call and whether it was acknowledged with all items ok. */
function stream(m: McpChild, iter: number, calls: Call[]): Promise<void> {
  let next = 0;
  let dead = false;
  const lane = async () => {
    while (!dead) {
      const call = next++;
      const rec: Call = { iter, call, ids: itemsOf(iter, call).map((x) => x.id), acked: false };
      calls.push(rec);
      try {
        const res = await m.call('batch_remember', { memories: itemsOf(iter, call) });
        const out = res.structuredContent as { results: Result[] } | undefined;
        if (!res.isError && out && out.results.length === PER_CALL && out.results.every((r) => r.status === 'ok' && (r.action === 'created' || r.action === 'updated'))) {
          rec.acked = true;
        } else {
          throw new Error(`call ${iter}/${call} answered but not all ok: ${JSON.stringify(res).slice(0, 500)}`);
        }
      } catch (err) {
        if (/not all ok/.test((err as Error).message)) throw err;
        dead = true; // the process was killed: this call is unacknowledged
      }
    }
  };
  return Promise.all(Array.from({ length: LANES }, lane)).then(() => undefined);
}

describe('kill -9 during batch_remember streams', () => {
  beforeAll(() => assertBuilt());
  afterAll(async () => cleanup());

  it(`${ITERATIONS} iterations: start, stream, SIGKILL at a random moment, restart and check`, { timeout: 88_000 }, async () => {
    const dir = tempDir('memlane-dur-kill-');
    const env = envFor(dir, { MEMLANE_AGENT: AGENT });
    const calls: Call[] = [];
    const log: string[] = [];
    const t0 = performance.now();
    let server = await startMcp(env);

    for (let iter = 0; iter < ITERATIONS; iter++) {
      // ---- stream and kill
      const delay = 50 + Math.floor(Math.random() * 551);
      const streaming = stream(server, iter, calls);
      await new Promise((r) => setTimeout(r, delay));
      const killedAt = performance.now();
      server.child.kill('SIGKILL');
      const exit = await server.exit;
      expect(exit.signal).toBe('SIGKILL');
      await streaming;

      // ---- restart
      const s0 = performance.now();
      server = await startMcp(env);
      const restartMs = performance.now() - s0;
      process.stderr.write(`[kill9] iter ${iter} restarted in ${Math.round(restartMs)} ms\n`);

      // ---- check every call made so far (this iteration and all earlier ones)
      let expectedRows = 0;
      let partial = 0;
      const mine = calls.filter((c) => c.iter === iter);
      for (const c of calls) {
        const got = await server.ok('batch_get', { ids: c.ids });
        const present = got.results.filter((r: Result) => r.status === 'ok').length;
        if (c.acked) {
          expect(present, `acknowledged call k${c.iter}-${c.call} lost ${PER_CALL - present} items`).toBe(PER_CALL);
        } else {
          expect([0, PER_CALL], `unacknowledged call k${c.iter}-${c.call} is half-written: ${present}/${PER_CALL} items`).toContain(present);
          if (present > 0) partial++;
        }
        // Content and metadata of what is there are intact.
        got.results.forEach((r: Result & { memory?: { id: string; content: string; metadata: { i: number } } }, i: number) => {
          if (r.status === 'ok') expect(r.memory!.content).toBe(itemsOf(c.iter, c.call)[i]!.content);
        });
        expectedRows += present;
      }
      // Exactly once: the total rows for the agent equal what batch_get found (no duplicate rows for any id).
      const { stats: s } = await stats(dir);
      expect(memoriesOf(s, AGENT)).toBe(expectedRows);

      const acked = mine.filter((c) => c.acked).length;
      log.push(
        `iter ${iter}: kill after ${delay} ms, ${acked} calls acked, ${mine.length - acked} unacked (${partial ? 'some fully present' : 'none present'} overall ${partial}), ` +
          `restart ${Math.round(restartMs)} ms, rows ${expectedRows}`,
      );
      void killedAt;
      process.stderr.write(`[kill9] ${log[log.length - 1]} at ${Math.round(performance.now() - t0)} ms\n`);
    }

    // The database is still fully writable after all those crashes.
    const after = await server.ok('batch_remember', { memories: [{ id: 'after-the-storm', content: 'written after ten crashes' }] });
    expect(after.results[0].status).toBe('ok');
    await server.close();
    const total = performance.now() - t0;
    console.info(`[kill9]\n${log.join('\n')}\n[kill9] total ${Math.round(total)} ms, ${calls.filter((c) => c.acked).length} acknowledged calls`);
    expect(calls.filter((c) => c.acked).length).toBeGreaterThan(0);
  });
});
