/**
 * The cross-process write lock after a crash (issue 8): a holder killed with
 * SIGKILL leaves its lock directory behind, with an owner file inside. memlane
 * must take the lock back at once when the holder is gone, after the
 * staleness timeout too (where proper-lockfile, used before, failed with
 * ENOTEMPTY), when the holder died while taking it, and when the holder's pid now belongs to an unrelated live
 * process; and it must not rob a live holder, even a paused one, but wait for
 * it only until the call's deadline.
 *
 * The holder is a real separate process taking the lock with memlane's own
 * lock code (dist/src/store/dir-lock.js), so its death is a real SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/_spawn.js';
import { assertBuilt, cleanup, envFor, startMcp, tempDir } from './_util.js';

const LOCK_DIR = (db: string) => join(db, 'memlane-write.lock');
const holders = new Set<ChildProcess>();

/** A separate process that takes the write lock of `db` and keeps it until killed. */
async function holdLock(db: string): Promise<ChildProcess> {
  const module = pathToFileURL(join(ROOT, 'dist', 'src', 'store', 'dir-lock.js')).href;
  const script = `
    const { DirectoryLock } = await import(${JSON.stringify(module)});
    await new DirectoryLock(${JSON.stringify(db)}).acquire(Date.now() + 10000);
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  holders.add(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return child;
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

/** Makes the lock directory look as if its heartbeat stopped `ms` ago. */
function ageLock(db: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  utimesSync(LOCK_DIR(db), t, t);
}

const owner = (db: string) => JSON.parse(readFileSync(join(LOCK_DIR(db), 'owner'), 'utf8')) as { pid: number; host: string; start: string | null; nonce: string };

const item = (n: number) => ({ id: `lock-${n}`, content: `memory ${n} written after the lock came back` });

async function writesAndReadsBack(db: string, expectCleared: boolean): Promise<void> {
  const m = await startMcp(envFor(db, { MEMLANE_LOG_LEVEL: 'info' }));
  // A generous deadline: the lock must come back at once, not after a wait.
  const out = await m.ok('batch_remember', { memories: [item(1), item(2)], options: { timeout_ms: 8_000 } });
  expect(out.results.map((r: { status: string; action: string }) => `${r.status}/${r.action}`)).toEqual(['ok/created', 'ok/created']);
  const got = await m.ok('batch_get', { ids: ['lock-1', 'lock-2'] });
  expect(got.results.map((r: { status: string }) => r.status)).toEqual(['ok', 'ok']);
  if (expectCleared) expect(m.stderr()).toMatch(/cleared a write lock/);
  await m.close();
  expect(existsSync(LOCK_DIR(db)), 'the lock is released after the call').toBe(false);
  // Released lock directories are removed in the background; a clean exit waits for that.
  expect(readdirSync(db).filter((n) => n.startsWith('memlane-write.lock')), 'nothing of the lock is left').toEqual([]);
}

/** A database that exists already (a first start creates its tables under the lock, and would wait for it). */
async function seeded(memories: Array<{ id: string; content: string }> = []): Promise<string> {
  const db = tempDir();
  const seed = await startMcp(envFor(db));
  if (memories.length > 0) await seed.ok('batch_remember', { memories });
  await seed.close();
  return db;
}

describe('write lock recovery', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => {
    for (const h of holders) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
    holders.clear();
    await cleanup();
  });

  it('a holder killed with SIGKILL: the next process takes the lock at once and writes', async () => {
    const db = tempDir();
    await killed(await holdLock(db));
    expect(existsSync(join(LOCK_DIR(db), 'owner')), 'the killed holder left its lock behind').toBe(true);
    await writesAndReadsBack(db, true);
  });

  it('after the staleness timeout too (where proper-lockfile alone fails with ENOTEMPTY on the owner file)', async () => {
    const db = tempDir();
    await killed(await holdLock(db));
    ageLock(db, 60_000);
    await writesAndReadsBack(db, true);
  });

  it('a holder killed mid-acquisition leaves no ownerless lock to wait out: an empty lock directory (as older versions could leave) is taken at once, and staging or a released lock left by a dead process is swept', async () => {
    const db = await seeded();
    // Older memlane made the directory first and wrote its owner file next: a SIGKILL in between
    // left an empty lock that could only go stale. Dated an hour ahead, it never does here.
    mkdirSync(LOCK_DIR(db));
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(LOCK_DIR(db), future, future);
    // What a holder killed between staging its owner file and the rename leaves now.
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    const staging = `${LOCK_DIR(db)}.new-${dead.pid}-0123456789abcdef01234567`;
    mkdirSync(staging);
    writeFileSync(join(staging, 'owner'), JSON.stringify({ pid: dead.pid, host: hostname(), start: null, nonce: '0123456789abcdef01234567' }));
    // What a holder killed after releasing, before its background removal ran, leaves.
    const released = `${LOCK_DIR(db)}.released-${dead.pid}-1764700000000-abcdef`;
    mkdirSync(released);
    writeFileSync(join(released, 'owner'), JSON.stringify({ pid: dead.pid, host: hostname(), start: null, nonce: 'fedcba9876543210fedcba98' }));
    await writesAndReadsBack(db, false);
    expect(existsSync(staging), 'the dead process’s staging directory is swept').toBe(false);
    expect(existsSync(released), 'and its released lock directory').toBe(false);
  });

  it("a holder whose pid now belongs to an unrelated live process is recognised by its start time and cleared", async () => {
    const db = tempDir();
    await killed(await holdLock(db));
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    holders.add(unrelated);
    // The dead holder's record, with the pid reused by `sleep`: same host, another process.
    const dead = owner(db);
    writeFileSync(join(LOCK_DIR(db), 'owner'), JSON.stringify({ ...dead, pid: unrelated.pid }));
    await writesAndReadsBack(db, true);
    expect(unrelated.exitCode, 'the unrelated process is left alone').toBeNull();
  });

  it('the same with the heartbeat long stale', async () => {
    const db = tempDir();
    await killed(await holdLock(db));
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
    holders.add(unrelated);
    writeFileSync(join(LOCK_DIR(db), 'owner'), JSON.stringify({ ...owner(db), pid: unrelated.pid }));
    ageLock(db, 60_000);
    await writesAndReadsBack(db, true);
  });

  it('a live holder keeps the lock, even paused with a stale heartbeat: a call waits only until its timeout_ms, reports TIMEOUT and writes nothing', async () => {
    const db = await seeded();
    const holder = await holdLock(db);
    holder.kill('SIGSTOP'); // paused: no heartbeat
    ageLock(db, 60_000);
    const m = await startMcp(envFor(db));
    const out = await m.ok('batch_remember', { memories: [item(1), item(2)], options: { timeout_ms: 1_500 } });
    expect(out.results.map((r: { status: string; error?: { code: string } }) => r.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(out.results[0].error.message).toMatch(/write lock/);
    expect(out.results[0].error.message).toMatch(/nothing was written/);
    // The holder is still the owner: nobody took its lock.
    expect(owner(db).pid).toBe(holder.pid);

    holder.kill('SIGCONT');
    await killed(holder);
    const got = await m.ok('batch_get', { ids: ['lock-1', 'lock-2'] });
    expect(got.results.map((r: { error?: { code: string } }) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    // And once the holder is gone, the same server writes.
    const again = await m.ok('batch_remember', { memories: [item(1)], options: { timeout_ms: 8_000 } });
    expect(again.results[0].action).toBe('created');
    await m.close();
  });

  it('update and delete wait only until their deadline too', async () => {
    const db = await seeded([item(1)]);
    const holder = await holdLock(db);
    const m = await startMcp(envFor(db));
    const upd = await m.ok('batch_update', { updates: [{ id: 'lock-1', importance: 0.9 }], options: { timeout_ms: 800 } });
    expect(upd.results[0].error.code).toBe('TIMEOUT');
    const del = await m.ok('batch_delete', { ids: ['lock-1'], options: { timeout_ms: 800 } });
    expect(del.results[0].error.code).toBe('TIMEOUT');
    await killed(holder);
    const got = await m.ok('batch_get', { ids: ['lock-1'] });
    expect(got.results[0].memory.importance).toBe(0.5);
    expect(got.results[0].memory.version).toBe(1);
    await m.close();
  });
});
