import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { log } from '../log.js';

/**
 * Serialises writes: first inside the process (a promise chain), then across
 * processes (a lock directory beside the tables, via proper-lockfile).
 *
 * Why both: concurrent `mergeInsert` of the same new keys silently duplicates
 * rows, inside one process and across two (STACK-FACTS §5), and dedupe by
 * content needs "read, decide, write" to happen with nobody else writing. An IDE
 * and a desktop app each running memlane on one directory is the normal case.
 */
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly lockTarget: string | undefined;

  /** `dir` is the local database directory, or undefined for object stores (no cross-process lock there). */
  constructor(dir: string | undefined) {
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true });
      this.lockTarget = join(dir, 'memlane-write');
    }
  }

  /** Runs `fn` with the write lock held; calls queue in arrival order. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => this.withFileLock(fn));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lockTarget === undefined) return fn();
    const release = await lockfile.lock(this.lockTarget, {
      realpath: false,
      // A holder killed with -9 leaves the lock behind; after `stale` ms without
      // its heartbeat another process may take it over.
      stale: 10_000,
      update: 2_000,
      retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
      onCompromised: (err) => log.warn(`write lock compromised (${err.message}); continuing`),
    });
    try {
      return await fn();
    } finally {
      await release().catch((err: Error) => log.warn(`releasing the write lock failed: ${err.message}`));
    }
  }
}
