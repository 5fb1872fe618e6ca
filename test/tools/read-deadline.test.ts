/**
 * `timeout_ms` bounds read tools too (issue 8): a read that has not answered
 * by its deadline reports TIMEOUT per item instead of holding the call open.
 * Reads have no effects, so abandoning one is safe; writes stop only at their
 * safe points (test/durability/lock-recovery.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runBatch } from '../../src/batch/runner.js';
import { defineTool } from '../../src/batch/tool.js';
import { tools } from '../../src/tools/index.js';
import { startHarness } from '../helpers/harness.js';

describe('read deadlines', () => {
  it('a read still running at timeout_ms reports TIMEOUT for every item, and the call returns', async () => {
    const h = await startHarness();
    try {
      let started = 0;
      const stuck = defineTool<string, Record<string, never>>({
        name: 'stuck_read',
        title: 'A read that never answers',
        description: 'test only',
        annotations: { readOnlyHint: true },
        itemsKey: 'ids',
        itemsDescription: 'ids',
        itemSchema: z.string(),
        options: {},
        resultShape: {},
        run: () => {
          started++;
          return new Promise(() => undefined);
        },
      });
      const res = await runBatch(stuck, { ids: ['a', 'b'], options: { timeout_ms: 200 } }, {
        services: { store: h.app.store, searcher: h.app.searcher, embedder: h.app.embedder },
        sessions: h.app.sessions,
        sources: { defaultToken: h.defaultToken! },
        maxBatch: 100,
      });
      expect(started).toBe(1);
      const out = res.structuredContent as { results: Array<{ status: string; error?: { code: string; message: string } }> };
      expect(out.results.map((r) => r.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
      expect(out.results[0]!.error!.message).toMatch(/timed out after 200 ms/);
    } finally {
      await h.close();
    }
  });

  it('batch_get and batch_search are the read tools that get this treatment; the writers are not', () => {
    const readOnly = Object.fromEntries(tools.map((t) => [t.name, t.annotations.readOnlyHint === true]));
    expect(readOnly).toEqual({ batch_remember: false, batch_update: false, batch_delete: false, batch_search: true, batch_get: true });
  });
});
