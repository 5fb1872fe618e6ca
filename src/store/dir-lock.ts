import { randomBytes } from 'node:crypto';
import { mkdir, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StorageError, TimeoutError } from '../errors.js';
import { log } from '../log.js';
import type { CrossProcessLock, HeldLock } from './lock.js';

/**
 * The cross-process writer lock of a local database directory: a lock
 * directory with an `owner` file inside naming the holder, its mtime the
 * heartbeat.
 *
 * Taking it is one atomic step: the owner file is written into a private
 * staging directory, which is then renamed to the lock's name (rename fails
 * when a lock directory with an owner is there). So there is never a lock
 * without its owner: a holder killed between making the directory and
 * writing its owner file (proper-lockfile's mkdir, then a write, as before)
 * left a lock nobody could judge, which every later process waited out for
 * the whole staleness timeout (test/durability/kill9.test.ts caught it).
 *
 * Why the owner file: a holder killed with SIGKILL leaves the directory
 * behind. With the holder's pid, its process start time and host recorded,
 * a lock whose holder no longer runs on this machine is cleared at once, and
 * one whose pid now belongs to an unrelated process (pid reuse) is
 * recognised by the start time. A holder on another machine (a network file
 * system) can only be judged by the heartbeat: its lock is cleared once the
 * mtime is older than STALE_MS. A live holder on this machine is never
 * robbed, however slow its heartbeat: a process whose event loop stalls
 * keeps its lock.
 *
 * The staging directory of the next acquisition is made in the background
 * once the lock is taken (see Staged), so taking it is one rename on the call's
 * path: making a directory and writing a file cost this thread ~1.3 ms per
 * write call on this machine's file system (a CPU profile of a stdio ingest).
 *
 * Each acquisition writes a fresh nonce into the owner file; `assertHeld`
 * (called right before every commit) re-reads it, so a holder whose lock was
 * taken over stops writing before it commits, and the call reports
 * STORAGE_ERROR with nothing written.
 */
export const STALE_MS = 10_000;
const HEARTBEAT_MS = 2_000;
const HOST = hostname();
const LOCK_NAME = 'memlane-write.lock';
const OWN_START = processStartTime(process.pid);

interface Owner {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux), to tell a reused pid apart; null where unknown. */
  start: string | null;
  nonce: string;
}

interface LockState {
  compromised: string | undefined;
}

/** A staging directory with its owner file written, ready to be renamed into place. */
interface Staged {
  path: string;
  owner: Owner;
  /** When its making began (epoch ms): at or before its mtime, which another host reads as the heartbeat. */
  madeAt: number;
}

export class DirectoryLock implements CrossProcessLock {
  private readonly dir: string;
  private readonly lockDir: string;
  private swept = false;
  /** Lock directories moved aside and still being removed (see removeIfStill). */
  private readonly removals = new Set<Promise<void>>();
  /** The next acquisition's staging directory, being made or ready (see stageLater). */
  private next: Promise<Staged | undefined> | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.lockDir = join(dir, LOCK_NAME);
  }

  async acquire(deadlineAt: number): Promise<HeldLock> {
    if (!this.swept) {
      this.swept = true;
      this.sweepLeftovers();
    }
    const staged = (await this.next) ?? this.stageNow();
    this.next = undefined;
    let delay = 5;
    try {
      for (;;) {
        if (this.tryTake(staged)) {
          // Made a while ago (an idle server): its mtime must read as a live heartbeat from the start
          // (if that fails, the heartbeat tries again in HEARTBEAT_MS and reports the lock lost if it fails too).
          if (Date.now() - staged.madeAt > HEARTBEAT_MS) tryTouch(this.lockDir);
          this.next = this.stageLater();
          return this.held(staged.owner);
        }
        if (this.clearIfAbandoned()) continue;
        const now = Date.now();
        if (now >= deadlineAt) throw new TimeoutError(`timed out waiting for the write lock (${this.describeHolder()})`);
        await sleep(Math.min(delay, deadlineAt - now));
        delay = Math.min(delay * 2, 100);
      }
    } catch (err) {
      // Never held: still good for the next attempt (unless tryTake removed it, failing).
      if (existsSync(staged.path)) this.next = Promise.resolve(staged);
      throw err;
    }
  }

  /** A new owner (fresh nonce) and the staging directory holding its owner file. */
  private newStaged(): Staged {
    const owner: Owner = { pid: process.pid, host: HOST, start: OWN_START, nonce: randomBytes(12).toString('hex') };
    return { path: `${this.lockDir}.new-${owner.pid}-${owner.nonce}`, owner, madeAt: Date.now() };
  }

  private stageNow(): Staged {
    const staged = this.newStaged();
    try {
      mkdirSync(staged.path);
      writeFileSync(join(staged.path, 'owner'), JSON.stringify(staged.owner));
    } catch (err) {
      rmSync(staged.path, { recursive: true, force: true });
      throw new StorageError(`cannot take the write lock ${this.lockDir}: ${(err as Error).message}`, { cause: err });
    }
    return staged;
  }

  /** Stages the next acquisition off this thread; undefined if that fails (the next one stages itself, and reports why). */
  private async stageLater(): Promise<Staged | undefined> {
    const staged = this.newStaged();
    try {
      await mkdir(staged.path);
      await writeFile(join(staged.path, 'owner'), JSON.stringify(staged.owner));
      return staged;
    } catch {
      await rm(staged.path, { recursive: true, force: true }).catch(() => undefined);
      return undefined;
    }
  }

  /** One attempt: the staged owner renamed into place; false when another holds the lock (the staging is kept for the next). */
  private tryTake(staged: Staged): boolean {
    try {
      // Atomic. It also replaces an empty directory (an ownerless lock of an older memlane, which
      // wrote its owner file just after making it): if that holder is still running, its owner
      // file overwrites ours and our assertHeld refuses the commit, so nothing is written twice.
      renameSync(staged.path, this.lockDir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTEMPTY/EEXIST: held. EPERM/EACCES: what Windows says for the same, where the lock exists.
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || ((code === 'EPERM' || code === 'EACCES') && existsSync(this.lockDir))) return false;
      if (code === 'ENOENT' && !existsSync(staged.path)) {
        // The staging directory went (removed by hand, say): stage again, once, in its place.
        Object.assign(staged, this.stageNow());
        return this.tryTake(staged);
      }
      rmSync(staged.path, { recursive: true, force: true });
      throw new StorageError(`cannot take the write lock ${this.lockDir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Staging directories and tombs that a process killed mid-step left beside
   * the lock (their names carry its pid): removed once that process is gone.
   */
  private sweepLeftovers(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^memlane-write\.lock\.(?:new|stale|released)-(\d+)-/.exec(name);
      if (m && Number(m[1]) !== process.pid && !pidRuns(Number(m[1]))) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }

  private held(owner: Owner): HeldLock {
    const state: LockState = { compromised: undefined };
    // The heartbeat: the lock's mtime, touched while the owner file is still ours.
    const heartbeat = setInterval(() => {
      if (readOwner(this.lockDir)?.nonce !== owner.nonce) {
        this.lost(state, 'another process took it over');
        clearInterval(heartbeat);
        return;
      }
      try {
        touch(this.lockDir);
      } catch (err) {
        this.lost(state, `its heartbeat failed: ${(err as Error).message}`);
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
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
        clearInterval(heartbeat);
        // Only remove what is still ours: after a takeover the directory is someone else's.
        if (readOwner(this.lockDir)?.nonce !== owner.nonce) return;
        this.removeIfStill(owner.nonce, `released-${process.pid}`);
      },
    };
  }

  private lost(state: LockState, why: string): void {
    if (state.compromised !== undefined) return;
    state.compromised = why;
    log.warn(`write lock compromised (${why}); this process stops writing until it holds the lock again`);
  }

  /** Waits for the lock directories moved aside to be removed, and removes the staged one (before closing). */
  async flush(): Promise<void> {
    const next = this.next;
    this.next = undefined;
    const staged = await next;
    if (staged) await removeLockDir(staged.path);
    await Promise.all(this.removals);
  }

  /**
   * Moves the lock directory aside (atomic: one process wins) and removes it
   * if it is still the one with this nonce (null: no owner file); otherwise
   * someone acquired it in between, and it is put back.
   *
   * The lock is free once it is moved aside, so the moved directory is
   * removed in the background: a directory removal costs ~0.5 ms on this
   * machine's file system, on every write call's release (measured). One left
   * by a process killed meanwhile is swept by the next (its name carries the pid).
   */
  private removeIfStill(nonce: string | null, tag: string): boolean {
    const tomb = `${this.lockDir}.${tag}-${Date.now()}-${randomBytes(3).toString('hex')}`;
    try {
      renameSync(this.lockDir, tomb);
    } catch {
      return false; // gone already, or another process moved it first
    }
    if ((readOwner(tomb)?.nonce ?? null) !== nonce) {
      try {
        renameSync(tomb, this.lockDir);
      } catch {
        // A new lock is there already: the one moved aside is no longer anyone's to hold
        // (its holder's assertHeld now fails, so it writes nothing).
        this.removeLater(tomb);
      }
      return false;
    }
    this.removeLater(tomb);
    return true;
  }

  private removeLater(path: string): void {
    const removal = removeLockDir(path).finally(() => this.removals.delete(removal));
    this.removals.add(removal);
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
    if (!this.removeIfStill(owner?.nonce ?? null, `stale-${process.pid}`)) return false;
    log.warn(`cleared a write lock: ${why}`);
    return true;
  }

  private describeHolder(): string {
    const owner = readOwner(this.lockDir);
    return owner ? `held by process ${owner.pid} on ${owner.host}` : 'held by a process that has not written its owner file yet';
  }
}

/**
 * Removes a lock directory moved aside: its owner file, then the directory
 * (two system calls; a recursive removal walks it with lstat and readdir
 * first). Anything else found in it falls back to the recursive removal.
 */
async function removeLockDir(path: string): Promise<void> {
  try {
    await unlink(join(path, 'owner'));
    await rmdir(path);
  } catch {
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

function touch(path: string): void {
  const now = new Date();
  utimesSync(path, now, now);
}

function tryTouch(path: string): void {
  try {
    touch(path);
  } catch {
    // see the caller
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
  if (!pidRuns(owner.pid)) return false;
  // Alive: the same process only if it started when the holder did (where we can tell).
  return owner.start === null || processStartTime(owner.pid) === owner.start;
}

/** Whether some process has this pid (EPERM: one of another user's). */
function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
