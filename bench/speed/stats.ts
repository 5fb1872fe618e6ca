import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Latency {
  calls: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of a sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export function latency(ms: readonly number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    calls: s.length,
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    mean: round(s.length === 0 ? 0 : sum / s.length),
    max: round(s[s.length - 1] ?? 0),
  };
}

export { round };

/** Runs `fn` and returns its result and its wall time in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/**
 * Peak resident set (VmHWM) of a live process, in bytes, from /proc (Linux);
 * undefined where /proc is not there.
 */
export function peakRss(pid: number | 'self'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/mu.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set now (VmRSS) of a live process, in bytes, from /proc (Linux); undefined where /proc is not there. */
export function currentRss(pid: number | 'self'): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/mu.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resets this process's VmHWM to its current RSS (Linux `clear_refs` 5), so the
 * in-process mode reports each size's own peak. Returns false where that is
 * not allowed; the peak then includes the sizes before.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Bytes of every file under `path` (or of the file itself). */
export function bytesOnDisk(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += bytesOnDisk(join(path, name));
  return total;
}

export const MiB = 2 ** 20;
