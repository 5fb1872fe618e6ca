import type { ServerResponse } from 'node:http';

/**
 * A request the HTTP layer refuses before any tool runs. The body is a
 * JSON-RPC error, like the SDK's own HTTP errors, naming memlane's code in
 * `error.data.code` (UNAUTHORIZED, SESSION_EXPIRED, FORBIDDEN,
 * PAYLOAD_TOO_LARGE, RATE_LIMITED, …).
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly rpcCode = -32000,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

export function sendRefusal(res: ServerResponse, refusal: HttpRefusal): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(refusal.status, { 'Content-Type': 'application/json', ...refusal.headers });
  res.end(
    JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: refusal.rpcCode, message: `${refusal.code}: ${refusal.message}`, data: { code: refusal.code } },
    }),
  );
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
