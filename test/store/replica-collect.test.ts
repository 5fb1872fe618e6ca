/**
 * A replica load of a large table reads it in ranges, and after each range
 * has V8 collect at once (src/store/replica/collect.ts): the range's record
 * batches are native buffers that V8 would otherwise leave resident until
 * ~64 MB of them piled up. The collector must be found without
 * `--expose-gc` (a server started by an IDE gets no flags), must collect,
 * and must not leave `gc` behind for other code; a small table (one range)
 * is loaded without it.
 */
import * as lancedb from '@lancedb/lancedb';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendArrow, memoriesTable } from '../../src/store/arrow-rows.js';
import { openOrCreateMemories } from '../../src/store/db.js';
import { ReplicaSet } from '../../src/store/replica/replicas.js';
import { CallTimer, withTimer } from '../../src/timing.js';
import { tempDir } from '../helpers/harness.js';
import { edgeCaseMemories } from '../helpers/stored-memories.js';

const DIM = 4;

async function tableOf(rows: number): Promise<lancedb.Table> {
  const conn = await lancedb.connect(tempDir());
  const table = await openOrCreateMemories(conn, new Set(), 'memories_a', DIM);
  const all = edgeCaseMemories(rows);
  for (let i = 0; i < all.length; i += 5_000) await appendArrow(table, memoriesTable(all.slice(i, i + 5_000), (m) => `${m.namespace}/${m.id}`, 1, DIM));
  return table;
}

/** Loads the table's replica in a call of its own; that call's stage timings. */
async function load(table: lancedb.Table): Promise<{ size: number; stages: string }> {
  const timer = new CallTimer();
  const replica = await withTimer(timer, () => new ReplicaSet('local', DIM).fresh(table, 'agent:a', undefined, timer));
  return { size: replica.size, stages: timer.summary() };
}

describe('a replica load in ranges', () => {
  it('has V8 collect after each range of a large table, and not for a small one', { timeout: 120_000 }, async () => {
    const large = await load(await tableOf(25_000));
    expect(large.size).toBe(25_000);
    // 25,000 rows: ranges of 10,000 → three, each followed by a collection.
    expect(large.stages).toMatch(/load gc [\d.]+ \(3×\)/);
    const small = await load(await tableOf(2_000));
    expect(small.size).toBe(2_000);
    expect(small.stages).toMatch(/replica load/);
    expect(small.stages).not.toMatch(/load gc/);
  });
});

describe('collectGarbage', () => {
  it('collects in a process started without --expose-gc, and leaves no gc behind', () => {
    const module = resolve('dist/src/store/replica/collect.js');
    const script = `
      import vm from 'node:vm';
      const { collectGarbage } = await import(${JSON.stringify(module)});
      let ref = new WeakRef({ big: new Array(1000).fill(1) });
      const before = typeof globalThis.gc;
      // Let the object outlive the task that made it (WeakRef targets are kept until the job ends).
      await new Promise((r) => setTimeout(r, 10));
      const collected = collectGarbage();
      console.log(JSON.stringify({ before, collected, gone: ref.deref() === undefined, after: typeof globalThis.gc, inNewContext: vm.runInNewContext('typeof gc') }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
    expect(out).toEqual({ before: 'undefined', collected: true, gone: true, after: 'undefined', inNewContext: 'undefined' });
  });
});
