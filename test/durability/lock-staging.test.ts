/**
 * The write lock stages its next acquisition in the background
 * (src/store/dir-lock.ts): the owner file of the next holding is written
 * into a staging directory while the lock is held, so taking it on the next
 * write call is one rename. What must still hold: the lock always has its
 * owner file, the staged directory is used (not a new one per call), a
 * staging made long ago does not look like a stale heartbeat to another
 * host, nothing is left behind at close, and a staging that vanished is
 * replaced instead of failing the write.
 */
import { readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryLock } from '../../src/store/dir-lock.js';
import { cleanup, tempDir } from './_util.js';

const LOCK = 'memlane-write.lock';
const staging = (db: string) => readdirSync(db).filter((n) => n.startsWith(`${LOCK}.new-`));
const ownerNonce = (dir: string) => (JSON.parse(readFileSync(join(dir, 'owner'), 'utf8')) as { nonce: string }).nonce;
const soon = () => Date.now() + 5_000;

/** Waits until the background staging has finished (it is a few file system calls). */
async function staged(db: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const names = staging(db);
    if (names.length === 1) {
      try {
        ownerNonce(join(db, names[0]!));
        return names[0]!;
      } catch {
        // the owner file is being written
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no staged lock directory in ${db}: ${readdirSync(db).join(', ')}`);
}

afterEach(cleanup);
const db = () => tempDir();

describe('the write lock’s staged next acquisition', () => {
  it('is made while the lock is held and is what the next acquisition renames into place', async () => {
    const dir = db();
    const lock = new DirectoryLock(dir);
    const first = await lock.acquire(soon());
    const next = await staged(dir);
    const nonce = ownerNonce(join(dir, next));
    expect(ownerNonce(join(dir, LOCK)), 'the held lock has its own owner, not the staged one').not.toBe(nonce);
    await first.release();
    const second = await lock.acquire(soon());
    expect(ownerNonce(join(dir, LOCK)), 'the staged owner is the new holder').toBe(nonce);
    second.assertHeld();
    await second.release();
    // One staging at a time, however many writes.
    for (let i = 0; i < 5; i++) await (await lock.acquire(soon())).release();
    await staged(dir);
    expect(staging(dir)).toHaveLength(1);
    await lock.flush();
    expect(readdirSync(dir).filter((n) => n.startsWith(LOCK)), 'nothing of the lock left after flush (what close runs)').toEqual([]);
  });

  it('made long ago (an idle server), gets a fresh mtime when taken, so another host does not judge it stale', async () => {
    const dir = db();
    const lock = new DirectoryLock(dir);
    await (await lock.acquire(soon())).release();
    const next = join(dir, await staged(dir));
    const old = new Date(Date.now() - 60_000);
    utimesSync(next, old, old);
    // The lock keeps its own record of when the staging was made: make it look that old too.
    const ahead = Date.now() + 60_000;
    const realNow = Date.now;
    Date.now = () => ahead;
    let held;
    try {
      held = await lock.acquire(ahead + 5_000);
    } finally {
      Date.now = realNow;
    }
    expect(Date.now() - statSync(join(dir, LOCK)).mtimeMs).toBeLessThan(10_000);
    await held.release();
    await lock.flush();
  });

  it('that vanished (removed by hand) is replaced: the write still takes the lock', async () => {
    const dir = db();
    const lock = new DirectoryLock(dir);
    await (await lock.acquire(soon())).release();
    rmSync(join(dir, await staged(dir)), { recursive: true, force: true });
    const held = await lock.acquire(soon());
    held.assertHeld();
    expect(ownerNonce(join(dir, LOCK))).toMatch(/^[0-9a-f]{24}$/);
    await held.release();
    await lock.flush();
    expect(readdirSync(dir).filter((n) => n.startsWith(LOCK))).toEqual([]);
  });

  it('is kept, unused, when an acquisition times out, and taken by the next one', async () => {
    const dir = db();
    const holder = new DirectoryLock(dir);
    const waiter = new DirectoryLock(dir);
    await (await waiter.acquire(soon())).release();
    const next = await staged(dir);
    const held = await holder.acquire(soon());
    // The holder (this live process) is never robbed: the waiter times out.
    await expect(waiter.acquire(Date.now() + 50)).rejects.toThrow(/timed out waiting for the write lock/);
    expect(staging(dir)).toContain(next);
    await held.release();
    const nonce = ownerNonce(join(dir, next));
    const mine = await waiter.acquire(soon());
    expect(ownerNonce(join(dir, LOCK))).toBe(nonce);
    await mine.release();
    await holder.flush();
    await waiter.flush();
    expect(readdirSync(dir).filter((n) => n.startsWith(LOCK))).toEqual([]);
  });
});
