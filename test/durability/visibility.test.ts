/**
 * Cross-process visibility (contract §4/§6, STACK-FACTS §5: an open LanceDB
 * handle never sees another process's writes unless the connection re-checks;
 * memlane connects with readConsistencyInterval 0). A reader process sees a
 * writer process's creates, updates and deletes at its next call after the
 * writer's call returned, through both batch_get and batch_search: each check
 * below is one call, never a poll.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, envFor, type McpChild, type Result, startMcp, tempDir } from './_util.js';

const word = () => `vis${randomBytes(8).toString('hex')}`;
const searchIds = async (m: McpChild, query: string, tag: string): Promise<string[]> => {
  const out = await m.ok('batch_search', { queries: [{ query, limit: 50, filter: { tags_all: [tag] } }] });
  expect(out.results[0].status).toBe('ok');
  return out.results[0].results.map((h: { id: string }) => h.id);
};

describe('a reader process sees a writer process', () => {
  let dir: string;
  let writer: McpChild;
  let reader: McpChild;

  beforeAll(async () => {
    assertBuilt();
    dir = tempDir('memlane-dur-vis-');
    [writer, reader] = await Promise.all([startMcp(envFor(dir)), startMcp(envFor(dir))]);
    // Both have opened their tables before the writes below, so the reader's handles are the old ones.
    await writer.ok('batch_remember', { memories: [{ content: 'warm-up memory about lanterns' }] });
    await reader.ok('batch_search', { queries: [{ query: 'lanterns' }] });
  }, 30_000);

  afterAll(async () => {
    await cleanup();
  });

  it("creates are visible to the reader's next batch_get and batch_search", { timeout: 40_000 }, async () => {
    for (let trial = 0; trial < 10; trial++) {
      const unique = word();
      const tag = `t-${unique}`;
      const memories = Array.from({ length: 5 }, (_, i) => ({ content: `the ${unique} beacon number ${i} of trial ${trial} shines green`, tags: [tag] }));
      const out = await writer.ok('batch_remember', { memories });
      expect(out.succeeded).toBe(5);
      const ids: string[] = out.results.map((r: Result) => r.id!);

      const got = await reader.ok('batch_get', { ids });
      expect(got.succeeded, `trial ${trial}: batch_get right after the write`).toBe(5);
      got.results.forEach((r: { memory: { content: string; version: number } }, i: number) => {
        expect(r.memory.content).toBe(memories[i]!.content);
        expect(r.memory.version).toBe(1);
      });
      expect((await searchIds(reader, `${unique} beacon`, tag)).sort(), `trial ${trial}: batch_search right after the write`).toEqual([...ids].sort());
    }
  });

  it('updates and deletes made by one process are visible to the other (both directions) at its next call', { timeout: 40_000 }, async () => {
    for (let trial = 0; trial < 6; trial++) {
      // Alternate roles: each process writes, the other reads.
      const [w, r] = trial % 2 === 0 ? [writer, reader] : [reader, writer];
      const before = word();
      const after = word();
      const tag = `u-${before}`;
      const made = await w.ok('batch_remember', { memories: [{ content: `the ${before} gate opens at noon`, tags: [tag] }, { content: `the ${before} bridge closes at dusk`, tags: [tag] }] });
      const [id1, id2] = made.results.map((x: Result) => x.id!);
      expect((await r.ok('batch_get', { ids: [id1, id2] })).succeeded).toBe(2);

      // ---- update (content, tags, metadata) in the writer, seen by the reader's next calls
      const upd = await w.ok('batch_update', { updates: [{ id: id1, content: `the ${after} gate opens at midnight`, tags: [tag, 'changed'], metadata: { trial } }] });
      expect(upd.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
      const m = (await r.ok('batch_get', { ids: [id1] })).results[0].memory;
      expect(m, `trial ${trial}: batch_get right after the update`).toMatchObject({ version: 2, content: `the ${after} gate opens at midnight`, metadata: { trial } });
      expect(m.tags).toContain('changed');
      // The new text finds the row, showing its new content.
      const fresh = await r.ok('batch_search', { queries: [{ query: `${after} gate`, limit: 50, filter: { tags_all: [tag] } }] });
      const hit = fresh.results[0].results.find((h: { id: string }) => h.id === id1);
      expect(hit?.content, `trial ${trial}: new text right after the update`).toBe(`the ${after} gate opens at midnight`);
      // Searching the replaced words still runs over the latest rows: whatever comes back shows today's content.
      const old = await r.ok('batch_search', { queries: [{ query: `${before} gate noon`, mode: 'text', limit: 50, filter: { tags_all: [tag] } }] });
      expect(old.results[0].results.length).toBeGreaterThan(0);
      for (const h of old.results[0].results as Array<{ id: string; content: string }>) {
        expect(h.content, `trial ${trial}: a stale row came back`).not.toBe(`the ${before} gate opens at noon`);
      }

      // ---- delete in the writer, gone for the reader's next calls
      const del = await w.ok('batch_delete', { ids: [id2] });
      expect(del.results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
      const g = await r.ok('batch_get', { ids: [id2] });
      expect(g.results[0], `trial ${trial}: batch_get right after the delete`).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
      expect(await searchIds(r, `${before} bridge dusk`, tag), `trial ${trial}: batch_search right after the delete`).not.toContain(id2);
      // The surviving row is still there for both.
      expect((await r.ok('batch_get', { ids: [id1] })).succeeded).toBe(1);
      expect((await w.ok('batch_get', { ids: [id1] })).succeeded).toBe(1);
    }
  });
});
