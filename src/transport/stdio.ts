import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { openApp } from '../app.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import type { ScopeSources } from '../scope/resolve.js';
import { createServer } from '../server.js';

/**
 * `memlane` with no arguments: the MCP server on stdin/stdout. stdout carries
 * protocol messages only; logs go to stderr. Exits cleanly, with LanceDB
 * closed, when stdin closes or on SIGINT/SIGTERM.
 */
export async function serveStdio(config: Config): Promise<void> {
  const app = await openApp(config);
  const sources: ScopeSources = {};
  let openSession: string | undefined;
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

  const server = createServer(app, sources);
  const transport = new StdioServerTransport();
  let closing: Promise<void> | undefined;
  const shutdown = (why: string) =>
    (closing ??= (async () => {
      log.info(`shutting down (${why})`);
      await server.close().catch(() => undefined);
      if (openSession !== undefined) {
        await app.sessions.endOpenDefault(openSession).catch((err: Error) => log.warn(`could not end the open session: ${err.message}`));
      }
      await app.close();
      process.exit(0);
    })());
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.stdin.on('close', () => void shutdown('stdin closed'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await server.connect(transport);
  log.info(`memlane ready on stdio (database ${config.dbUri}, embedder ${app.embedder.provider}/${app.embedder.model})`);
}
