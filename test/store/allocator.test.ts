/**
 * store/allocator.ts: on Linux with glibc, memlane fixes malloc's trim
 * threshold so that what LanceDB frees goes back to the system. These tests
 * run in child processes (the setting is per process and cannot be undone),
 * against the built module, and measure the effect itself: glibc's resident
 * memory after a pattern of frees like a replica load's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CLI, ROOT } from '../e2e/_spawn.js';

const run = promisify(execFile);
const ALLOCATOR = pathToFileURL(join(ROOT, 'dist', 'src', 'store', 'allocator.js')).href;
const linuxGlibc = process.platform === 'linux' && Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

/**
 * One 16 MiB block freed (a decoded range of vectors), then 100 blocks of
 * 256 KiB each (25 MiB: the buffers of the next ranges), then those freed.
 * Reports the resident bytes the blocks added (`held`) and what is still
 * resident after their free (`kept`).
 */
const PATTERN = `
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
const mode = process.env.PATTERN_MODE;
let tuning;
if (mode === 'tuned') tuning = await (await import(${JSON.stringify(ALLOCATOR)})).tuneAllocator();
const libc = koffi.load('libc.so.6');
const malloc = libc.func('void *malloc(size_t size)');
const free = libc.func('void free(void *ptr)');
const memset = libc.func('void *memset(void *s, int c, size_t n)');
const rss = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
const big = malloc(16 << 20); memset(big, 1, 16 << 20); free(big);
const before = rss();
const blocks = [];
for (let i = 0; i < 100; i++) { const b = malloc(256 << 10); memset(b, 1, 256 << 10); blocks.push(b); }
const held = rss() - before;
for (const b of blocks) free(b);
const kept = rss() - before;
process.stdout.write(JSON.stringify({ tuning, held, kept }));
`;

async function pattern(mode: 'tuned' | 'untouched', env: NodeJS.ProcessEnv = {}) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PATTERN], { cwd: ROOT, env: { ...process.env, ...env, PATTERN_MODE: mode } });
  return JSON.parse(stdout) as { tuning?: { applied: boolean; reason?: string; trimThreshold?: number }; held: number; kept: number };
}

describe.runIf(linuxGlibc)('glibc: freed memory goes back to the system', () => {
  it('with the tuning, freeing the blocks gives their memory back; without it, glibc keeps it', async () => {
    const untouched = await pattern('untouched');
    const tuned = await pattern('tuned');
    expect(tuned.tuning).toEqual({ applied: true, trimThreshold: 131072 });
    // 100 × 256 KiB = 25 MiB touched in both.
    for (const r of [untouched, tuned]) expect(r.held).toBeGreaterThan(24 * 2 ** 20);
    // glibc's dynamic thresholds, raised by the 16 MiB free (mmap 16 MiB, trim 32 MiB), put the
    // blocks in the heap and keep up to 32 MiB of free heap: all of it stays resident.
    expect(untouched.kept).toBeGreaterThan(0.9 * untouched.held);
    // Fixed at 128 KiB, each block had its own mapping, unmapped at its free.
    expect(tuned.kept).toBeLessThan(0.1 * tuned.held);
  });

  it('leaves glibc alone when the environment sets one of its malloc thresholds', async () => {
    for (const env of [{ MALLOC_TRIM_THRESHOLD_: '262144' }, { MALLOC_MMAP_THRESHOLD_: '65536' }, { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=262144' }]) {
      const r = await pattern('tuned', env);
      expect(r.tuning?.applied, JSON.stringify(env)).toBe(false);
      expect(r.tuning?.reason).toMatch(/the environment sets (MALLOC_TRIM_THRESHOLD_|MALLOC_MMAP_THRESHOLD_|GLIBC_TUNABLES)/);
    }
    // Other tunables are not a malloc threshold: the tuning still applies.
    expect((await pattern('tuned', { GLIBC_TUNABLES: 'glibc.cpu.hwcap_mask=0', MALLOC_ARENA_MAX: '2' })).tuning?.applied).toBe(true);
  });

  it('a command that opens the database applies it, and MEMLANE_MALLOC_TRIM=0 turns it off', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'memlane-alloc-')), 'db');
    const cli = async (args: string[], extra: Record<string, string>) =>
      (await run(process.execPath, [CLI, ...args], { env: { ...process.env, MEMLANE_DB: db, MEMLANE_LOG_LEVEL: 'debug', ...extra } })).stderr;
    const stats = (extra: Record<string, string>) => cli(['stats'], extra);
    await cli(['session', 'create', '--agent', 'a'], {});
    expect(await stats({})).toMatch(/glibc malloc: trim threshold fixed at 131072 bytes/);
    const off = await stats({ MEMLANE_MALLOC_TRIM: '0' });
    expect(off).not.toMatch(/glibc malloc/);
  });
});

describe('MEMLANE_MALLOC_TRIM', () => {
  it('is on by default, off with 0 or false, and anything else is a configuration error', () => {
    expect(loadConfig({}).store.releaseFreedMemory).toBe(true);
    expect(loadConfig({ MEMLANE_MALLOC_TRIM: '1' }).store.releaseFreedMemory).toBe(true);
    expect(loadConfig({ MEMLANE_MALLOC_TRIM: '0' }).store.releaseFreedMemory).toBe(false);
    expect(loadConfig({ MEMLANE_MALLOC_TRIM: 'false' }).store.releaseFreedMemory).toBe(false);
    expect(() => loadConfig({ MEMLANE_MALLOC_TRIM: 'yes' })).toThrow(/MEMLANE_MALLOC_TRIM/);
  });
});
