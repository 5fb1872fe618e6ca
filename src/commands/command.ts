import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { App } from '../app.js';
import { UsageError } from './usage.js';

/**
 * A command-line command: arguments are parsed (and usage errors reported)
 * before the database is opened, then `run` does the work.
 */
export interface Command<Args> {
  parse(argv: string[]): Args;
  /** Opening options: `adopt` lets `reembed` open a database written by another embedder. */
  open?: { adopt?: boolean };
  run(app: App, args: Args): Promise<number>;
}

export const defineCommand = <Args>(c: Command<Args>): Command<Args> => c;

/** node:util parseArgs, with its errors turned into usage errors (exit status 2). */
export function parseOrUsage<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
