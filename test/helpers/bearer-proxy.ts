/**
 * A loopback proxy that adds `Authorization: Bearer <token>` to every request
 * and passes everything else through unchanged (Host and Origin included),
 * for clients that cannot set headers: the MCP conformance suite.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BearerProxy {
  /** The proxy's base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export async function startBearerProxy(target: URL, token: string): Promise<BearerProxy> {
  const server = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    // A client that hangs up (an SSE stream it cancelled) ends the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
