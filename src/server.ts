import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { App } from './app.js';
import { runBatch } from './batch/runner.js';
import { toolListing } from './batch/runner.js';
import type { ScopeSources } from './scope/resolve.js';
import { tools } from './tools/index.js';
import { VERSION } from './version.js';

/**
 * The MCP server: the low-level `Server`, because `McpServer.registerTool`
 * validates the whole input before the handler runs, and one bad item would
 * then fail the call. Here the advertised schemas stay exact while the batch
 * runner validates item by item.
 */
const lenientCallToolRequestSchema = z.object({
  method: z.literal('tools/call'),
  params: z.looseObject({ name: z.string(), arguments: z.unknown().optional() }),
});
type LenientCallToolRequest = z.infer<typeof lenientCallToolRequestSchema>;

export function createServer(app: App, sources: ScopeSources): Server {
  const server = new Server(
    { name: 'memlane', title: 'memlane: long-term memory for agents', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'memlane is your long-term memory. Before answering questions about the user, past work or preferences, call batch_search. ' +
        'When you learn something worth keeping, call batch_remember with short self-contained statements. All tools take batches: ' +
        'put several items in one call.',
    },
  );
  const listings = tools.map((t) => toolListing(t, app.config.maxBatch));
  const byName = new Map(tools.map((t) => [t.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listings }));
  // Registered on the Protocol layer, past Server's own wrapper: that wrapper parses
  // the request with the SDK's CallToolRequestSchema first, so `"arguments": "text"`
  // would end as a JSON-RPC error with a zod dump instead of the whole-call error
  // (isError, a text block) that contract §3 promises. The runner validates the
  // arguments itself, and every result it returns is a well-formed CallToolResult.
  Protocol.prototype.setRequestHandler.call(server, lenientCallToolRequestSchema, async (request: LenientCallToolRequest) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      return { isError: true, content: [{ type: 'text', text: `unknown tool "${request.params.name}"; available: ${[...byName.keys()].join(', ')}` }] };
    }
    return runBatch(tool, request.params.arguments === undefined ? {} : request.params.arguments, {
      services: { store: app.store, searcher: app.searcher, embedder: app.embedder },
      sessions: app.sessions,
      sources,
      maxBatch: app.config.maxBatch,
    });
  });
  return server;
}
