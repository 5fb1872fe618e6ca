import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join, parse, relative, resolve, sep } from 'node:path';

/** The database cannot be opened where it was pointed (a bad path, a file, no permission). */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/** Thrown when the database was written by another embedder (contract §5). */
export class EmbedderMismatchError extends Error {
  override name = 'EmbedderMismatchError';
}

/**
 * Makes sure `dir` is a directory memlane can write, creating what is missing
 * one level at a time. Not `mkdirSync(dir, { recursive: true })`: on Node 20
 * it spins for ever at full CPU on a path under /proc (and blocks signals),
 * and it reports a file in the way as a bare EEXIST. Every failure is one
 * line naming the path and the problem.
 */
export function prepareLocalDir(dir: string): void {
  const target = resolve(dir);
  walk(target, (current) => {
    try {
      mkdirSync(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(current, target)?.isDirectory()) return true;
      throw new StoreOpenError(`cannot create the database directory ${target}: ${reason(err)}${current === target ? '' : ` (at ${current})`}`);
    }
    return true;
  });
  try {
    accessSync(target, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StoreOpenError(`the database directory ${target} is not writable: ${reason(err)}`);
  }
}

/**
 * Whether `dir` exists as a directory, without creating anything (read-only
 * commands); a file in the way is the same one line as for prepareLocalDir.
 */
export function localDirExists(dir: string): boolean {
  return walk(resolve(dir), () => false);
}

/**
 * Walks `target` from the root one part at a time: a file in the way is one
 * line naming it; at a missing part `missing` either makes it (true: go on)
 * or stops the walk (false). True when the whole path is a directory.
 */
function walk(target: string, missing: (current: string) => boolean): boolean {
  const { root } = parse(target);
  let current = root;
  for (const part of relative(root, target).split(sep).filter(Boolean)) {
    current = join(current, part);
    const stat = statOrUndefined(current, target);
    if (!stat) {
      if (!missing(current)) return false;
      continue;
    }
    if (!stat.isDirectory()) {
      throw new StoreOpenError(
        current === target ? `the database path ${target} is a file, not a directory` : `cannot use the database path ${target}: ${current} is a file, not a directory`,
      );
    }
  }
  return true;
}

function statOrUndefined(path: string, target: string) {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreOpenError(`cannot use the database path ${target}: ${reason(err)} (at ${path})`);
  }
}

/** `ENOENT: no such file or directory, mkdir '/proc/nope'` → `no such file or directory (ENOENT)`. */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = String(e.message ?? e).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return e.code ? `${text} (${e.code})` : text;
}
