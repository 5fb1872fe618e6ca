import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, openApp } from '../app.js';
import { type Config, ConfigError } from '../config.js';
import { ErrorCode } from '../errors.js';
import { log } from '../log.js';
import { authInfoFor } from '../scope/auth-info.js';
import { createServer, type MemlaneServer } from '../server.js';
import { VERSION } from '../version.js';
import { type Authenticated, authenticate } from './http-auth.js';
import { corsHeaders, guardRequest, isLoopbackName, originAllowed, type GuardOptions } from './http-guard.js';
import { RateLimit, readBody } from './http-limits.js';
import { HttpRefusal, sendJson, sendRefusal } from './http-reply.js';
import type { Inspector } from '../ui/inspector.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** `--public`: bind a non-loopback address although MEMLANE_ALLOWED_ORIGINS is not set. */
  public?: boolean;
  /** `--ui`: the web inspector (src/ui) beside /mcp, under /ui. */
  ui?: boolean;
}

export interface HttpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:8787/mcp */
  url: string;
  port: number;
  /** Open MCP sessions. */
  sessionCount(): number;
  /** The web inspector, with `ui`. */
  inspector?: Inspector;
  /**
   * Stops accepting, lets calls in flight finish (at most `graceMs`), then
   * ends every MCP session and connection. Leaves the App open.
   */
  close(graceMs?: number): Promise<void>;
}

/** One MCP session: its own MCP server and SDK transport, bound to the memlane session that opened it. */
interface McpSession {
  server: MemlaneServer;
  transport: StreamableHTTPServerTransport;
  /** The memlane session (`ses_…`) whose token initialised it; no other token may use it. */
  owner: string;
  lastSeen: number;
  /** Requests of this session being answered now (a GET stream counts while open). */
  open: number;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** An MCP session with no open request and no request for this long is closed (clients that never send DELETE). */
const SESSION_IDLE_MS = 60 * 60_000;
const MAX_SESSIONS = 1024;

/** Refuses, before opening anything, to bind beyond loopback unless the operator said so (README: security model). */
export function assertBindAllowed(config: Config, opts: HttpOptions): void {
  if (isLoopbackName(opts.host) || opts.public || config.http.allowedOrigins) return;
  throw new ConfigError(
    `refusing to listen on ${opts.host}, which is not a loopback address: set MEMLANE_ALLOWED_ORIGINS to the origins allowed to call it, ` +
      'or pass --public (then put a TLS proxy in front: tokens travel in plain HTTP otherwise)',
  );
}

/**
 * MCP Streamable HTTP at /mcp (contract §6), with the SDK's transport in its
 * SSE response mode: progress and log notifications of a call travel on the
 * call's own response stream (the SDK drops them in its JSON mode). In front
 * of it, in order: Host/Origin, bearer token, rate limit, body limit, then
 * the MCP session. Nothing of a refused request is read further or parsed.
 */
export async function startHttpServer(app: App, opts: HttpOptions): Promise<HttpServer> {
  const cfg = app.config.http;
  const guard: GuardOptions = { loopbackBind: isLoopbackName(opts.host), ...(cfg.allowedOrigins && { allowedOrigins: cfg.allowedOrigins }) };
  const rateLimit = cfg.rateLimit ? new RateLimit(cfg.rateLimit) : undefined;
  const sessions = new Map<string, McpSession>();
  let draining = false;
  let inFlight = 0;
  const idle = new Set<() => void>();
  const hostInUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let origin = '';
  // Its own login and cookie: an agent's bearer token does not open it, and its cookie does not open /mcp.
  const inspector = opts.ui ? (await import('../ui/serve.js')).announcedInspector(app, () => origin) : undefined;

  const openSession = async (auth: Authenticated): Promise<McpSession> => {
    if (sessions.size >= MAX_SESSIONS) {
      throw new HttpRefusal(503, 'UNAVAILABLE', `this server holds ${MAX_SESSIONS} MCP sessions; end one (DELETE /mcp) or retry later`, { 'Retry-After': '60' });
    }
    const server = createServer(app, {});
    const session: McpSession = {
      server,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, session),
        // SSE responses, never plain JSON: the SDK drops a call's notifications in JSON mode.
        enableJsonResponse: false,
      }),
      owner: auth.scope.session_id,
      lastSeen: Date.now(),
      open: 0,
    };
    // Set before connect: the MCP server chains its own close handler onto this one.
    session.transport.onclose = () => {
      const id = session.transport.sessionId;
      if (id !== undefined && sessions.get(id) === session) sessions.delete(id);
    };
    await server.connect(session.transport);
    return session;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://memlane').pathname;
    const refusal = guardRequest(req, guard);
    if (refusal) throw refusal;
    if (inspector && !draining && (path === '/' || inspector.owns(path))) return inspector.handle(req, res);
    const origin = req.headers.origin;
    if (origin !== undefined && originAllowed(origin, guard)) for (const [k, v] of Object.entries(corsHeaders(origin))) res.setHeader(k, v);
    if (draining) throw new HttpRefusal(503, 'UNAVAILABLE', 'the server is shutting down', { Connection: 'close', 'Retry-After': '5' });

    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpRefusal(405, 'METHOD_NOT_ALLOWED', 'use GET /healthz', { Allow: 'GET, HEAD' });
      return sendJson(res, 200, { status: 'ok', name: 'memlane', version: VERSION, transport: 'streamable-http', sessions: sessions.size });
    }
    if (path !== '/mcp') throw new HttpRefusal(404, 'NOT_FOUND', `no endpoint ${path}; MCP is at /mcp, health at /healthz`);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }

    const auth = await authenticate(app.sessions, req.headers);
    const mcpSessionId = header(req, 'mcp-session-id');
    const existing = mcpSessionId === undefined ? undefined : sessions.get(mcpSessionId);
    // Another token's session is reported exactly as one that does not exist.
    const session = existing?.owner === auth.scope.session_id ? existing : undefined;
    try {
      await rateLimit?.take(auth.scope.session_id);
      let body: unknown;
      if (req.method === 'POST') body = parseJson(await readBody(req, cfg.maxBodyBytes));
      await route(req, res, auth, mcpSessionId, session, body);
    } catch (err) {
      if (err instanceof HttpRefusal && session) session.server.clientLog.send('warning', `request refused: ${err.status} ${err.code}: ${err.message}`);
      throw err;
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, auth: Authenticated, id: string | undefined, session: McpSession | undefined, body: unknown) => {
    let target = session;
    if (id !== undefined && !target) throw new HttpRefusal(404, 'NOT_FOUND', 'Session not found: start a new one with initialize', {}, -32001);
    if (!target) {
      const initializes = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
      if (req.method !== 'POST' || !initializes) {
        throw new HttpRefusal(400, 'BAD_REQUEST', 'Bad Request: send the Mcp-Session-Id header from initialize, or an initialize request to start a session');
      }
      target = await openSession(auth);
      const fresh = target;
      res.once('close', () => {
        // An initialize the SDK refused (406, 415, bad version) leaves a session that never started.
        if (fresh.transport.sessionId === undefined) void fresh.server.close();
      });
    }
    target.lastSeen = Date.now();
    target.open++;
    res.once('close', () => {
      target.open--;
      target.lastSeen = Date.now();
    });
    (req as IncomingMessage & { auth?: unknown }).auth = authInfoFor(auth.token, auth.scope);
    await target.transport.handleRequest(req, res, body);
  };

  const httpServer = createHttpServer((req, res) => {
    // GET streams stay open for the session's life: they do not hold up a shutdown.
    const counted = req.method !== 'GET';
    if (counted) {
      inFlight++;
      res.once('close', () => {
        inFlight--;
        if (inFlight === 0) for (const wake of idle) wake();
      });
    }
    handle(req, res).catch((err: unknown) => {
      // The path only: a query string is no place for a token, but if someone put one there it stays out of the log.
      const where = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
      // A refused request's unread body is not drained for keep-alive: the connection closes instead.
      if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
      if (err instanceof HttpRefusal) {
        log.info(`refused ${where}: ${err.status} ${err.code}`);
        return sendRefusal(res, err);
      }
      log.error(`HTTP ${where} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendRefusal(res, new HttpRefusal(500, ErrorCode.Internal, 'internal error; see the server log'));
    });
  });
  // The SDK's SSE keep-alive comments keep GET streams open well past Node's default timeouts.
  httpServer.requestTimeout = 0;
  httpServer.headersTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  origin = `http://${hostInUrl}:${port}`;

  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const s of sessions.values()) if (s.open === 0 && s.lastSeen < cutoff) void s.transport.close();
  }, 60_000);
  sweep.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/mcp`,
    port,
    sessionCount: () => sessions.size,
    ...(inspector && { inspector }),
    close: (graceMs = SHUTDOWN_GRACE_MS) =>
      (closing ??= (async () => {
        draining = true;
        clearInterval(sweep);
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, graceMs);
            idle.add(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
        httpServer.closeAllConnections();
        await closed;
      })()),
  };
}

/**
 * `memlane serve --http`: opens the database, serves until SIGTERM/SIGINT,
 * then shuts down gracefully (calls in flight finish, LanceDB closes, the
 * port is released) and exits 0.
 */
export async function serveHttp(config: Config, opts: HttpOptions): Promise<void> {
  assertBindAllowed(config, opts);
  const app = await openApp(config);
  let http: HttpServer;
  try {
    http = await startHttpServer(app, opts);
  } catch (err) {
    await app.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string) =>
    (stopping ??= (async () => {
      log.info(`shutting down (${why}): finishing calls in flight`);
      await http.close();
      await app.close();
      process.exit(0);
    })());
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (config.embedder.preload) app.embedder.prepare?.().catch(() => undefined);
  // Printed whatever MEMLANE_LOG_LEVEL says: it is how an operator (or a test with --port 0) finds the server.
  process.stderr.write(`memlane: listening on ${http.url} (database ${config.dbUri}, embedder ${app.embedder.provider}/${app.embedder.model})\n`);
  if (http.inspector) process.stderr.write(`memlane: inspector at ${http.inspector.loginUrl(http.url.slice(0, -'/mcp'.length))}\n`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpRefusal(400, 'PARSE_ERROR', 'Parse error: the request body is not JSON', {}, -32700);
  }
}
