import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { App } from '../app.js';
import { UsageError } from './usage.js';

/**
 * A command-line command: arguments are parsed (and usage errors reported)
 * before the database is opened, then `run` does the work.
 */
export interface Command<Args> {
  parse(argv: string[]): Args;
  /**
   * Opening options: `adopt` lets `reembed` open a database written by another
   * embedder; `readOnly` commands need an existing database (never create one)
   * of any embedder, and make no embedder.
   */
  open?: OpenMode | ((args: Args) => OpenMode);
  run(app: App, args: Args): Promise<number>;
}

export interface OpenMode {
  adopt?: boolean;
  readOnly?: boolean;
}

/** A command that cannot do what it was asked (a file it cannot write): one line, exit status 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

export const defineCommand = <Args>(c: Command<Args>): Command<Args> => c;

/** node:util parseArgs, with its errors turned into usage errors (exit status 2). */
export function parseOrUsage<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    // Node's messages go on, over lines, with advice about '--' ("Unknown option '--x'. To specify a positional …"): the first sentence says it.
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/\. (To specify|This command).*$/, '');
    throw new UsageError(message.replace(/\.$/, ''));
  }
}
