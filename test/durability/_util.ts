/**
 * Shared bits for the durability tests: every process here is a REAL separate
 * OS process (the built dist/src/cli.js), spawned through ../e2e/_spawn.ts so
 * that cleanup() kills every child and removes every temp dir.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliRun } from '../e2e/_spawn.js';

export * from '../e2e/_spawn.js';

/**
 * Env for one memlane on `dir`; background maintenance off unless asked, so tests decide when compaction runs.
 * The local embedder's dimension is pinned so that a rebuild of dist/ with another default, between two
 * processes of one test, cannot turn into an embedder-mismatch failure.
 */
export const envFor = (dir: string, extra: Record<string, string> = {}): Record<string, string> => ({
  MEMLANE_DB: dir,
  MEMLANE_EMBED_DIM: '768',
  MEMLANE_MAINTENANCE_INTERVAL_MS: '0',
  MEMLANE_LOG_LEVEL: 'warn',
  ...extra,
});

export interface Stats {
  db: string;
  embedder: { provider: string; model: string; dim: number };
  agents: Array<{ agent_id: string; namespace: string; memories: number; sessions: number }>;
  bytes_on_disk: number;
  versions: number;
  fragments: number;
  indexes: unknown[];
  [k: string]: unknown;
}

/** `memlane stats --json` in its own process: exit 0 and exactly one JSON document on stdout. */
export async function stats(dir: string, timeoutMs = 30_000): Promise<{ stats: Stats; run: CliRun }> {
  const run = await runCli(['stats', '--json'], envFor(dir), timeoutMs);
  expect(run.code, `stats failed: ${run.stderr}`).toBe(0);
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stats --json printed ${lines.length} non-empty lines:\n${run.stdout}`).toHaveLength(1);
  return { stats: JSON.parse(lines[0]!) as Stats, run };
}

export const memoriesOf = (s: Stats, agent: string): number => s.agents.find((a) => a.agent_id === agent)?.memories ?? 0;

/** `memlane <args>` in its own process, with the test env. */
export const cli = (dir: string, args: string[], timeoutMs = 30_000, extra: Record<string, string> = {}) => runCli(args, envFor(dir, extra), timeoutMs);

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Files under `dir` whose raw bytes contain `needle` (UTF-8). */
export function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return filesUnder(dir).filter((f) => {
    try {
      return readFileSync(f).includes(bytes);
    } catch (err) {
      // Removed while we looked (a compaction in another process): no longer on disk, so clean.
      // Any other failure means the file could not be checked, which must not count as clean.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  });
}

export type Result = { index: number; id?: string; status: string; action?: string; error?: { code: string; message: string } };

/** Splits `arr` into chunks of `n`. */
export const chunks = <T>(arr: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(arr.length / n) }, (_, i) => arr.slice(i * n, i * n + n));

/** The write lock directory beside the tables (src/store/dir-lock.ts). */
export const writeLockDir = (dir: string): string => join(dir, 'memlane-write.lock');
export const writeLockLeft = (dir: string): boolean => existsSync(writeLockDir(dir));
