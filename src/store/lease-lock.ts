import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { StorageError, TimeoutError } from '../errors.js';
import { log } from '../log.js';
import { VERSION } from '../version.js';
import type { ConditionalStore } from './backends/conditional.js';
import type { CrossProcessLock, HeldLock } from './lock.js';

/**
 * The cross-process writer lock of a database on an object store (or, for
 * `s3+ddb://`, in DynamoDB): a lease object taken with a conditional create
 * (`If-None-Match: *`), renewed and released with conditional writes on its
 * tag (`If-Match: <ETag>`), and naming its holder (host, pid, a nonce).
 *
 * Expiry without trusting clocks. A waiter never compares the timestamps in
 * the object with its own clock: it takes a lease over only after it has seen
 * the *same* tag, unchanged, for `ttlMs` by its own monotonic clock. A live
 * holder renews every `ttlMs / 4` (each renewal changes the tag), so only a
 * holder that stopped renewing (dead, paused, cut off) loses its lease. Clock
 * offsets between machines therefore do not matter, only clock rates (ppm).
 *
 * Commit window. The holder counts from the moment it *sent* its last
 * successful create or renewal; `assertHeld` (right before every commit)
 * refuses once half the TTL has passed since then. A waiter first sees that
 * tag after it was sent, and waits a whole TTL on top, so a holder's commit
 * starts at least `ttlMs / 2` before anyone else may take over. What stays
 * unprotected (no lease can fence it): a commit request that the network
 * delays by more than that after the check. Even then LanceDB's own
 * conditional commit keeps both writes; only the holder's read-decide-write
 * (dedupe, expected_version, new ids) could be stale.
 *
 * Fairness. A release is deferred by one tick: when this process has another
 * write queued, it keeps the lease for it (no request at all), up to HOLD_CAP_MS
 * of continuous holding; after such a capped hold, or while it has met another
 * writer in the last CONTENDED_MS, it waits YIELD_MS after a release before
 * taking the lease again, so a waiting process (polling at most every
 * POLL_MAX_MS) gets its turn. A lone writer never waits.
 */
export const DEFAULT_LEASE_TTL_MS = 20_000;
const HOLD_CAP_MS = 250;
const YIELD_MS = 120;
const POLL_MAX_MS = 50;
/** A process that met another writer this recently yields after each release. */
const CONTENDED_MS = 2_000;
const HOST = hostname();

export interface LeaseHolder {
  host: string;
  pid: number;
  nonce: string;
  memlane: string;
  acquired_at: string;
  renewed_at: string;
  ttl_ms: number;
}

export interface LeaseOptions {
  ttlMs?: number;
  /** What the lease guards, for messages: "write lease", "maintenance lease". */
  label: string;
}

export class LeaseLock implements CrossProcessLock {
  readonly ttlMs: number;
  private readonly label: string;
  /** The tag a waiter saw and since when (monotonic ms); kept across attempts. */
  private seen: { tag: string; since: number; holder: LeaseHolder | undefined } | undefined;
  private current: Lease | undefined;
  private lastReleaseAt = -Infinity;
  /** When an attempt last found the lease held by another process (monotonic ms). */
  private lastContendedAt = -Infinity;

  constructor(
    private readonly store: ConditionalStore,
    private readonly key: string,
    opts: LeaseOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.label = opts.label;
  }

  get where(): string {
    return this.store.describe(this.key);
  }

  async acquire(deadlineAt: number): Promise<HeldLock> {
    const kept = this.current?.reuse();
    if (kept) return kept;
    // Our own release may still be pending (the cap refused reuse): finish it, then yield,
    // if this process was busy past the cap or has met another writer lately.
    const capped = this.current?.capped() ?? false;
    await this.current?.flush();
    const sinceRelease = performance.now() - this.lastReleaseAt;
    const shared = capped || performance.now() - this.lastContendedAt < CONTENDED_MS;
    if (shared && sinceRelease < YIELD_MS) await sleep(Math.min(YIELD_MS - sinceRelease, deadlineAt - Date.now()));
    let delay = 10;
    let absent = true;
    for (;;) {
      const got = await this.attempt(absent);
      if (got) return got;
      absent = this.seen === undefined;
      const now = Date.now();
      if (now >= deadlineAt) throw new TimeoutError(`timed out waiting for the ${this.label} (${this.describeHolder()})`);
      await sleep(Math.min(delay, deadlineAt - now));
      delay = Math.min(Math.round(delay * 1.5), POLL_MAX_MS);
    }
  }

  async flush(): Promise<void> {
    await this.current?.flush();
  }

  /** One try, no waiting (background maintenance): the lease, or undefined while someone else holds it. */
  async tryAcquire(): Promise<HeldLock | undefined> {
    return (await this.attempt(true)) ?? (this.seen === undefined ? this.attempt(true) : undefined);
  }

  /**
   * Creates the lease (when it looked absent), else reads it: gone → create
   * next time; a new tag → start watching it; the same tag for a whole TTL →
   * take it over with a write conditional on that very tag.
   */
  private async attempt(create: boolean): Promise<HeldLock | undefined> {
    try {
      if (create) {
        const sentAt = performance.now();
        const holder = this.newHolder();
        const tag = await this.store.create(this.key, JSON.stringify(holder));
        if (tag !== undefined) return this.hold(tag, sentAt, holder);
      }
      const found = await this.store.read(this.key);
      if (!found) {
        this.seen = undefined;
        return undefined;
      }
      const now = performance.now();
      this.lastContendedAt = now;
      if (this.seen?.tag !== found.tag) {
        this.seen = { tag: found.tag, since: now, holder: parseHolder(found.body) };
        return undefined;
      }
      const ttl = Math.max(this.ttlMs, this.seen.holder?.ttl_ms ?? 0);
      if (now - this.seen.since < ttl) return undefined;
      const stale = this.seen;
      this.seen = undefined;
      const sentAt = performance.now();
      const holder = this.newHolder();
      const tag = await this.store.replace(this.key, JSON.stringify(holder), stale.tag);
      if (tag === undefined) return undefined;
      log.warn(`took over the ${this.label} ${this.where}: ${describe(stale.holder)} did not renew it for ${Math.round((sentAt - stale.since) / 1000)} s`);
      return this.hold(tag, sentAt, holder);
    } catch (err) {
      throw new StorageError(`cannot take the ${this.label} ${this.where}: ${(err as Error).message}`, { cause: err });
    }
  }

  private newHolder(): LeaseHolder {
    const now = new Date().toISOString();
    return { host: HOST, pid: process.pid, nonce: randomBytes(12).toString('hex'), memlane: VERSION, acquired_at: now, renewed_at: now, ttl_ms: this.ttlMs };
  }

  private hold(tag: string, sentAt: number, holder: LeaseHolder): HeldLock {
    this.seen = undefined;
    const lease = new Lease(this.store, this.key, this.label, this.ttlMs, tag, sentAt, holder, () => {
      if (this.current === lease) this.current = undefined;
      this.lastReleaseAt = performance.now();
    });
    this.current = lease;
    return lease.handle();
  }

  private describeHolder(): string {
    return this.seen ? `held by ${describe(this.seen.holder)}` : 'held by another process';
  }
}

/** One taken lease: renewed on a timer, checked before commits, released (possibly handed to the next local write). */
class Lease {
  private lost: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly heldSince = performance.now();
  private pendingRelease: NodeJS.Immediate | undefined;
  private inUse = true;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly store: ConditionalStore,
    private readonly key: string,
    private readonly label: string,
    private readonly ttlMs: number,
    private tag: string,
    /** performance.now() when the last successful create or renewal was sent. */
    private confirmedAt: number,
    private readonly holder: LeaseHolder,
    private readonly onReleased: () => void,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(ttlMs / 4)));
    this.timer.unref();
  }

  handle(): HeldLock {
    return {
      assertHeld: () => this.assertHeld(),
      release: () => this.release(),
    };
  }

  /** Whether the next write of this process was refused the lease for having held it past the cap. */
  capped(): boolean {
    return this.pendingRelease !== undefined && performance.now() - this.heldSince > HOLD_CAP_MS;
  }

  /** The lease again for the next write of this process, when a release is pending and the cap allows. */
  reuse(): HeldLock | undefined {
    if (this.inUse || !this.pendingRelease || this.lost !== undefined) return undefined;
    if (performance.now() - this.heldSince > HOLD_CAP_MS || !this.fresh()) return undefined;
    clearImmediate(this.pendingRelease);
    this.pendingRelease = undefined;
    this.inUse = true;
    return this.handle();
  }

  private fresh(): boolean {
    return performance.now() - this.confirmedAt < this.ttlMs / 2;
  }

  private assertHeld(): void {
    if (this.lost !== undefined) throw new StorageError(`the ${this.label} was lost (${this.lost}); nothing was written`);
    if (!this.fresh()) {
      const s = Math.round((performance.now() - this.confirmedAt) / 1000);
      throw new StorageError(`the ${this.label} was last confirmed ${s} s ago (the store is unreachable or this process was paused); nothing was written`);
    }
  }

  private renew(): Promise<void> {
    if (this.lost !== undefined || this.renewing) return this.renewing ?? Promise.resolve();
    const sentAt = performance.now();
    const body = JSON.stringify({ ...this.holder, renewed_at: new Date().toISOString() });
    this.renewing = this.store
      .replace(this.key, body, this.tag)
      .then((tag) => {
        if (tag === undefined) {
          this.lost = 'another process took it over';
          log.warn(`${this.label} ${this.store.describe(this.key)} was taken over by another process; this process stops writing until it holds it again`);
        } else {
          this.tag = tag;
          this.confirmedAt = sentAt;
        }
      })
      .catch((err: Error) => log.warn(`renewing the ${this.label} failed (${err.message}); retrying`))
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private release(): Promise<void> {
    this.inUse = false;
    // Deferred by one tick: the next write queued in this process may take it over (reuse).
    return new Promise<void>((resolve) => {
      this.pendingRelease = setImmediate(() => {
        this.pendingRelease = undefined;
        void this.finish();
      });
      resolve();
    });
  }

  /** Runs a pending release now (before the process closes). */
  async flush(): Promise<void> {
    if (!this.pendingRelease) return;
    clearImmediate(this.pendingRelease);
    this.pendingRelease = undefined;
    await this.finish();
  }

  private async finish(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    this.onReleased();
    if (this.lost !== undefined) return;
    try {
      if (!(await this.store.remove(this.key, this.tag))) log.warn(`${this.label} ${this.store.describe(this.key)} had been taken over before it was released`);
    } catch (err) {
      log.warn(`releasing the ${this.label} failed (${(err as Error).message}); it lapses after ${this.ttlMs / 1000} s`);
    }
  }
}

function parseHolder(body: string): LeaseHolder | undefined {
  try {
    const h = JSON.parse(body) as Partial<LeaseHolder>;
    if (typeof h.host === 'string' && typeof h.pid === 'number' && typeof h.nonce === 'string') return h as LeaseHolder;
  } catch {
    // torn or foreign: described as unknown
  }
  return undefined;
}

const describe = (h: LeaseHolder | undefined): string => (h ? `process ${h.pid} on ${h.host} (since ${h.acquired_at})` : 'an unknown holder');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
