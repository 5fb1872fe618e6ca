import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      return { isError: true, content: [{ type: 'text', text: `unknown tool "${request.params.name}"; available: ${[...byName.keys()].join(', ')}` }] };
    }
    return runBatch(tool, request.params.arguments ?? {}, {
      services: { store: app.store, searcher: app.searcher, embedder: app.embedder },
      sessions: app.sessions,
      sources,
      maxBatch: app.config.maxBatch,
    });
  });
  return server;
}
