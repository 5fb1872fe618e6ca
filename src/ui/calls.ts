import type { App } from '../app.js';
import { runBatch } from '../batch/runner.js';
import type { BatchTool } from '../batch/tool.js';
import { log } from '../log.js';
import { namespaceOf, newSessionId } from '../scope/ids.js';
import type { Scope } from '../scope/sessions.js';
import { deleteTool } from '../tools/delete.js';
import { getTool } from '../tools/get.js';
import { searchTool } from '../tools/search.js';
import { updateTool } from '../tools/update.js';

/**
 * The session id the inspector's calls carry. The inspector proves who it is
 * with its own login (ui/auth.ts), not with an agent's token, so its calls
 * reach the batch runner as the HTTP transport's do: with a scope already
 * proved. No memory is written under this id: the inspector updates, deletes,
 * reads and searches, it never creates.
 */
const INSPECTOR_SESSION = newSessionId();

export const inspectorScope = (agentId: string): Scope => ({ agent_id: agentId, namespace: namespaceOf(agentId), session_id: INSPECTOR_SESSION });

/** One item's result, as the tools report it. */
export interface ItemResult {
  index: number;
  id?: string;
  status: 'ok' | 'error' | 'skipped';
  action?: string;
  error?: { code: string; message: string; field?: string };
  [key: string]: unknown;
}

/** A whole-call failure, with its code (the text block of an `isError` result). */
export class ToolCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ToolCallError';
  }
}

/**
 * Runs a batch tool for `agentId` exactly as an agent's call runs: the batch
 * runner's validation, the tool's own rules (IMMUTABLE, VERSION_CONFLICT,
 * NOT_FOUND), the write lock, one commit per call, re-embedding. Returns the
 * per-item results. Writes are logged on stderr with ids and outcomes only,
 * never content.
 */
export async function callTool(app: App, tool: BatchTool, agentId: string, args: Record<string, unknown>): Promise<ItemResult[]> {
  const result = await runBatch(tool, args, {
    services: { store: app.store, searcher: app.searcher, embedder: app.embedder },
    sessions: app.sessions,
    sources: { bearerScope: inspectorScope(agentId) },
    maxBatch: app.config.maxBatch,
  });
  if (result.isError) {
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    const code = /^([A-Z_]+):/.exec(text)?.[1] ?? 'INTERNAL';
    throw new ToolCallError(code, text);
  }
  const results = (result.structuredContent as { results: ItemResult[] }).results;
  if (!tool.annotations.readOnlyHint) {
    for (const r of results) {
      const outcome = r.status === 'ok' ? `${r.action}${typeof r.version === 'number' ? ` (version ${r.version})` : ''}` : `${r.status} ${r.error?.code ?? ''}`;
      log.info(`inspector: ${tool.name} agent=${agentId} id=${r.id ?? '?'}: ${outcome}`);
    }
  }
  return results;
}

export const tools = { get: getTool, update: updateTool, delete: deleteTool, search: searchTool };
