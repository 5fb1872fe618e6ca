import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
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
    const release = await acquire(this.lockTarget);
    try {
      return await fn();
    } finally {
      await release().catch((err: Error) => log.warn(`releasing the write lock failed: ${err.message}`));
    }
  }
}

const HOST = hostname();

/**
 * Takes the lock. A lock whose holder was killed (kill -9, a crash) would block
 * everyone until proper-lockfile's staleness timeout; the holder's pid and host
 * are kept in the lock directory, so a lock held by a process that no longer
 * exists on this machine is cleared at once.
 */
async function acquire(target: string): Promise<() => Promise<void>> {
  const lockDir = `${target}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const release = await lockfile.lock(target, {
        realpath: false,
        // Fallback for holders on another machine (network file systems): a lock
        // whose heartbeat stopped for this long is taken over.
        stale: 10_000,
        update: 2_000,
        retries: { retries: 40, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
        onCompromised: (err) => log.warn(`write lock compromised (${err.message}); continuing`),
      });
      const owner = join(lockDir, 'owner');
      writeFileSync(owner, `${process.pid} ${HOST}`);
      return async () => {
        // proper-lockfile removes the directory with rmdir, which needs it empty.
        rmSync(owner, { force: true });
        await release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (!clearIfHolderDead(lockDir) && attempt >= 20) throw err;
    }
  }
}

/** Removes the lock directory if its recorded holder is a dead process on this host. */
function clearIfHolderDead(lockDir: string): boolean {
  const owner = readOwner(lockDir);
  if (!owner || owner.host !== HOST || owner.pid === process.pid || isAlive(owner.pid)) return false;
  // Rename first (atomic: only one process wins), then check the moved lock is
  // still the dead holder's before deleting it; if another process took the
  // lock in between, put it back.
  const tomb = `${lockDir}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(lockDir, tomb);
  } catch {
    return false;
  }
  const moved = readOwner(tomb);
  if (moved && moved.pid !== owner.pid) {
    try {
      renameSync(tomb, lockDir);
    } catch {
      // the lock directory was re-created meanwhile; the moved one is stale anyway
    }
    return false;
  }
  rmSync(tomb, { recursive: true, force: true });
  log.warn(`cleared a write lock left by process ${owner.pid}, which no longer runs`);
  return true;
}

function readOwner(lockDir: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(join(lockDir, 'owner'), 'utf8').split(' ');
    return pid && host ? { pid: Number(pid), host } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
