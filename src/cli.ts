#!/usr/bin/env node
import './quiet.js';
import { openApp } from './app.js';
import type { Command } from './commands/command.js';
import { compactCommand, statsCommand } from './commands/maintenance.js';
import { parseDoctorArgs, runDoctor } from './commands/doctor.js';
import { reembedCommand } from './commands/reembed.js';
import { sessionCommand } from './commands/session.js';
import { exportCommand, importCommand } from './commands/transfer.js';
import { USAGE, UsageError } from './commands/usage.js';
import { ConfigError, loadConfig } from './config.js';
import { ReadOnlyError } from './errors.js';
import { EmbedderMismatchError } from './store/db.js';
import { StoreOpenError } from './store/local-dir.js';
import { parseServeArgs } from './commands/serve.js';
import { serveStdio } from './transport/stdio.js';
import { VERSION } from './version.js';

/** Commands that open the database, run, and close it again. */
const commands: Record<string, Command<any>> = {
  session: sessionCommand,
  stats: statsCommand,
  compact: compactCommand,
  export: exportCommand,
  import: importCommand,
  reembed: reembedCommand,
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
  if (command === 'doctor') {
    const args = parseDoctorArgs(rest);
    return runDoctor(loadConfig(), args);
  }
  if (command !== undefined && command !== 'serve' && !commands[command]) throw new UsageError(`unknown command "${command}"`);
  const serve = command === 'serve' ? parseServeArgs(rest) : { http: undefined };
  const config = loadConfig();
  if (command === undefined || command === 'serve') {
    if (serve.http) {
      // Loaded only here: the SDK's HTTP transport costs every other start (stdio, the commands) half a second.
      const { serveHttp } = await import('./transport/http.js');
      await serveHttp(config, serve.http);
    } else await serveStdio(config);
    return -1; // keep running until stdin closes (stdio) or a signal arrives
  }
  const cmd = commands[command]!;
  // Arguments first: a usage mistake must not create or open a database.
  const args = cmd.parse(rest);
  const app = await openApp(config, { maintenance: false, ...cmd.open });
  try {
    return await cmd.run(app, args);
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
    } else if (err instanceof ConfigError || err instanceof EmbedderMismatchError || err instanceof StoreOpenError || err instanceof ReadOnlyError) {
      process.stderr.write(`memlane: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`memlane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
