#!/usr/bin/env node
import { openApp } from './app.js';
import { sessionCommand } from './commands/session.js';
import { USAGE, UsageError } from './commands/usage.js';
import { ConfigError, loadConfig } from './config.js';
import { EmbedderMismatchError } from './store/db.js';
import { serveStdio } from './transport/stdio.js';
import { VERSION } from './version.js';

// Lance's Rust core logs to stderr; keep it to real errors unless asked.
process.env.LANCEDB_LOG ??= 'error';

/** Commands that open the database, run, and close it again. */
const commands: Record<string, (app: Awaited<ReturnType<typeof openApp>>, argv: string[]) => Promise<number>> = {
  session: (app, argv) => sessionCommand(app, argv, process.stdout),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const config = loadConfig();
  if (command === undefined) {
    await serveStdio(config);
    return -1; // keep running until stdin closes or a signal arrives
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command "${command}"`);
  const app = await openApp(config, { maintenance: false });
  try {
    return await run(app, rest);
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`memlane: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError || err instanceof EmbedderMismatchError) {
      process.stderr.write(`memlane: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`memlane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
