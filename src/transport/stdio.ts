import type { App } from '../app.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import type { ScopeSources } from '../scope/resolve.js';
import type { Ready } from '../server.js';
import type { StdioBoot } from './stdio-boot.js';

/** If no client asks for the tool list first, the rest is loaded this soon after start anyway. */
/**
 * Clients list the tools right after `initialize`; the open waits for that
 * list (or this long, for a client that never lists), because loading LanceDB
 * and the agent's replica holds the event loop for hundreds of ms, and a
 * tools/list arriving meanwhile would wait for it (measured: 741 ms to the
 * first tools/list at 10,000 memories with 150 ms here, on a loaded machine).
 */
const OPEN_AFTER_MS = 1_000;

/**
 * `memlane` with no arguments: the MCP server on stdin/stdout. stdout carries
 * protocol messages only; logs go to stderr. Exits cleanly, with LanceDB
 * closed, when stdin closes or on SIGINT/SIGTERM.
 *
 * Start-up answers `initialize` and `tools/list` before the MCP SDK is loaded
 * and the database opened (stdio-boot.ts): loading the SDK, LanceDB's native
 * library and opening the tables is most of a start (hundreds of ms), and a
 * client waits for the tool list before it does anything else. The rest is
 * loaded right after the first tool list (or OPEN_AFTER_MS after start), and
 * the first tool call waits for it. A database that cannot be opened (a bad
 * path, another embedder) still stops the process with one line on stderr
 * and exit status 1.
 */
export async function serveStdio(config: Config, boot: StdioBoot, onFailure: (err: unknown) => never): Promise<void> {
  // The SDK and the server's tool schemas load once the first answers are out (see stdio-boot.ts).
  await Promise.race([boot.listed, new Promise((resolve) => setTimeout(resolve, OPEN_AFTER_MS))]);
  const [{ StdioServerTransport }, { createDeferredServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/stdio.js'),
    import('../server.js'),
  ]);
  let opened: App | undefined;
  let openSession: string | undefined;
  let opening: Promise<Ready> | undefined;
  const ready = (): Promise<Ready> =>
    (opening ??= (async () => {
      const { openApp } = await import('../app.js');
      const app = await openApp(config);
      opened = app;
      const sources: ScopeSources = {};
      if (config.sessionToken !== undefined) {
        sources.envToken = config.sessionToken;
      } else if (app.db.readOnly) {
        log.info('read replica: no open local default session (making one would write); calls need a session_token, or set MEMLANE_SESSION_TOKEN');
      } else if (!config.requireToken) {
        const session = await app.sessions.openDefault(config.defaultAgent);
        sources.defaultToken = session.token;
        openSession = session.session_id;
        log.info(`open local session ${session.session_id} for agent "${config.defaultAgent}" (set MEMLANE_REQUIRE_TOKEN=1 to require tokens)`);
      }
      // The agent this server acts for by default: its memories are loaded now, not at its first search.
      if (config.sessionToken === undefined && !app.db.readOnly) app.store.warm(`agent:${config.defaultAgent}`);
      // In the background: calls never wait for a model they do not need (failures are logged, and the first call retries).
      if (config.embedder.preload) app.embedder.prepare?.().catch(() => undefined);
      log.info(`memlane ready on stdio (database ${config.dbUri}, embedder ${app.embedder.provider}/${app.embedder.model})`);
      return { app, sources };
    })());
  const open = () => void ready().catch(onFailure);

  const server = createDeferredServer(config, ready, { onListed: open });
  const { input, output } = boot.handOver();
  const transport = new StdioServerTransport(input, output as unknown as NodeJS.WriteStream);
  let closing: Promise<void> | undefined;
  const shutdown = (why: string) =>
    (closing ??= (async () => {
      log.info(`shutting down (${why})`);
      await server.close().catch(() => undefined);
      // Let an open in progress finish, so its session is ended and its tables closed.
      await opening?.catch(() => undefined);
      if (opened && openSession !== undefined) {
        await opened.sessions.endOpenDefault(openSession).catch((err: Error) => log.warn(`could not end the open session: ${err.message}`));
      }
      await opened?.close();
      process.exit(0);
    })());
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.stdin.on('close', () => void shutdown('stdin closed'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await server.connect(transport);
  open();
}
