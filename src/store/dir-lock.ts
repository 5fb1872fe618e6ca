import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { StorageError, TimeoutError } from '../errors.js';
import { log } from '../log.js';
import type { CrossProcessLock, HeldLock } from './lock.js';

/**
 * The cross-process writer lock of a local database directory: a lock
 * directory made by proper-lockfile (mkdir is atomic, its mtime is the
 * heartbeat), with an `owner` file inside naming the holder.
 *
 * Why the owner file: a holder killed with SIGKILL leaves the directory
 * behind. proper-lockfile would wait for its staleness timeout and then fail
 * to `rmdir` a non-empty directory (ENOTEMPTY) — for ever. With the holder's
 * pid, its process start time and host recorded, a lock whose holder no
 * longer runs on this machine is cleared at once, and one whose pid now
 * belongs to an unrelated process (pid reuse) is recognised by the start
 * time. A holder on another machine (a network file system) can only be
 * judged by the heartbeat: its lock is cleared once the mtime is older than
 * STALE_MS. A live holder on this machine is never robbed, however slow its
 * heartbeat: a process whose event loop stalls keeps its lock.
 *
 * Each acquisition writes a fresh nonce into the owner file; `assertHeld`
 * (called right before every commit) re-reads it, so a holder whose lock was
 * taken over stops writing before it commits, and the call reports
 * STORAGE_ERROR with nothing written.
 */
export const STALE_MS = 10_000;
const HEARTBEAT_MS = 2_000;
const HOST = hostname();
const OWN_START = processStartTime(process.pid);

interface Owner {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux), to tell a reused pid apart; null where unknown. */
  start: string | null;
  nonce: string;
}

export class DirectoryLock implements CrossProcessLock {
  private readonly target: string;
  private readonly lockDir: string;

  constructor(dir: string) {
    this.target = join(dir, 'memlane-write');
    this.lockDir = `${this.target}.lock`;
  }

  async acquire(deadlineAt: number): Promise<HeldLock> {
    let delay = 5;
    for (;;) {
      let release: () => Promise<void>;
      const state = { compromised: undefined as string | undefined };
      try {
        release = await lockfile.lock(this.target, {
          realpath: false,
          stale: STALE_MS,
          update: HEARTBEAT_MS,
          retries: 0,
          onCompromised: (err) => {
            state.compromised = err.message;
            log.warn(`write lock compromised (${err.message}); this process stops writing until it holds the lock again`);
          },
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ELOCKED: held. ENOTEMPTY/EEXIST: proper-lockfile found it stale and could not
        // remove it (our owner file is inside). Either way: is its holder gone?
        if (code !== 'ELOCKED' && code !== 'ENOTEMPTY' && code !== 'EEXIST') {
          throw new StorageError(`cannot take the write lock ${this.lockDir}: ${(err as Error).message}`, { cause: err });
        }
        if (this.clearIfAbandoned()) continue;
        const now = Date.now();
        if (now >= deadlineAt) throw new TimeoutError(`timed out waiting for the write lock (${this.describeHolder()})`);
        await sleep(Math.min(delay, deadlineAt - now));
        delay = Math.min(delay * 2, 100);
        continue;
      }
      const owner: Owner = { pid: process.pid, host: HOST, start: OWN_START, nonce: randomBytes(12).toString('hex') };
      try {
        writeFileSync(join(this.lockDir, 'owner'), JSON.stringify(owner));
      } catch (err) {
        await release().catch(() => undefined);
        throw new StorageError(`cannot write the write lock's owner file: ${(err as Error).message}`, { cause: err });
      }
      return this.held(owner, release, state);
    }
  }

  private held(owner: Owner, release: () => Promise<void>, state: { compromised: string | undefined }): HeldLock {
    const ownerFile = join(this.lockDir, 'owner');
    return {
      assertHeld: () => {
        if (state.compromised !== undefined) throw new StorageError(`the write lock was lost (${state.compromised}); nothing was written`);
        const current = readOwner(this.lockDir);
        if (current?.nonce !== owner.nonce) {
          state.compromised = 'another process took it over';
          throw new StorageError('the write lock was taken over by another process; nothing was written');
        }
      },
      release: async () => {
        // Only remove what is still ours: after a takeover the directory is someone else's.
        const ours = readOwner(this.lockDir)?.nonce === owner.nonce;
        if (ours) rmSync(ownerFile, { force: true });
        if (state.compromised === undefined) {
          await release().catch((err: Error) => log.warn(`releasing the write lock failed: ${err.message}`));
        } else if (ours) {
          rmSync(this.lockDir, { recursive: true, force: true });
        }
      },
    };
  }

  /**
   * Removes the lock directory when its holder is gone: a dead (or reused)
   * pid on this host, or no heartbeat for STALE_MS from another host or from
   * a holder that died before writing its owner file. Rename first (atomic:
   * one process wins), then check the moved lock is still the one judged.
   */
  private clearIfAbandoned(): boolean {
    const owner = readOwner(this.lockDir);
    const stale = mtimeAge(this.lockDir) > STALE_MS;
    let why: string | undefined;
    if (owner && owner.host === HOST) {
      if (!processMatches(owner)) why = `its holder, process ${owner.pid}, no longer runs`;
    } else if (stale) {
      why = owner ? `its holder on ${owner.host} sent no heartbeat for ${STALE_MS / 1000} s` : `it has no owner and no heartbeat for ${STALE_MS / 1000} s`;
    }
    if (why === undefined) return false;
    const tomb = `${this.lockDir}.stale-${process.pid}-${Date.now()}-${randomBytes(3).toString('hex')}`;
    try {
      renameSync(this.lockDir, tomb);
    } catch {
      return false; // gone already, or another process moved it first
    }
    const moved = readOwner(tomb);
    if ((moved?.nonce ?? null) !== (owner?.nonce ?? null)) {
      // Someone else acquired it between our look and the rename: give it back.
      try {
        renameSync(tomb, this.lockDir);
      } catch {
        rmSync(tomb, { recursive: true, force: true });
      }
      return false;
    }
    rmSync(tomb, { recursive: true, force: true });
    log.warn(`cleared a write lock: ${why}`);
    return true;
  }

  private describeHolder(): string {
    const owner = readOwner(this.lockDir);
    return owner ? `held by process ${owner.pid} on ${owner.host}` : 'held by a process that has not written its owner file yet';
  }
}

function readOwner(lockDir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(lockDir, 'owner'), 'utf8')) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.nonce === 'string') {
      return { pid: o.pid, host: o.host, start: typeof o.start === 'string' ? o.start : null, nonce: o.nonce };
    }
  } catch {
    // missing (not written yet, or released) or torn: treated as no owner
  }
  return undefined;
}

function mtimeAge(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Whether the recorded holder is still the same running process. */
function processMatches(owner: Owner): boolean {
  if (owner.pid === process.pid) return owner.start === OWN_START;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Alive: the same process only if it started when the holder did (where we can tell).
  return owner.start === null || processStartTime(owner.pid) === owner.start;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
