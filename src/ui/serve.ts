import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import { ErrorCode } from '../errors.js';
import { log } from '../log.js';
import { guardRequest, isLoopbackName } from '../transport/http-guard.js';
import { HttpRefusal, sendRefusal } from '../transport/http-reply.js';
import { createInspector, type Inspector } from './inspector.js';

export interface InspectorServer {
  /** http://host:port */
  origin: string;
  port: number;
  inspector: Inspector;
  close(): Promise<void>;
}

const originOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Prints a login link for the operator; on stderr, which is theirs (stdout may be a pipe). */
export function announceLogin(url: string, again = false): void {
  process.stderr.write(`memlane: inspector ${again ? 'login link used; the next one' : 'at'} ${url}\n`);
}

/** An inspector that prints each next login link (for the server reachable at `origin()`) once the last one was used. */
export function announcedInspector(app: App, origin: () => string): Inspector {
  return createInspector(app, { onSecret: (secret) => announceLogin(`${origin()}/ui/login?secret=${secret}`, true) });
}

/**
 * `memlane ui`: the inspector alone, on its own port, with the same
 * DNS-rebinding guard as /mcp (on a loopback bind every Host header must
 * name loopback; a present Origin must be allowed).
 */
export async function startInspectorServer(app: App, opts: { host: string; port: number }): Promise<InspectorServer> {
  let origin = '';
  const inspector = announcedInspector(app, () => origin);
  const guard = { loopbackBind: isLoopbackName(opts.host), ...(app.config.http.allowedOrigins && { allowedOrigins: app.config.http.allowedOrigins }) };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://inspector').pathname;
    const refusal = guardRequest(req, guard);
    if (refusal) {
      log.info(`inspector: refused ${req.method} ${path}: ${refusal.status} ${refusal.code}`);
      return sendRefusal(res, refusal);
    }
    if (path !== '/' && !inspector.owns(path)) return sendRefusal(res, new HttpRefusal(404, ErrorCode.NotFound, `no page ${path}; the inspector is at /ui/`));
    void inspector.handle(req, res);
  });
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = originOf(opts.host, port);
  return {
    origin,
    port,
    inspector,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
