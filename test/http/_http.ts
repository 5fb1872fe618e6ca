/**
 * A real memlane HTTP server (real LanceDB in a temp dir) on a random
 * loopback port, inside the test process, with helpers for real SDK clients
 * (StreamableHTTPClientTransport) and raw requests.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { type App, openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type HttpServer, startHttpServer } from '../../src/transport/http.js';
import { tempDir } from '../helpers/harness.js';

export interface HttpHarness {
  dir: string;
  app: App;
  http: HttpServer;
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** Mints a session for `agent` and returns its token. */
  token(agent?: string, opts?: { ttlMs?: number; now?: number }): Promise<string>;
  /**
   * A connected SDK client with `Authorization: Bearer <token>`, closed after the file's tests.
   * It checks every structuredContent against the advertised output schemas unless `validate` is false.
   */
  client(token: string, opts?: { validate?: boolean }): Promise<HttpClient>;
  close(): Promise<void>;
}

export interface HttpClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Every `notifications/message` received so far. */
  logs: Array<{ level: string; data: unknown }>;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** structuredContent of a call that must not fail as a whole. */
  ok(name: string, args: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export async function startHttpHarness(env: Record<string, string> = {}): Promise<HttpHarness> {
  const dir = tempDir('memlane-http-');
  const config = loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...env });
  const app = await openApp(config, { maintenance: false });
  const http = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  const clients = new Set<HttpClient>();
  return {
    dir,
    app,
    http,
    url: http.url,
    token: async (agent = 'alice', opts = {}) => (await app.sessions.create(agent, opts)).token,
    async client(token, opts) {
      const c = await connectClient(http.url, token, opts);
      clients.add(c);
      return c;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await http.close(1_000);
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One harness per test file: started in beforeAll, closed in afterAll. */
export function useHttpHarness(env: Record<string, string> = {}): () => HttpHarness {
  let h: HttpHarness | undefined;
  beforeAll(async () => {
    h = await startHttpHarness(env);
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => {
    if (!h) throw new Error('HTTP harness not started');
    return h;
  };
}

export async function connectClient(url: string, token: string, opts: { validate?: boolean } = {}): Promise<HttpClient> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'memlane-http-test', version: '0.0.0' });
  const logs: HttpClient['logs'] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push({ level: n.params.level, data: n.params.data }));
  await client.connect(transport);
  // Cache output schemas, so the client checks every structuredContent against them.
  if (opts.validate !== false) await client.listTools();
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    transport,
    logs,
    call,
    async ok(name, args) {
      const res = await call(name, args);
      if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`);
      return res.structuredContent;
    },
    close: () => client.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** A raw HTTP request with node:http, so Host, Origin and chunked bodies are exactly what the test says. */
export function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer | Iterable<Buffer>; chunked?: boolean } = {},
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'POST', headers: opts.headers ?? {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    // The server may refuse and close while we are still sending: the response is what matters.
    req.on('error', (err) => (req.destroyed && (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    const body = opts.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      for (const chunk of body) if (!req.destroyed) req.write(chunk);
      req.end();
    }
  });
}

export const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

export const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

/** Polls `check` until it returns true (the event arrives on another stream); fails after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
