/**
 * The model download over real loopback sockets, in the cases a plain
 * keep-alive hub (test/helpers/fake-hub.ts) never shows:
 * - a server that sends the whole answer and closes the connection at once
 *   (`Connection: close`, then FIN): undici 6 crashed the process on it with
 *   an uncatchable `assert(!this.paused)` when the file being written pushed
 *   back (nodejs/undici#5360); here every file must simply arrive;
 * - redirects (the hub sends large files to a CDN on another origin): they
 *   are followed, and the hub token is not sent to the other origin.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadModel } from '../../src/embed/transformers/hub.js';

const servers: Array<Server | TcpServer> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

const listen = async <S extends Server | TcpServer>(server: S): Promise<string> => {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** The bytes a file of the fake model holds: different per file, so a mix-up shows. */
const bytesOf = (path: string, size: number) => Buffer.alloc(size, path);

const isModelFile = (path: string) => /\/resolve\/main\/(config\.json|tokenizer\.json|tokenizer_config\.json|onnx\/model_quantized\.onnx)$/.test(path);

describe('model download', () => {
  it('a server that closes the connection right after each answer: every file arrives whole, the process does not crash', async () => {
    const size = 4 * 1024 * 1024;
    const endpoint = await listen(
      createTcpServer((socket) => {
        socket.once('data', (request) => {
          const path = request.toString().split(' ')[1] ?? '/';
          if (!isModelFile(path)) {
            socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
            return;
          }
          // Headers, the whole body and the FIN in one go: the parser sees the end while the
          // body is still waiting for the disk.
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
          socket.write(bytesOf(path, size));
          socket.end();
        });
      }),
    );
    const dest = mkdtempSync(join(tmpdir(), 'memlane-hub-'));
    const record = await downloadModel('owner/model', 'q8', dest, { endpoint });
    expect(record.files.map((f) => f.path).sort()).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of record.files) {
      expect(f.bytes).toBe(size);
      expect(readFileSync(join(dest, f.path)).equals(bytesOf(`/owner/model/resolve/main/${f.path}`, size)), f.path).toBe(true);
    }
  });

  it('follows redirects to another origin without sending it the hub token', async () => {
    const seen: Array<{ path: string; auth: string | undefined }> = [];
    const cdn = await listen(
      createHttpServer((req, res) => {
        seen.push({ path: `cdn${req.url}`, auth: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytesOf(req.url ?? '', 1000));
      }),
    );
    const hub = await listen(
      createHttpServer((req, res) => {
        const path = req.url ?? '/';
        seen.push({ path: `hub${path}`, auth: req.headers.authorization });
        if (!isModelFile(path)) res.writeHead(404).end();
        else if (path.endsWith('.onnx')) res.writeHead(302, { location: `${cdn}/blobs/model.onnx` }).end();
        else if (path.endsWith('/config.json')) res.writeHead(307, { location: '/owner/model/resolve/main/tokenizer_config.json' }).end();
        else res.writeHead(200).end(bytesOf(path, 100));
      }),
    );
    const dest = mkdtempSync(join(tmpdir(), 'memlane-hub-'));
    const record = await downloadModel('owner/model', 'q8', dest, { endpoint: hub, token: 'hf_secret' });
    expect(readFileSync(join(dest, 'onnx/model_quantized.onnx')).equals(bytesOf('/blobs/model.onnx', 1000))).toBe(true);
    // A redirect within the hub: config.json holds what the hub answered for tokenizer_config.json.
    expect(readFileSync(join(dest, 'config.json')).equals(bytesOf('/owner/model/resolve/main/tokenizer_config.json', 100))).toBe(true);
    expect(record.files.find((f) => f.path === 'onnx/model_quantized.onnx')?.bytes).toBe(1000);
    expect(seen.filter((s) => s.path.startsWith('hub')).every((s) => s.auth === 'Bearer hf_secret')).toBe(true);
    expect(seen.filter((s) => s.path.startsWith('cdn'))).toEqual([{ path: 'cdn/blobs/model.onnx', auth: undefined }]);
  });
});
