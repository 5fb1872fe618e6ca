import { StorageError, TimeoutError } from '../errors.js';

/** A cross-process writer lock (a lock directory today; an object-store lease later). */
export interface CrossProcessLock {
  /** Waits until the lock is held or `deadlineAt` (epoch ms) has passed (TimeoutError). */
  acquire(deadlineAt: number): Promise<HeldLock>;
  /** Finishes a release still in progress (a lease hands itself to the next queued write first); called before closing. */
  flush?(): Promise<void>;
}

export interface HeldLock {
  /** Throws StorageError when the lock was lost since it was taken: call right before a commit. */
  assertHeld(): void;
  release(): Promise<void>;
}

export interface LockWait {
  /** Epoch ms after which waiting for the lock fails with TimeoutError (default: DEFAULT_WAIT_MS from now). */
  deadlineAt?: number;
}

/** How long a caller without its own deadline (a CLI command) waits for the lock. */
export const DEFAULT_WAIT_MS = 120_000;

/**
 * Serialises writes: first inside the process (a promise chain), then across
 * processes (a CrossProcessLock beside the tables).
 *
 * Why both: concurrent `mergeInsert` of the same new keys silently duplicates
 * rows, inside one process and across two (STACK-FACTS §5), and dedupe by
 * content needs "read, decide, write" to happen with nobody else writing. An IDE
 * and a desktop app each running memlane on one directory is the normal case.
 *
 * A wait is bounded by the caller's deadline, in the queue and for the
 * cross-process lock alike: a call never waits past its `timeout_ms`.
 */
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();
  private current: HeldLock | undefined;
  private holdings = 0;

  /** `cross` is undefined where memlane has no cross-process lock (a vouched single writer, db://). */
  constructor(private readonly cross: CrossProcessLock | undefined) {}

  /** Runs `fn` with the write lock held; calls queue in arrival order. */
  async run<T>(fn: () => Promise<T>, wait: LockWait = {}): Promise<T> {
    const deadlineAt = wait.deadlineAt ?? Date.now() + DEFAULT_WAIT_MS;
    const previous = this.tail;
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    // The next caller waits for the one before us too: if we give up waiting,
    // the previous holder may still be running.
    this.tail = Promise.all([previous.catch(() => undefined), mine]);
    try {
      await beforeDeadline(previous.catch(() => undefined), deadlineAt, 'waiting for this process’s earlier write');
      const held = this.cross ? await this.cross.acquire(deadlineAt) : undefined;
      this.current = held ?? NO_CROSS_LOCK;
      this.holdings++;
      try {
        return await fn();
      } finally {
        this.current = undefined;
        await held?.release();
      }
    } finally {
      leave();
    }
  }

  /**
   * Which holding of the lock is running now (a new number each time it is
   * taken), or undefined when no write holds it. While one holding lasts, no
   * other memlane process can commit a row change, so a table version checked
   * during it stays good for the rest of it (see ReplicaSet.fresh).
   */
  get holding(): number | undefined {
    return this.current ? this.holdings : undefined;
  }

  /** Resolves once every write this process has queued so far has finished (or given up). */
  async drain(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.cross?.flush?.();
  }

  /**
   * Throws StorageError unless this process holds the lock right now and has
   * not lost it. Every commit calls it first, so a process whose lock was
   * taken over writes nothing.
   */
  assertHeld(): void {
    if (!this.current) throw new StorageError('internal: a write was attempted without holding the write lock');
    this.current.assertHeld();
  }
}

const NO_CROSS_LOCK: HeldLock = { assertHeld() {}, async release() {} };

async function beforeDeadline(p: Promise<unknown>, deadlineAt: number, what: string): Promise<void> {
  const left = deadlineAt - Date.now();
  if (left <= 0) throw new TimeoutError(`timed out ${what}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`timed out ${what}`)), left)))]);
  } finally {
    clearTimeout(timer);
  }
}
