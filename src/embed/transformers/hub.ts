import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { OPTIONAL_FILES, REQUIRED_FILES, completeMarker, onnxFileName, type DownloadRecord, type Dtype } from './files.js';

export interface HubOptions {
  /** `HF_ENDPOINT`, or the Hugging Face hub. Files are at `<endpoint>/<model>/resolve/<revision>/<path>`. */
  endpoint: string;
  /** `HF_TOKEN`, for gated or private models; sent to `endpoint` only. */
  token?: string;
  revision?: string;
  /** No byte for this long aborts the download (a stalled connection). */
  stallMs?: number;
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  /** From Content-Length; undefined when the server does not say. */
  total: number | undefined;
}

const DEFAULT_STALL_MS = 30_000;
const CONNECT_TIMEOUT_MS = 30_000;

/** One dispatcher per process: it reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY, which Node's own fetch ignores. */
let dispatcher: Dispatcher | undefined;
const proxyAware = (stallMs: number): Dispatcher =>
  (dispatcher ??= new EnvHttpProxyAgent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: stallMs, bodyTimeout: stallMs }));

/** What to do when the hub cannot be reached: every download failure ends with it. */
export const DOWNLOAD_ADVICE =
  'To fix: behind a proxy, set HTTPS_PROXY (and HTTP_PROXY / NO_PROXY); or run `memlane model fetch` once where the network is reachable ' +
  '(the files are cached and never fetched again); or, offline, put the model files in a folder and set MEMLANE_MODEL_DIR to it';

/**
 * Downloads model `id`'s files for `dtype` from the hub into `dest` (the
 * hub's layout), then writes the completion record. Each file is written to
 * a temporary name and renamed into place, and the record comes last, so an
 * interrupted download is never mistaken for a complete one and two
 * processes downloading at once never see half a file.
 */
export async function downloadModel(
  id: string,
  dtype: Dtype,
  dest: string,
  opts: HubOptions,
  onProgress: (p: DownloadProgress) => void = () => undefined,
  signal?: AbortSignal,
): Promise<DownloadRecord> {
  const revision = opts.revision ?? 'main';
  const onnx = `onnx/${onnxFileName(dtype)}`;
  const wanted: Array<{ path: string; required: boolean }> = [
    ...REQUIRED_FILES.map((path) => ({ path, required: true })),
    ...OPTIONAL_FILES.map((path) => ({ path, required: false })),
    { path: onnx, required: true },
  ];
  const files: DownloadRecord['files'] = [];
  for (const { path, required } of wanted) {
    const bytes = await downloadFile(id, revision, path, join(dest, path), opts, required, onProgress, signal);
    if (bytes !== undefined) files.push({ path, bytes });
  }
  const record: DownloadRecord = { model: id, dtype, revision, endpoint: opts.endpoint, downloaded_at: new Date().toISOString(), files };
  writeAtomically(join(dest, completeMarker(dtype)), JSON.stringify(record, null, 2));
  return record;
}

/** Returns the bytes written, or undefined for an optional file the hub does not have. */
async function downloadFile(
  id: string,
  revision: string,
  path: string,
  target: string,
  opts: HubOptions,
  required: boolean,
  onProgress: (p: DownloadProgress) => void,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  const url = `${opts.endpoint.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${path}`;
  const stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  let res: Response;
  try {
    res = await get(url, opts.token, stallMs, signal);
  } catch (err) {
    throw new ModelDownloadError(`could not download ${url}: ${reason(err)}. ${DOWNLOAD_ADVICE}`, { cause: err });
  }
  if (res.statusCode === 404 && !required) {
    await res.body.dump().catch(() => undefined);
    return undefined;
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    throw new ModelDownloadError(`downloading ${url} failed: HTTP ${res.statusCode}${statusAdvice(res.statusCode, id, path)}`);
  }
  const header = res.headers['content-length'];
  const total = typeof header === 'string' ? Number(header) : undefined;
  mkdirSync(dirname(target), { recursive: true });
  const part = `${target}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  let loaded = 0;
  try {
    const body = res.body;
    body.on('data', (chunk: Buffer) => {
      loaded += chunk.length;
      onProgress({ file: path, loaded, total });
    });
    await pipeline(body, createWriteStream(part));
    if (total !== undefined && loaded !== total) throw new Error(`the connection closed after ${loaded} of ${total} bytes`);
    renameSync(part, target);
  } catch (err) {
    rmSync(part, { force: true });
    throw new ModelDownloadError(`downloading ${url} failed after ${loaded} bytes: ${reason(err)}. ${DOWNLOAD_ADVICE}`, { cause: err });
  }
  onProgress({ file: path, loaded, total: total ?? loaded });
  return loaded;
}

type Response = Dispatcher.ResponseData;

/**
 * Never lets the HTTP parser pause: undici 6 (the last for Node 20) asserts
 * `!paused` when a server closes the connection while a paused response is
 * still being read, an uncatchable crash (nodejs/undici#5360, fixed in
 * undici 8 only). Backpressure from the file being written paused it, so a
 * hub that answers with `Connection: close` crashed `memlane model fetch`.
 * With this high-water mark the body is read as fast as it arrives and waits
 * in memory for the disk instead (a model file at most).
 */
const NO_BACKPRESSURE = 2 ** 31 - 1;
const MAX_REDIRECTS = 5;

/** GET with the proxy-aware dispatcher, following redirects (the hub sends large files to a CDN); the token goes to the hub's own origin only. */
async function get(url: string, token: string | undefined, stallMs: number, signal: AbortSignal | undefined): Promise<Response> {
  const origin = new URL(url).origin;
  let at = url;
  for (let hop = 0; ; hop++) {
    const res = await request(at, {
      dispatcher: proxyAware(stallMs),
      headers: { 'user-agent': 'memlane', ...(token && new URL(at).origin === origin && { authorization: `Bearer ${token}` }) },
      highWaterMark: NO_BACKPRESSURE,
      ...(signal && { signal }),
    });
    const location = res.headers.location;
    if (res.statusCode < 300 || res.statusCode >= 400 || res.statusCode === 304 || typeof location !== 'string') return res;
    await res.body.dump().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    at = new URL(location, at).href;
  }
}

function statusAdvice(status: number, id: string, path: string): string {
  if (status === 401 || status === 403) return ` (model ${id} is gated or private: set HF_TOKEN to a token that may read it, or use MEMLANE_MODEL_DIR)`;
  if (status === 404 && path.endsWith('.onnx')) {
    return ` (model ${id} has no ${path}: it may not be an ONNX export (Xenova/… and onnx-community/… models are), or it ships another ` +
      'variant: set MEMLANE_EMBED_DTYPE, e.g. fp32 for onnx/model.onnx)';
  }
  if (status === 404) return ` (no model ${id} on the hub, or it lacks ${path}: check MEMLANE_EMBED_MODEL)`;
  return `. ${DOWNLOAD_ADVICE}`;
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException).code;
  const detail = cause && cause.message !== err.message ? `${err.message} (${cause.message})` : err.message;
  return code && !detail.includes(code) ? `${detail} [${code}]` : detail;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The hub could not be reached or refused: the message says what to do. */
export class ModelDownloadError extends Error {
  override name = 'ModelDownloadError';
}
