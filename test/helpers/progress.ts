import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Progress, ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * Calls a tool with a progress token and records every `notifications/progress`
 * the server sent for it, in arrival order, all recorded before the result resolves.
 *
 * Why not the SDK's own `onprogress`: its client runs notification handlers a
 * microtask later but handles a response at once, and the response retires the
 * request's progress handler. When the last notification (`progress = total`)
 * and the response reach the client in one read, that notification is dropped
 * as "a progress notification for an unknown token" (typescript-sdk issue
 * #2580, open). A server cannot prevent that (both are written back to back,
 * in order), so a test of what the server sends must not depend on it. This
 * handler keeps its own table, filled in the same microtask queue and therefore
 * still before the call's result is seen.
 */
export async function callToolWithProgress(
  client: Client,
  params: { name: string; arguments?: Record<string, unknown> },
  options?: { timeout?: number },
): Promise<{ seen: Progress[]; result: Awaited<ReturnType<Client['callTool']>> }> {
  const byToken = recorderOf(client);
  const token = `test-progress-${++nextToken}`;
  const seen: Progress[] = [];
  byToken.set(token, seen);
  try {
    const result = await client.callTool({ ...params, _meta: { progressToken: token } }, undefined, options);
    return { seen: [...seen], result };
  } finally {
    byToken.delete(token);
  }
}

let nextToken = 0;
const recorders = new WeakMap<Client, Map<string, Progress[]>>();

function recorderOf(client: Client): Map<string, Progress[]> {
  let byToken = recorders.get(client);
  if (!byToken) {
    const table = new Map<string, Progress[]>();
    client.setNotificationHandler(ProgressNotificationSchema, (n) => {
      const { progressToken, ...progress } = n.params;
      table.get(String(progressToken))?.push(progress as Progress);
    });
    recorders.set(client, table);
    byToken = table;
  }
  return byToken;
}
