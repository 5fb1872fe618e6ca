import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { App } from './app.js';
import type { Config } from './config.js';
import type { ProgressSink } from './batch/progress.js';
import { runBatch, toolListing } from './batch/runner.js';
import { ErrorCode } from './errors.js';
import { ClientLog } from './mcp-log.js';
import { scopeOfAuthInfo } from './scope/auth-info.js';
import type { ScopeSources } from './scope/resolve.js';
import { tools } from './tools/index.js';
import { SERVER_CAPABILITIES, SERVER_INFO, SERVER_INSTRUCTIONS } from './server-info.js';

/** The MCP server of one connection, with the log its client sees. */
export type MemlaneServer = Server & {
  readonly clientLog: ClientLog;
  /** Forwards the app's maintenance reports to this client (done at its first call otherwise). */
  listen(app: App): void;
};

/**
 * The MCP server: the low-level `Server`, because `McpServer.registerTool`
 * validates the whole input before the handler runs, and one bad item would
 * then fail the call. Here the advertised schemas stay exact while the batch
 * runner validates item by item.
 */
const lenientCallToolRequestSchema = z.object({
  method: z.literal('tools/call'),
  params: z.looseObject({ name: z.string(), arguments: z.unknown().optional(), _meta: z.looseObject({}).optional() }),
});
type LenientCallToolRequest = z.infer<typeof lenientCallToolRequestSchema>;
type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a server needs before it can run a tool call: the open app and where tokens come from. */
export interface Ready {
  app: App;
  sources: ScopeSources;
}

/** The MCP server of an open app (HTTP sessions, tests, benches). */
export function createServer(app: App, sources: ScopeSources): MemlaneServer {
  const ready = Promise.resolve({ app, sources });
  const server = createDeferredServer(app.config, () => ready);
  server.listen(app);
  return server;
}

/**
 * The MCP server before the database is open: `initialize` and `tools/list`
 * need only the configuration and the tool definitions, so they are answered
 * at once; tool calls wait for `ready()` (which opens the database the first
 * time it is asked). `onListed` runs after the first `tools/list` answer: the
 * moment to start opening, without making that answer wait.
 */
export function createDeferredServer(config: Config, ready: () => Promise<Ready>, hooks: { onListed?: () => void } = {}): MemlaneServer {
  const server = new Server(SERVER_INFO, { capabilities: SERVER_CAPABILITIES, instructions: SERVER_INSTRUCTIONS });
  const clientLog = new ClientLog(server);
  const listings = listingsFor(config.maxBatch);
  const byName = new Map(tools.map((t) => [t.name, t]));

  // Replaces the SDK's own handler, so that every client-visible message goes through ClientLog's filter.
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    clientLog.setLevel(request.params.level);
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    if (hooks.onListed) setImmediate(hooks.onListed);
    return { tools: listings };
  });
  // Registered on the Protocol layer, past Server's own wrapper: that wrapper parses
  // the request with the SDK's CallToolRequestSchema first, so `"arguments": "text"`
  // would end as a JSON-RPC error with a zod dump instead of the whole-call error
  // (isError, a text block) that contract §3 promises. The runner validates the
  // arguments itself, and every result it returns is a well-formed CallToolResult.
  Protocol.prototype.setRequestHandler.call(server, lenientCallToolRequestSchema, async (request: LenientCallToolRequest, extra: Extra) => {
    const log = clientLog.forCall(extra.sendNotification);
    const tool = byName.get(request.params.name);
    if (!tool) {
      const text = `unknown tool "${request.params.name}"; available: ${[...byName.keys()].join(', ')}`;
      await log('warning', `refused: ${text}`);
      return { isError: true, content: [{ type: 'text', text }] };
    }
    const { app, sources } = await ready();
    listen(app);
    const progressToken = extra._meta?.progressToken;
    const progress: ProgressSink | undefined =
      progressToken === undefined
        ? undefined
        : (update) => extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } });
    const bearerScope = scopeOfAuthInfo(extra.authInfo);
    const started = performance.now();
    const result = await runBatch(tool, request.params.arguments === undefined ? {} : request.params.arguments, {
      services: { store: app.store, searcher: app.searcher, embedder: app.embedder },
      sessions: app.sessions,
      sources: bearerScope ? { ...sources, bearerScope } : sources,
      maxBatch: config.maxBatch,
      readOnly: app.db.readOnly,
      ...(progress && { progress }),
    });
    await reportCall(log, tool.name, result, performance.now() - started, app);
    return result;
  });

  // Maintenance results reach this client once the app is open (its first call, or whoever opened it).
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  const listen = (app: App) => {
    if (closed || unsubscribe) return;
    unsubscribe = app.onMaintenance((reports) => {
      const removed = reports.reduce((n, r) => n + r.fragmentsRemoved, 0);
      const versions = reports.reduce((n, r) => n + r.versionsRemoved, 0);
      clientLog.send('info', `maintenance: compacted ${reports.length} table(s), ${removed} fragment(s) merged, ${versions} old version(s) pruned`);
    });
  };
  server.onclose = () => {
    closed = true;
    unsubscribe?.();
  };
  return Object.assign(server, { clientLog, listen });
}

const listingCache = new Map<number, Tool[]>();

/** The tools/list entries, built once per item limit: HTTP makes one server per MCP session, and JSON Schema generation is not free (~20 ms). */
export function listingsFor(maxBatch: number): Tool[] {
  let listings = listingCache.get(maxBatch);
  if (!listings) listingCache.set(maxBatch, (listings = tools.map((t) => toolListing(t, maxBatch))));
  return listings;
}

/** What a client should hear about a finished call: a refusal, embedder failures, slowness. */
async function reportCall(log: ReturnType<ClientLog['forCall']>, name: string, result: CallToolResult, ms: number, app: App): Promise<void> {
  if (result.isError) {
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    await log('warning', `${name} refused: ${text}`);
    return;
  }
  const results = ((result.structuredContent as { results?: Array<{ error?: { code: string; message: string } }> } | undefined)?.results ?? []);
  const failed = results.flatMap((r) => (r.error?.code === ErrorCode.EmbeddingFailed ? [r.error.message] : []));
  if (failed.length > 0) {
    await log('warning', `embedder ${app.embedder.provider}/${app.embedder.model} failed for ${failed.length} item(s) of ${name}: ${failed[0]}`);
  }
  if (ms > app.config.slowCallMs) {
    await log('warning', `${name} took ${Math.round(ms)} ms (more than MEMLANE_SLOW_CALL_MS=${app.config.slowCallMs}): the write lock, the disk or the embedder is slow`);
  }
}
