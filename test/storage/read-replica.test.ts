/**
 * Read replicas (MEMLANE_READ_ONLY=1, issue 13): a server that never takes the
 * writer lease, answers batch_search and batch_get, refuses write tools with a
 * whole-call READ_ONLY error, and sees a writer's new memories within its
 * readConsistencyInterval (MEMLANE_READ_INTERVAL_MS).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, runCli, sleep, startMcp, textOf } from '../e2e/_spawn.js';
import { backend, leaseOf } from './backends.js';

const INTERVAL_MS = 1_000;

describe('a read replica on s3://', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it('sees a writer’s memory within the read interval, answers reads, refuses writes, and never takes the lease', { timeout: 90_000 }, async () => {
    const db = { ...(await backend('s3').fresh()), MEMLANE_EMBED_DIM: '768', MEMLANE_MAINTENANCE_INTERVAL_MS: '0', MEMLANE_LOG_LEVEL: 'warn' };
    const made = await runCli(['session', 'create', '--agent', 'team', '--json'], db, 30_000);
    expect(made.code, made.stderr).toBe(0);
    const { token } = JSON.parse(made.stdout) as { token: string };
    const writer = await startMcp({ ...db, MEMLANE_SESSION_TOKEN: token });
    const replica = await startMcp({ ...db, MEMLANE_SESSION_TOKEN: token, MEMLANE_READ_ONLY: '1', MEMLANE_READ_INTERVAL_MS: String(INTERVAL_MS) });

    const first = await writer.ok('batch_remember', { memories: [{ content: 'the replica sees the blue harbour crane' }] });
    const id = first.results[0].id as string;
    // Within the bound: after the interval has passed since the acknowledgement, the replica's next call sees it.
    await sleep(INTERVAL_MS + 250);
    const got = await replica.ok('batch_get', { ids: [id] });
    expect(got.results[0].status, JSON.stringify(got.results[0])).toBe('ok');
    const found = await replica.ok('batch_search', { queries: [{ query: 'blue harbour crane', mode: 'text' }] });
    expect(found.results[0].results[0].id).toBe(id);

    for (const [tool, args] of [
      ['batch_remember', { memories: [{ content: 'a replica must not write this' }] }],
      ['batch_update', { updates: [{ id, pinned: true }] }],
      ['batch_delete', { ids: [id] }],
    ] as const) {
      const res = await replica.call(tool, args);
      expect(res.isError, JSON.stringify(res)).toBe(true);
      expect(textOf(res)).toMatch(/^READ_ONLY: .*read replica/);
    }
    expect((await writer.ok('batch_get', { ids: [id] })).results[0].memory.pinned).toBe(false);
    await writer.close();
    // With the writer gone and the replica still up, nobody holds the write lease.
    expect(await leaseOf(db)).toBeUndefined();
    await replica.close();
  });
});
