/**
 * The background maintainer (src/store/maintenance.ts), which every other test
 * turns off: when a memories table passes a threshold it compacts fragments,
 * prunes old versions and folds new rows into the indexes, exactly once; it
 * runs off the call path (calls neither run it nor wait for it), and only one
 * maintainer (process) on a database runs it at a time. The thresholds are
 * made small with the test-only knobs, so a few writes pass them.
 */
import type { Table } from '@lancedb/lancedb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Maintainer, type MaintenanceKnobsForTests, type TableReport, type Thresholds } from '../../src/store/maintenance.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const NEVER: Thresholds = { smallFragments: 1e9, versions: 1e9, unindexedRows: 1e9 };

/** One batch_remember call per memory: one small fragment and one version each. */
async function writeOneByOne(h: Harness, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = await h.ok('batch_remember', { memories: [{ id: `${prefix}-${i}`, content: `${prefix} maintenance memory number ${i}` }] });
    expect(out.results[0].status).toBe('ok');
    ids.push(out.results[0].id);
  }
  return ids;
}

const memoriesTable = async (h: Harness): Promise<Table> => (await h.app.store.tableFor('agent:default'))!;
const unindexed = async (t: Table): Promise<number[]> =>
  Promise.all((await t.listIndices()).map(async (i) => (await t.indexStats(i.name))?.numUnindexedRows ?? -1));
const memoriesReports = (reports: TableReport[]) => reports.filter((r) => r.table.startsWith('memories__'));

/** A promise with its resolve function, to park a maintenance run and let it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('background maintenance', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const maintainers: Maintainer[] = [];
  const harness = async (knobs: MaintenanceKnobsForTests, dir?: string) => {
    const h = await startHarness({ maintenance: knobs, ...(dir && { dir }) });
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    for (const m of maintainers.splice(0)) await m.stop();
    for (const h of opened.splice(0).reverse()) await h.close();
  });

  it('below every threshold a check does nothing', async () => {
    const h = await harness({ thresholds: { smallFragments: 50, versions: 500, unindexedRows: 500 }, keepVersionsMs: 0 });
    await writeOneByOne(h, 4, 'below');
    const t = await memoriesTable(h);
    const versions = (await t.listVersions()).length;
    expect(await h.app.maintainer.maybeCompact()).toEqual([]);
    expect((await t.listVersions()).length).toBe(versions);
  });

  it('past the small-fragment threshold it compacts and prunes the table, once', async () => {
    const h = await harness({ thresholds: { ...NEVER, smallFragments: 6 }, keepVersionsMs: 0 });
    const ids = await writeOneByOne(h, 8, 'frag');
    const t = await memoriesTable(h);
    const before = await t.stats();
    expect(before.fragmentStats.numSmallFragments).toBeGreaterThanOrEqual(6);
    const versionsBefore = (await t.listVersions()).length;

    const reports = memoriesReports(await h.app.maintainer.maybeCompact());
    expect(reports).toHaveLength(1);
    expect(reports[0]!.fragmentsRemoved).toBeGreaterThanOrEqual(6);
    expect(reports[0]!.versionsRemoved).toBeGreaterThan(0);
    const after = await t.stats();
    expect(after.fragmentStats.numFragments).toBeLessThan(before.fragmentStats.numFragments);
    expect(after.fragmentStats.numSmallFragments).toBeLessThan(6);
    expect((await t.listVersions()).length).toBeLessThan(versionsBefore);
    // Once: the table is under the threshold now, so the next check leaves it alone.
    expect(memoriesReports(await h.app.maintainer.maybeCompact())).toEqual([]);
    expect((await h.ok('batch_get', { ids })).succeeded).toBe(8);
  });

  it('past the version threshold it prunes old versions, once', async () => {
    const h = await harness({ thresholds: { ...NEVER, versions: 8 }, keepVersionsMs: 0 });
    await writeOneByOne(h, 8, 'ver');
    const t = await memoriesTable(h);
    expect((await t.listVersions()).length).toBeGreaterThanOrEqual(8);
    const reports = memoriesReports(await h.app.maintainer.maybeCompact());
    expect(reports).toHaveLength(1);
    expect(reports[0]!.versionsRemoved).toBeGreaterThan(0);
    expect((await t.listVersions()).length).toBeLessThan(8);
    expect(memoriesReports(await h.app.maintainer.maybeCompact())).toEqual([]);
  });

  it('past the unindexed-rows threshold it folds the new rows into every index, once', async () => {
    const h = await harness({ thresholds: { ...NEVER, unindexedRows: 10 } });
    const out = await h.ok('batch_remember', { memories: Array.from({ length: 15 }, (_, i) => ({ content: `indexed later number ${i} about lanterns` })) });
    expect(out.succeeded).toBe(15);
    const t = await memoriesTable(h);
    const pending = await unindexed(t);
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((n) => n === 15), JSON.stringify(pending)).toBe(true);
    expect(memoriesReports(await h.app.maintainer.maybeCompact())).toHaveLength(1);
    expect(await unindexed(t)).toEqual(pending.map(() => 0));
    expect(memoriesReports(await h.app.maintainer.maybeCompact())).toEqual([]);
    // Search still finds them all.
    const found = await h.ok('batch_search', { queries: [{ query: 'lanterns', mode: 'text', limit: 100 }] });
    expect(found.results[0].total).toBe(15);
  });

  it('calls never run maintenance themselves, however far past a threshold they push a table', async () => {
    const optimized: string[] = [];
    const h = await harness({ thresholds: { smallFragments: 2, versions: 2, unindexedRows: 1 }, beforeOptimize: async (t) => void optimized.push(t) });
    await writeOneByOne(h, 10, 'calls');
    await h.ok('batch_update', { updates: [{ id: 'calls-0', importance: 0.9 }] });
    await h.ok('batch_delete', { ids: ['calls-1'] });
    await h.ok('batch_search', { queries: [{ query: 'maintenance memory' }] });
    expect(optimized).toEqual([]);
    expect((await (await memoriesTable(h)).stats()).fragmentStats.numSmallFragments).toBeGreaterThanOrEqual(8);
    // The same maintainer does run when its own check comes.
    expect(memoriesReports(await h.app.maintainer.maybeCompact())).toHaveLength(1);
    expect(optimized.some((t) => t.startsWith('memories__'))).toBe(true);
  });

  it('on its timer it runs by itself, once per threshold passed, and calls made during a run do not wait for it', { timeout: 60_000 }, async () => {
    const h = await harness({});
    const ids = await writeOneByOne(h, 6, 'timer');
    const parked = gate();
    const release = gate();
    const checks: TableReport[][] = [];
    let runs = 0;
    const m = new Maintainer(h.app.db, 20, {
      thresholds: { ...NEVER, smallFragments: 6 },
      keepVersionsMs: 0,
      beforeOptimize: async (table) => {
        if (!table.startsWith('memories__')) return;
        runs++;
        parked.open();
        await release.promise;
      },
      afterCheck: (reports) => void checks.push(reports),
    });
    maintainers.push(m);
    m.start();
    await parked.promise; // the timer started a run, which now holds the maintenance lock mid-way

    // Calls go on while the run is parked: writes, reads and searches all answer.
    const more = await h.ok('batch_remember', { memories: [{ id: 'during-run', content: 'written while maintenance runs' }] });
    expect(more.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect((await h.ok('batch_get', { ids: [...ids, 'during-run'] })).succeeded).toBe(7);
    expect((await h.ok('batch_search', { queries: [{ query: 'written while maintenance runs', mode: 'text', limit: 1 }] })).results[0].results[0].id).toBe('during-run');
    expect(checks).toEqual([]); // still the first run: ticks meanwhile did not start a second one

    release.open();
    // Let several more ticks pass: the table is under the threshold now, so none of them optimizes it again.
    await vi.waitFor(() => expect(checks.length).toBeGreaterThanOrEqual(6), { timeout: 30_000, interval: 20 });
    expect(runs).toBe(1);
    expect(checks.filter((r) => memoriesReports(r).length > 0)).toHaveLength(1);
    expect(memoriesReports(checks[0]!)[0]!.fragmentsRemoved).toBeGreaterThanOrEqual(6);
    expect((await h.ok('batch_get', { ids: [...ids, 'during-run'] })).succeeded).toBe(7);
  });

  it('two maintainers on one database (two processes): while one runs, the other skips; then nothing is left to do', async () => {
    const knobs = { thresholds: { ...NEVER, smallFragments: 6 }, keepVersionsMs: 0 };
    const parked = gate();
    const release = gate();
    const firstOptimized: string[] = [];
    const a = await harness({
      ...knobs,
      beforeOptimize: async (table) => {
        firstOptimized.push(table);
        parked.open();
        await release.promise;
      },
    });
    await writeOneByOne(a, 8, 'two');
    // The second one opens the same directory with its own connection and lock handle, as another process would.
    const secondOptimized: string[] = [];
    const b = await harness({ ...knobs, beforeOptimize: async (table) => void secondOptimized.push(table) }, a.dir);

    const running = a.app.maintainer.maybeCompact();
    await parked.promise;
    expect(await b.app.maintainer.maybeCompact()).toEqual([]); // another maintainer holds the lock: skip, do not wait
    expect(secondOptimized).toEqual([]);
    release.open();
    expect(memoriesReports(await running)).toHaveLength(1);
    expect(memoriesReports(await b.app.maintainer.maybeCompact())).toEqual([]);
    expect(secondOptimized.filter((t) => t.startsWith('memories__'))).toEqual([]);
    expect(firstOptimized.filter((t) => t.startsWith('memories__'))).toHaveLength(1);
  });
});
