#!/usr/bin/env node
import './quiet.js';
import { CommandError, type Command } from './commands/command.js';
import { EmbeddingError } from './embed/embedder.js';
import { ModelFilesError } from './embed/transformers/files.js';
import { ReadOnlyError } from './errors.js';
import { parseServeArgs } from './commands/serve.js';
import { USAGE, UsageError } from './commands/usage.js';
import { ConfigError } from './errors.js';
import { EmbedderMismatchError, StoreOpenError } from './store/local-dir.js';
import { bootStdio } from './transport/stdio-boot.js';
import { VERSION } from './version.js';

/**
 * Commands that open the database, run, and close it again. Loaded on use:
 * every module a start does not need (LanceDB's native library above all)
 * would delay the stdio server's first answer.
 */
const commands: Record<string, () => Promise<Command<any>>> = {
  session: async () => (await import('./commands/session.js')).sessionCommand,
  stats: async () => (await import('./commands/maintenance.js')).statsCommand,
  compact: async () => (await import('./commands/maintenance.js')).compactCommand,
  export: async () => (await import('./commands/transfer.js')).exportCommand,
  import: async () => (await import('./commands/transfer.js')).importCommand,
  reembed: async () => (await import('./commands/reembed.js')).reembedCommand,
  ui: async () => (await import('./commands/ui.js')).uiCommand,
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
    const [{ parseDoctorArgs, runDoctor }, { loadConfig }] = await Promise.all([import('./commands/doctor.js'), import('./config.js')]);
    const args = parseDoctorArgs(rest);
    return runDoctor(loadConfig(), args);
  }
  if (command !== undefined && command !== 'serve' && command !== 'model' && !commands[command]) throw new UsageError(`unknown command "${command}"`);
  const serve = command === 'serve' ? parseServeArgs(rest) : { http: undefined };
  // The stdio server starts answering before anything heavy is loaded (transport/stdio-boot.ts).
  const boot = (command === undefined || command === 'serve') && !serve.http ? bootStdio() : undefined;
  const { loadConfig } = await import('./config.js');
  const config = loadConfig();
  // The model needs no database: it can be fetched before the first start, or before a switch.
  if (command === 'model') return (await import('./commands/model.js')).modelCommand(rest, config);
  if (command === undefined || command === 'serve') {
    if (serve.http) {
      // Loaded only here: the SDK's HTTP transport costs every other start (stdio, the commands) half a second.
      const { serveHttp } = await import('./transport/http.js');
      await serveHttp(config, serve.http);
    } else {
      const { serveStdio } = await import('./transport/stdio.js');
      await serveStdio(config, boot!, (err) => {
        report(err);
        process.exit(1);
      });
    }
    return -1; // keep running until stdin closes (stdio) or a signal arrives
  }
  const cmd = await commands[command]!();
  // Arguments first: a usage mistake must not create or open a database.
  const args = cmd.parse(rest);
  // `memlane session list | head`: the reader has all it wants once the pipe closes; stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    report(err);
    process.exit(1);
  });
  const { openApp } = await import('./app.js');
  const mode = typeof cmd.open === 'function' ? cmd.open(args) : cmd.open;
  const app = await openApp(config, { maintenance: false, ...mode });
  try {
    return await cmd.run(app, args);
  } finally {
    await app.close();
  }
}

/**
 * Says what went wrong on stderr, in one line, and sets the exit status: 2 for
 * usage (with a pointer to --help), 1 for everything else. A person never sees
 * a stack trace; MEMLANE_LOG_LEVEL=debug adds it, for a bug report.
 */
function report(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) {
    process.stderr.write(`memlane: ${message} (memlane --help shows the usage)\n`);
    process.exitCode = 2;
    return;
  }
  const known =
    err instanceof ConfigError || err instanceof EmbedderMismatchError || err instanceof StoreOpenError || err instanceof CommandError || err instanceof EmbeddingError || err instanceof ModelFilesError || err instanceof ReadOnlyError;
  process.stderr.write(`memlane: ${known ? message : `${message.split('\n')[0]} (MEMLANE_LOG_LEVEL=debug shows where)`}\n`);
  if (!known && process.env.MEMLANE_LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, report);
