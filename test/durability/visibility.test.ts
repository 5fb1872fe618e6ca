/**
 * Cross-process visibility (contract §4/§6, STACK-FACTS §5: an open LanceDB
 * handle never sees another process's writes unless the connection re-checks;
 * memlane connects with readConsistencyInterval 0). A reader process must see
 * a writer process's creates, updates and deletes within one second of the
 * writer's call returning, through both batch_get and batch_search.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, envFor, type McpChild, type Result, startMcp, tempDir } from './_util.js';

const POLL_MS = 100;
const LIMIT_MS = 1_000;

/** Polls `probe` every 100 ms until it returns true; resolves with the ms elapsed since `since`, or throws after LIMIT_MS. */
async function until(probe: () => Promise<boolean>, since: number, what: string): Promise<number> {
  for (;;) {
    if (await probe()) return performance.now() - since;
    const elapsed = performance.now() - since;
    if (elapsed > LIMIT_MS) throw new Error(`${what}: not visible to the reader ${Math.round(elapsed)} ms after the writer's call returned`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

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
  const latencies = { create: [] as number[], createSearch: [] as number[], update: [] as number[], updateSearch: [] as number[], delete: [] as number[], deleteSearch: [] as number[] };

  beforeAll(async () => {
    assertBuilt();
    dir = tempDir('memlane-dur-vis-');
    [writer, reader] = await Promise.all([startMcp(envFor(dir)), startMcp(envFor(dir))]);
    // Warm both up (first query opens indexes), so the timings below are the steady state.
    await writer.ok('batch_remember', { memories: [{ content: 'warm-up memory about lanterns' }] });
    await reader.ok('batch_search', { queries: [{ query: 'lanterns' }] });
  }, 30_000);

  afterAll(async () => {
    const fmt = (xs: number[]) => (xs.length ? `max ${Math.round(Math.max(...xs))} ms, mean ${Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)} ms (n=${xs.length})` : 'n/a');
    console.info(Object.entries(latencies).map(([k, v]) => `[visibility] ${k}: ${fmt(v)}`).join('\n'));
    await cleanup();
  });

  it('creates are visible to batch_get and batch_search in < 1 s', { timeout: 40_000 }, async () => {
    for (let trial = 0; trial < 10; trial++) {
      const unique = word();
      const tag = `t-${unique}`;
      const memories = Array.from({ length: 5 }, (_, i) => ({ content: `the ${unique} beacon number ${i} of trial ${trial} shines green`, tags: [tag] }));
      const out = await writer.ok('batch_remember', { memories });
      const returned = performance.now();
      expect(out.succeeded).toBe(5);
      const ids: string[] = out.results.map((r: Result) => r.id!);

      latencies.create.push(
        await until(async () => (await reader.ok('batch_get', { ids })).succeeded === 5, returned, `trial ${trial} batch_get of new rows`),
      );
      latencies.createSearch.push(
        await until(async () => (await searchIds(reader, `${unique} beacon`, tag)).length === 5, returned, `trial ${trial} batch_search of new rows`),
      );
      const got = await reader.ok('batch_get', { ids });
      got.results.forEach((r: { memory: { content: string; version: number } }, i: number) => {
        expect(r.memory.content).toBe(memories[i]!.content);
        expect(r.memory.version).toBe(1);
      });
    }
  });

  it('updates and deletes made by one process are visible to the other (both directions) in < 1 s', { timeout: 40_000 }, async () => {
    for (let trial = 0; trial < 6; trial++) {
      // Alternate roles: each process writes, the other reads.
      const [w, r] = trial % 2 === 0 ? [writer, reader] : [reader, writer];
      const before = word();
      const after = word();
      const tag = `u-${before}`;
      const made = await w.ok('batch_remember', { memories: [{ content: `the ${before} gate opens at noon`, tags: [tag] }, { content: `the ${before} bridge closes at dusk`, tags: [tag] }] });
      const [id1, id2] = made.results.map((x: Result) => x.id!);
      await until(async () => (await r.ok('batch_get', { ids: [id1, id2] })).succeeded === 2, performance.now(), 'setup rows');

      // ---- update (content, tags, metadata) in the writer, seen by the reader
      const upd = await w.ok('batch_update', { updates: [{ id: id1, content: `the ${after} gate opens at midnight`, tags: [tag, 'changed'], metadata: { trial } }] });
      const updated = performance.now();
      expect(upd.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
      latencies.update.push(
        await until(
          async () => {
            const m = (await r.ok('batch_get', { ids: [id1] })).results[0].memory;
            return m.version === 2 && m.content === `the ${after} gate opens at midnight` && m.tags.includes('changed') && m.metadata.trial === trial;
          },
          updated,
          `trial ${trial} update via batch_get`,
        ),
      );
      latencies.updateSearch.push(
        await until(
          async () => {
            const hits = await searchIds(r, `${after} gate`, tag);
            const old = await r.ok('batch_search', { queries: [{ query: before, mode: 'text', limit: 50, filter: { tags_all: [tag, 'changed'] } }] });
            // The new text is found; the replaced text no longer finds the updated row.
            return hits.includes(id1) && !old.results[0].results.some((h: { id: string }) => h.id === id1);
          },
          updated,
          `trial ${trial} update via batch_search`,
        ),
      );

      // ---- delete in the writer, gone for the reader
      const del = await w.ok('batch_delete', { ids: [id2] });
      const deleted = performance.now();
      expect(del.results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
      latencies.delete.push(
        await until(
          async () => {
            const g = await r.ok('batch_get', { ids: [id2] });
            return g.results[0].status === 'error' && g.results[0].error.code === 'NOT_FOUND';
          },
          deleted,
          `trial ${trial} delete via batch_get`,
        ),
      );
      latencies.deleteSearch.push(
        await until(async () => !(await searchIds(r, `${before} bridge dusk`, tag)).includes(id2), deleted, `trial ${trial} delete via batch_search`),
      );
      // The surviving row is still there for both.
      expect((await r.ok('batch_get', { ids: [id1] })).succeeded).toBe(1);
      expect((await w.ok('batch_get', { ids: [id1] })).succeeded).toBe(1);
    }
  });
});
