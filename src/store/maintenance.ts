import type { Table } from '@lancedb/lancedb';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { log } from '../log.js';
import { isLocalUri, type Database } from './db.js';
import { withRetry } from './memories.js';

/**
 * Every LanceDB write leaves a version and a few small files (847 small writes
 * left 44 MB for a 10-row table), and rewritten rows fall out of the indexes
 * until `optimize`. The maintainer compacts, prunes old versions and folds new
 * rows into the indexes: in the background when a table passes a threshold, or
 * on demand (`memlane compact`). Only one process maintains at a time.
 */
export const THRESHOLDS = { smallFragments: 16, versions: 64, unindexedRows: 2_000 } as const;
export type Thresholds = { [K in keyof typeof THRESHOLDS]: number };

/**
 * TEST ONLY: small thresholds and a version-keeping window, so a test can pass
 * them with a few writes, and hooks to see and pause a background run. No
 * environment variable or command-line flag reaches these.
 */
export interface MaintenanceKnobsForTests {
  thresholds?: Partial<Thresholds>;
  /** How long background runs keep old versions (default BACKGROUND_KEEP_MS). */
  keepVersionsMs?: number;
  /** Awaited just before each table is optimized (holding the maintenance lock). */
  beforeOptimize?: (table: string) => Promise<void>;
  /** Called after every background check, with what it did ([] when nothing was due or another process was at it). */
  afterCheck?: (reports: TableReport[]) => void;
}

export interface TableReport {
  table: string;
  fragmentsRemoved: number;
  fragmentsAdded: number;
  versionsRemoved: number;
  bytesRemoved: number;
}

export class Maintainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Told what a background run did, when it did anything (the server forwards it to clients). */
  onReport: ((reports: TableReport[]) => void) | undefined;

  private readonly thresholds: Thresholds;

  constructor(
    private readonly db: Database,
    private readonly intervalMs: number,
    private readonly knobs: MaintenanceKnobsForTests = {},
  ) {
    this.thresholds = { ...THRESHOLDS, ...knobs.thresholds };
  }

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.maybeCompact()
        .then((reports) => {
          if (reports.length > 0) this.onReport?.(reports);
          this.knobs.afterCheck?.(reports);
        })
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    // Maintenance must never keep a finished process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Compacts the tables that passed a threshold; quietly does nothing if another process is at it. */
  async maybeCompact(): Promise<TableReport[]> {
    try {
      const due: Table[] = [];
      for (const table of await this.tables()) if (await needsCompaction(table, this.thresholds)) due.push(table);
      if (due.length === 0) return [];
      const keepMs = this.knobs.keepVersionsMs ?? BACKGROUND_KEEP_MS;
      return (await this.withMaintenanceLock(() => Promise.all(due.map((t) => this.optimize(t, keepMs))), false)) ?? [];
    } catch (err) {
      log.warn(`background maintenance failed: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  }

  /** `memlane compact`: every table, now, waiting for another process's maintenance to finish. */
  async compactAll(): Promise<TableReport[]> {
    return (await this.withMaintenanceLock(async () => {
      const reports: TableReport[] = [];
      for (const t of await this.tables()) reports.push(await this.optimize(t, 0));
      return reports;
    }, true))!;
  }

  private async optimize(table: Table, keepMs: number): Promise<TableReport> {
    await this.knobs.beforeOptimize?.(this.db.nameOf(table));
    return optimize(table, this.db.nameOf(table), keepMs);
  }

  private async tables(): Promise<Table[]> {
    return [...(await this.db.memoryTables()), this.db.sessions, this.db.meta];
  }

  private async withMaintenanceLock<T>(fn: () => Promise<T>, wait: boolean): Promise<T | undefined> {
    if (!isLocalUri(this.db.uri)) return this.withMaintenanceLease(fn, wait);
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(join(this.db.uri, 'memlane-maintenance'), {
        realpath: false,
        stale: 60_000,
        update: 10_000,
        retries: wait ? { retries: 600, minTimeout: 100, maxTimeout: 1000 } : 0,
        onCompromised: (err) => log.warn(`maintenance lock compromised: ${err.message}`),
      });
    } catch (err) {
      if (!wait) return undefined;
      throw err;
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * On an object store: the maintenance lease beside the write lease (same
   * conditional writes, renewed while a long optimize runs). db:// has none:
   * LanceDB Cloud maintains its tables itself, and memlane runs it unguarded.
   */
  private async withMaintenanceLease<T>(fn: () => Promise<T>, wait: boolean): Promise<T | undefined> {
    const lease = this.db.maintenanceLease();
    if (!lease) return fn();
    const held = wait ? await lease.acquire(Date.now() + 600_000) : await lease.tryAcquire();
    if (!held) return undefined;
    try {
      return await fn();
    } finally {
      await held.release();
      await lease.flush();
    }
  }
}

async function needsCompaction(table: Table, thresholds: Thresholds): Promise<boolean> {
  const stats = await table.stats();
  if (stats.fragmentStats.numSmallFragments >= thresholds.smallFragments) return true;
  // Rows written after an index was built are searched by brute force until optimize folds them in.
  for (const index of await table.listIndices()) {
    const unindexed = (await table.indexStats(index.name))?.numUnindexedRows ?? 0;
    if (unindexed >= thresholds.unindexedRows) return true;
  }
  return (await table.listVersions()).length >= thresholds.versions;
}

/**
 * Background runs keep the last minute of versions, so a query that another
 * process started on an older version can finish; `memlane compact` keeps
 * none, so deleted content leaves the disk at once.
 */
const BACKGROUND_KEEP_MS = 60_000;

/**
 * Compaction commits a Rewrite transaction, which LanceDB does not retry
 * itself: a write that commits while it runs makes it fail with "Retryable
 * commit conflict … This Rewrite transaction was preempted by concurrent
 * transaction Update/Delete" (seen with a server writing while `memlane
 * compact` ran; test/store/commit-conflict.test.ts). withRetry runs it again
 * on the new version.
 */
async function optimize(table: Table, name: string, keepMs: number): Promise<TableReport> {
  const result = await withRetry(`compacting ${name}`, () => table.optimize({ cleanupOlderThan: new Date(Date.now() - keepMs) }));
  const report: TableReport = {
    table: name,
    fragmentsRemoved: result.compaction.fragmentsRemoved,
    fragmentsAdded: result.compaction.fragmentsAdded,
    versionsRemoved: result.prune.oldVersionsRemoved,
    bytesRemoved: result.prune.bytesRemoved,
  };
  if (keepMs === 0) {
    // One optimize commits its own new versions after its cleanup has run, and
    // the first of them still references the files it replaced; a second
    // cleanup removes those, so deleted content really leaves the disk.
    const again = await withRetry(`cleaning up ${table.name}`, () => table.optimize({ cleanupOlderThan: new Date() }));
    report.versionsRemoved += again.prune.oldVersionsRemoved;
    report.bytesRemoved += again.prune.bytesRemoved;
  }
  return report;
}
