import { log } from '../log.js';

/**
 * Tells glibc's malloc to give freed memory back to the system, before
 * LanceDB reads a table.
 *
 * LanceDB decodes a table's columns on its own threads in native buffers of
 * tens of MB (a range of 10,000 768-d vectors is 30 MB), and frees them once
 * the replica has copied what it keeps. glibc's default "dynamic" thresholds
 * learn from such frees: after one 30 MB block is freed, blocks up to 32 MB
 * come from the heap instead of their own mapping, and up to 64 MB of free
 * heap is kept. So the process keeps what the load used long after it is
 * freed: serving 100,000 memories peaked at 594–636 MiB and stayed there.
 * With a fixed trim threshold of 128 KiB (glibc's own starting value; fixing
 * it also fixes the mmap threshold, as `MALLOC_TRIM_THRESHOLD_=131072` in the
 * environment does) the same load peaked at 417–432 MiB and settled at
 * 373–415 (bench/RESULTS.md). The environment variable only counts at process
 * start, which a server started by Claude Desktop or an IDE does not control,
 * so memlane calls `mallopt` itself, through koffi (an FFI library with
 * prebuilt binaries: no compiler at install time).
 *
 * Only on Linux with glibc (musl and other systems allocate differently), only
 * once per process, and not when the environment already sets one of glibc's
 * MALLOC_*_ tunings (that choice is the user's). Never fails a start: if the
 * library cannot be loaded, memlane runs with glibc's defaults and says so at
 * debug level.
 */
export type AllocatorTuning =
  | { applied: true; trimThreshold: number }
  | { applied: false; reason: string };

/** glibc's M_TRIM_THRESHOLD (malloc.h). */
const M_TRIM_THRESHOLD = -1;
/** 128 KiB: glibc's own starting value for both thresholds. */
const TRIM_THRESHOLD = 128 * 1024;
/** Environment settings glibc reads at start that this would override (each of them also fixes the thresholds). */
const USER_TUNINGS = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TOP_PAD_'];
const USER_TUNABLES = /glibc\.malloc\.(trim_threshold|mmap_threshold|top_pad)=/;

let once: Promise<AllocatorTuning> | undefined;

export function tuneAllocator(env: NodeJS.ProcessEnv = process.env): Promise<AllocatorTuning> {
  once ??= apply(env).then((result) => {
    if (result.applied) log.debug(`glibc malloc: trim threshold fixed at ${result.trimThreshold} bytes (freed memory goes back to the system)`);
    else log.debug(`glibc malloc left as it is: ${result.reason}`);
    return result;
  });
  return once;
}

async function apply(env: NodeJS.ProcessEnv): Promise<AllocatorTuning> {
  if (process.platform !== 'linux') return { applied: false, reason: `not Linux (${process.platform})` };
  const set = USER_TUNINGS.filter((name) => env[name] !== undefined);
  if (env.GLIBC_TUNABLES !== undefined && USER_TUNABLES.test(env.GLIBC_TUNABLES)) set.push('GLIBC_TUNABLES (a malloc threshold)');
  if (set.length > 0) return { applied: false, reason: `the environment sets ${set.join(', ')}` };
  let libc: { func(signature: string): unknown };
  try {
    const { default: koffi } = await import('koffi');
    libc = koffi.load('libc.so.6');
  } catch (err) {
    return { applied: false, reason: `koffi could not load libc.so.6 (${err instanceof Error ? err.message : String(err)})` };
  }
  try {
    // Only glibc has it (musl's libc is another file, but a compatibility layer may answer to this name).
    libc.func('const char *gnu_get_libc_version()');
  } catch {
    return { applied: false, reason: 'not glibc' };
  }
  const mallopt = libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number;
  if (mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) !== 1) return { applied: false, reason: 'mallopt(M_TRIM_THRESHOLD) refused' };
  return { applied: true, trimThreshold: TRIM_THRESHOLD };
}
