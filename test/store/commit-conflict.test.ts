/**
 * memlane's retries against real LanceDB commit conflicts (not hand-written
 * errors). Found by experiment on LanceDB 0.39 (two connections, no memlane
 * lock): concurrent updates, deletes and merges of the same rows never fail,
 * because LanceDB retries data writes itself (merge results show numAttempts
 * 2). What does fail is compaction: optimize() commits a Rewrite transaction,
 * and a write committed while it runs makes it throw "Retryable commit
 * conflict for version N: This Rewrite transaction was preempted by
 * concurrent transaction Update". `memlane compact` and the background
 * maintainer run next to writing servers, so they go through withRetry.
 */
import * as lancedb from '@lancedb/lancedb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { log } from '../../src/log.js';
import { withRetry } from '../../src/store/memories.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const CONFLICT = /Retryable commit conflict for version \d+: This Rewrite transaction was preempted by concurrent transaction/;

describe('withRetry against real LanceDB commit conflicts', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await h?.close();
    h = undefined;
  });

  it('`memlane compact` racing another connection that updates the same rows hits a real commit conflict, retries it, and both writes land', { timeout: 120_000 }, async () => {
    h = await startHarness();
    const warnings: string[] = [];
    vi.spyOn(log, 'warn').mockImplementation((m: string) => void warnings.push(m));
    const first = await h.ok('batch_remember', { memories: Array.from({ length: 20 }, (_, i) => ({ id: `row-${i}`, content: `conflict row ${i}` })) });
    expect(first.succeeded).toBe(20);

    // A second writer on the same table, through its own connection and without memlane's lock.
    const other = await lancedb.connect(h.dir, { readConsistencyInterval: 0 });
    const [name] = (await other.tableNames()).filter((n) => n.startsWith('memories__'));
    const table = await other.openTable(name!);
    let rounds = 0;
    try {
      while (!warnings.some((w) => CONFLICT.test(w)) && rounds < 60) {
        rounds++;
        // Small writes, so that each compaction has fragments to rewrite.
        for (let k = 0; k < 3; k++) await h.ok('batch_remember', { memories: [{ id: `extra-${rounds}-${k}`, content: `extra row ${rounds} ${k}` }] });
        const [compacted, updated] = await Promise.allSettled([
          h.app.maintainer.compactAll(),
          table.update({ where: `"id" IN ('row-1', 'row-2')`, values: { importance: rounds / 100 } }),
        ]);
        expect(compacted.status, String((compacted as PromiseRejectedResult).reason)).toBe('fulfilled');
        expect(updated.status, String((updated as PromiseRejectedResult).reason)).toBe('fulfilled');
      }
    } finally {
      table.close();
      other.close();
    }
    const retried = warnings.filter((w) => CONFLICT.test(w));
    expect(retried.length, `no commit conflict in ${rounds} rounds; warnings: ${warnings.join(' | ')}`).toBeGreaterThan(0);
    expect(retried[0]).toMatch(/^(compacting|cleaning up) memories__\S+ attempt 1 failed .*; retrying in \d+ ms$/);

    // Nothing was lost: every row is there, and the other connection's last update stands. Read
    // by a fresh server: the other connection is not memlane and writes no write sequence, so a
    // running server's replica learns of its in-place updates only when it reloads (README).
    const ids = [...Array.from({ length: 20 }, (_, i) => `row-${i}`), ...Array.from({ length: rounds }, (_, r) => [0, 1, 2].map((k) => `extra-${r + 1}-${k}`)).flat()];
    const fresh = await startHarness({ dir: h.dir });
    try {
      const got = await fresh.ok('batch_get', { ids });
      expect(got.succeeded).toBe(ids.length);
      expect(got.results[1].memory.importance).toBe(rounds / 100);
    } finally {
      await fresh.close();
    }
  });

  it('a real non-retryable LanceDB error is not retried: one attempt, a StorageError with the engine message', async () => {
    h = await startHarness();
    await h.ok('batch_remember', { memories: [{ content: 'a row to have a table' }] });
    const table = (await h.app.store.tableFor('agent:default'))!;
    let calls = 0;
    const failing = withRetry('delete', () => {
      calls++;
      return table.delete('"no_such_column" = 1');
    });
    await expect(failing).rejects.toBeInstanceOf(StorageError);
    await expect(failing).rejects.toThrow(/^delete failed after 1 attempt\(s\): .*no_such_column/);
    expect(calls).toBe(1);
  });
});
