/**
 * A loopback stand-in for the Hugging Face hub: serves a model folder's files
 * in the hub's URL layout (`/<owner>/<name>/resolve/<revision>/<path>`), and
 * can fail a file or hold it half-sent until the test releases it (a slow
 * download, with no timing in the test).
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeHub {
  url: string;
  /** Paths requested, in order (`/Xenova/all-MiniLM-L6-v2/resolve/main/config.json`). */
  requests: string[];
  /** Answer files whose path ends with this with `status` instead (e.g. `.onnx` → 500). */
  fail(suffix: string, status: number): void;
  /** Send the headers and the first bytes of files ending with `suffix`, then wait for `release()`. */
  hold(suffix: string): void;
  release(): void;
  /** Resolves when a request for a file ending with `suffix` has arrived (the download is under way). */
  requested(suffix: string): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeHub(opts: { model: string; dir: string }): Promise<FakeHub> {
  const requests: string[] = [];
  let failing: { suffix: string; status: number } | undefined;
  let holding: string | undefined;
  let release: () => void = () => undefined;
  let released = Promise.resolve();
  const waiters: Array<{ suffix: string; resolve: () => void }> = [];
  const prefix = `/${opts.model}/resolve/main/`;

  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    for (const w of [...waiters]) if (path.endsWith(w.suffix)) w.resolve();
    const file = path.startsWith(prefix) ? join(opts.dir, path.slice(prefix.length)) : undefined;
    if (failing && path.endsWith(failing.suffix)) {
      res.writeHead(failing.status, { 'content-type': 'text/plain' }).end('fake hub failure');
      return;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    if (holding && path.endsWith(holding)) {
      const data = readFileSync(file);
      const head = Math.floor(size / 3);
      res.write(data.subarray(0, head));
      void released.then(() => res.end(data.subarray(head)));
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hub: FakeHub = {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(suffix, status) {
      failing = { suffix, status };
    },
    hold(suffix) {
      holding = suffix;
      released = new Promise<void>((resolve) => (release = resolve));
    },
    release() {
      holding = undefined;
      release();
    },
    requested(suffix) {
      if (requests.some((r) => r.endsWith(suffix))) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ suffix, resolve }));
    },
    reset() {
      failing = undefined;
      hub.release();
      requests.length = 0;
    },
    async close() {
      hub.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return hub;
}
