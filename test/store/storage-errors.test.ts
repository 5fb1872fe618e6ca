import * as lancedb from '@lancedb/lancedb';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { withRetry } from '../../src/store/memories.js';
import { type Harness, startHarness } from '../helpers/harness.js';

describe('withRetry: LanceDB failures memlane retries and reports', () => {
  it('retries a commit conflict with backoff and returns the result once it succeeds', async () => {
    let calls = 0;
    const result = await withRetry('write', async () => {
      calls++;
      if (calls < 3) throw new Error('Retryable commit conflict for version 7: this Update transaction was preempted');
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after its attempts with a StorageError that keeps the engine message', async () => {
    let calls = 0;
    const failing = withRetry(
      'write',
      async () => {
        calls++;
        throw new Error('Commit conflict for version 9');
      },
      3,
    );
    await expect(failing).rejects.toBeInstanceOf(StorageError);
    await expect(failing).rejects.toThrow(/write failed after 3 attempt\(s\): Commit conflict for version 9/);
    expect(calls).toBe(3);
  });

  it('does not retry an error that is not transient', async () => {
    let calls = 0;
    await expect(
      withRetry('delete', async () => {
        calls++;
        throw new Error('Table memories was not found');
      }),
    ).rejects.toThrow(/delete failed after 1 attempt\(s\)/);
    expect(calls).toBe(1);
  });
});

/** The content of every memories row in the directory, read through a connection of its own. */
async function storedContents(dir: string): Promise<string[]> {
  const reader = await lancedb.connect(dir);
  const contents: string[] = [];
  for (const name of (await reader.tableNames()).filter((n) => n.startsWith('memories'))) {
    const t = await reader.openTable(name);
    for (const row of await t.query().select(['content']).toArray()) contents.push(String(row.content));
    t.close();
  }
  reader.close();
  return contents;
}

describe('a storage failure during a call', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reports STORAGE_ERROR on every item that was to be written, and the call writes nothing', async () => {
    h = await startHarness();
    const first = await h.ok('batch_remember', { memories: [{ id: 'kept', content: 'written before the table disappears' }] });
    expect(first.results[0].status).toBe('ok');

    // Another process removes the agent's table from under the running server.
    const other = await lancedb.connect(h.dir);
    const [name] = (await other.tableNames()).filter((n) => n.startsWith('memories__'));
    await other.dropTable(name!);
    other.close();

    const out = await h.ok('batch_remember', {
      memories: [{ content: 'first of a failing batch' }, { content: 'second of a failing batch', confidence: 7 }, { content: 'third of a failing batch' }],
    });
    expect(out.results.map((r: any) => r.error?.code)).toEqual(['STORAGE_ERROR', 'VALIDATION_ERROR', 'STORAGE_ERROR']);
    expect(out.results[0].error.message).toMatch(/nothing was written/);
    expect(out).toMatchObject({ succeeded: 0, failed: 3 });

    // Read the directory back with a connection of its own: no row of the failing batch anywhere.
    expect((await storedContents(h.dir)).filter((c) => c.includes('failing batch'))).toEqual([]);
    // The same read-back sees rows when a write does happen: a fresh server on the directory stores the batch.
    const again = await startHarness({ dir: h.dir });
    try {
      const ok = await again.ok('batch_remember', { memories: [{ content: 'first of a failing batch' }, { content: 'third of a failing batch' }] });
      expect(ok.succeeded).toBe(2);
    } finally {
      await again.close();
    }
    expect((await storedContents(h.dir)).filter((c) => c.includes('failing batch')).sort()).toEqual(['first of a failing batch', 'third of a failing batch']);
  });
});
