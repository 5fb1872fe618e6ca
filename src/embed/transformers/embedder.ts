import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { log } from '../../log.js';
import { prepareLocalDir, StoreOpenError } from '../../store/local-dir.js';
import { EmbeddingError, type EmbedOptions, type Embedder, type WaitStatus } from '../embedder.js';
import { DEFAULT_DTYPE, MODEL_ID, ModelFilesError, cacheFolder, downloadRecord, locateFolder, type Dtype, type ModelFolder } from './files.js';
import type { DownloadProgress, HubOptions } from './hub.js';
import { familyProfile, folderDim, folderProfile, knownDim, type ModelProfile } from './profile.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

export interface TransformersOptions {
  /** The model's hub id (MEMLANE_EMBED_MODEL): what the database records, and where a download comes from. */
  model: string;
  dtype: Dtype;
  /** MEMLANE_EMBED_DIM: needed only for a model whose size memlane cannot tell before loading it. */
  dim?: number;
  /** MEMLANE_MODEL_DIR: the model's files are here, and nothing is downloaded. */
  modelDir?: string;
  /** Where hub downloads are kept. */
  cacheDir: string;
  hub: HubOptions;
  threads: number;
  /**
   * For `memlane model fetch` and `info`, which open no database: a model
   * whose size is unknown until it is loaded is accepted, and `dim` is 0 until then.
   */
  dimFromModel?: boolean;
}

/** Where the model is, for `memlane model info`, logs and waiting calls. */
export type ModelState =
  | { phase: 'idle' }
  | { phase: 'downloading'; file: string; loaded: number; total: number | undefined }
  | { phase: 'loading' }
  | { phase: 'ready'; loadMs: number; folder: ModelFolder }
  | { phase: 'failed'; message: string };

/**
 * Sentence embeddings computed in-process by an ONNX model through
 * Transformers.js, on a thread of its own (worker.ts).
 *
 * Never in the way of start-up: constructing it reads at most a config file,
 * and the model is downloaded (once, into the cache) and loaded in the
 * background by the first call that needs it, or by `prepare`. Calls that
 * arrive meanwhile wait for it up to their deadline, and are told why
 * otherwise. A failed load is tried again by the next call.
 */
export class TransformersEmbedder implements Embedder {
  readonly provider = 'transformers';
  /** What the database records: the hub id, with the weight variant when it is not the default one. */
  readonly model: string;
  private size: number;

  private state: ModelState = { phase: 'idle' };
  private loading: Promise<Loaded> | undefined;
  private loaded: Loaded | undefined;
  private readonly watchers = new Set<(s: ModelState) => void>();
  private closed = false;
  /** Stops a download in flight when the embedder closes: a server shutting down never waits for the hub. */
  private readonly stop = new AbortController();

  constructor(readonly opts: TransformersOptions) {
    if (!MODEL_ID.test(opts.model)) {
      throw new ModelFilesError(`MEMLANE_EMBED_MODEL "${opts.model}" is not a model id like Xenova/all-MiniLM-L6-v2`);
    }
    this.model = modelIdentity(opts.model, opts.dtype);
    this.size = expectedDim(opts);
  }

  get dim(): number {
    return this.size;
  }

  /** The folder the model is loaded from: MEMLANE_MODEL_DIR, or its cache folder. */
  get folder(): string {
    return this.opts.modelDir ?? cacheFolder(this.opts.cacheDir, this.opts.model);
  }

  get status(): ModelState {
    return this.state;
  }

  /** Pooling and prefixes, as far as known without loading (the model's files, once there, may refine them). */
  get profile(): ModelProfile {
    return existsSync(this.folder) ? folderProfile(this.folder, this.opts.model) : familyProfile(this.opts.model);
  }

  async prepare(onWait?: (w: WaitStatus) => void): Promise<void> {
    await this.ready({ ...(onWait && { onWait }) });
  }

  async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await this.ready(opts);
    const prefix = opts.kind === 'query' ? model.profile.queryPrefix : model.profile.passagePrefix;
    // Identical texts are embedded once; each input still gets its own array.
    const unique = [...new Set(texts)];
    const data = await model.request(unique.map((t) => prefix + t), opts.signal);
    const at = new Map(unique.map((t, i) => [t, i]));
    return texts.map((t) => {
      const i = at.get(t)!;
      return data.slice(i * this.dim, (i + 1) * this.dim);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort(new Error('memlane is shutting down'));
    const loading = this.loading;
    this.loading = undefined;
    this.loaded = undefined;
    const model = await loading?.catch(() => undefined);
    await model?.terminate();
  }

  /** The loaded model, loading it if need be; gives up (EmbeddingError) shortly before `opts.deadlineAt`. */
  private async ready(opts: EmbedOptions): Promise<Loaded> {
    if (this.loaded?.alive) return this.loaded;
    if (this.closed) throw new EmbeddingError('the embedder is closed');
    const loading = (this.loading ??= this.load());
    const started = Date.now();
    const watch = opts.onWait ? (s: ModelState) => opts.onWait!(waitStatus(s, this.opts.model)) : undefined;
    if (watch) {
      this.watchers.add(watch);
      watch(this.state);
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const gaveUp = new Promise<never>((_, reject) => {
        const stillLoading = () => {
          const what = waitStatus(this.state, this.opts.model).message;
          reject(new EmbeddingError(`${what}; this call waited ${Date.now() - started} ms (its timeout_ms): try again in a moment`));
        };
        if (opts.deadlineAt !== undefined) timer = setTimeout(stillLoading, giveUpDelay(opts.deadlineAt));
        if (opts.signal) {
          onAbort = stillLoading;
          if (opts.signal.aborted) stillLoading();
          else opts.signal.addEventListener('abort', onAbort, { once: true });
        }
      });
      gaveUp.catch(() => undefined);
      return await Promise.race([loading, gaveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      if (watch) this.watchers.delete(watch);
    }
  }

  private setState(state: ModelState): void {
    this.state = state;
    for (const w of this.watchers) w(state);
  }

  private async load(): Promise<Loaded> {
    const started = performance.now();
    try {
      const folder = this.opts.modelDir ? locateFolder(this.opts.modelDir, this.opts.dtype, 'MEMLANE_MODEL_DIR') : await this.cached();
      this.setState({ phase: 'loading' });
      const profile = folderProfile(folder.dir, this.opts.model);
      if (this.size === 0) this.size = folderDim(folder.dir) ?? 0;
      const model = await Loaded.start(folder, profile, this.opts, this.size, () => {
        // The thread died (it should not): the next call loads the model again.
        if (this.loaded === model) this.loaded = undefined;
        this.loading = undefined;
        this.setState({ phase: 'failed', message: 'the model thread stopped' });
      });
      const loadMs = Math.round(performance.now() - started);
      if (this.size === 0) this.size = model.dim;
      this.loaded = model;
      this.setState({ phase: 'ready', loadMs, folder });
      log.info(`embedding model ${this.model} (${this.dim} dimensions) loaded from ${folder.dir} in ${loadMs} ms`);
      return model;
    } catch (err) {
      const message = `embedding model ${this.model} could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      this.loading = undefined; // the next call tries again
      this.setState({ phase: 'failed', message });
      log.warn(message);
      throw new EmbeddingError(message, { cause: err });
    }
  }

  /** The cache folder, downloading the model into it first if it is not complete. */
  private async cached(): Promise<ModelFolder> {
    const dir = this.folder;
    if (!downloadRecord(dir, this.opts.dtype)) {
      try {
        prepareLocalDir(dir);
      } catch (err) {
        throw new ModelFilesError(`cannot keep downloaded models in ${dir}: ${err instanceof StoreOpenError ? err.message : String(err)}`);
      }
      const { downloadModel } = await import('./hub.js');
      log.info(`downloading embedding model ${this.opts.model} (${this.opts.dtype}) from ${this.opts.hub.endpoint} into ${dir}`);
      await downloadModel(
        this.opts.model,
        this.opts.dtype,
        dir,
        this.opts.hub,
        (p: DownloadProgress) => this.setState({ phase: 'downloading', file: p.file, loaded: p.loaded, total: p.total }),
        this.stop.signal,
      );
    }
    return locateFolder(dir, this.opts.dtype, 'the downloaded model folder');
  }
}

/** `Xenova/all-MiniLM-L6-v2` for the default weights, `Xenova/all-MiniLM-L6-v2:fp32` for others: their vectors differ. */
export const modelIdentity = (model: string, dtype: Dtype): string => (dtype === DEFAULT_DTYPE ? model : `${model}:${dtype}`);

/**
 * The dimension, known before any model is loaded (the database is opened
 * with it): MEMLANE_EMBED_DIM, else what the model's folder declares, else the
 * known families' sizes. Checked against the loaded model's output.
 */
function expectedDim(opts: TransformersOptions): number {
  if (opts.dim !== undefined) return opts.dim;
  const folder = opts.modelDir ?? cacheFolder(opts.cacheDir, opts.model);
  const dim = (existsSync(folder) ? folderDim(folder) : undefined) ?? knownDim(opts.model);
  if (dim !== undefined) return dim;
  if (opts.dimFromModel) return 0;
  throw new ModelFilesError(
    `the vector size of model ${opts.model} is not known before its files are here: run \`memlane model fetch\` first, ` +
      'point MEMLANE_MODEL_DIR at its files, or set MEMLANE_EMBED_DIM',
  );
}

/** A waiting call gives up this long before its deadline, keeping time to answer every item. */
function giveUpDelay(deadlineAt: number): number {
  const left = deadlineAt - Date.now();
  return Math.max(0, left - Math.min(1_000, Math.max(50, left * 0.1)));
}

const MB = (n: number) => (n / 1e6).toFixed(1);

function waitStatus(s: ModelState, model: string): WaitStatus {
  switch (s.phase) {
    case 'downloading': {
      const of = s.total ? ` of ${MB(s.total)}` : '';
      return {
        message: `embedding model ${model} is still loading (downloading ${s.file}: ${MB(s.loaded)}${of} MB)`,
        fraction: s.total ? 0.9 * (s.loaded / s.total) : 0,
        download: { file: s.file, loaded: s.loaded, total: s.total },
      };
    }
    case 'loading':
      return { message: `embedding model ${model} is still loading (starting ONNX Runtime)`, fraction: 0.9 };
    case 'ready':
      return { message: `embedding model ${model} loaded`, fraction: 1 };
    case 'failed':
      return { message: s.message, fraction: 0 };
    case 'idle':
      return { message: `embedding model ${model} is still loading`, fraction: 0 };
  }
}

/** The model thread, loaded: requests go out as messages, vectors come back as transferred buffers. */
class Loaded {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  alive = true;
  dim = 0;

  private constructor(
    private readonly worker: Worker,
    readonly profile: ModelProfile,
  ) {}

  /** `dim` 0: whatever the model gives. */
  static async start(folder: ModelFolder, profile: ModelProfile, opts: TransformersOptions, dim: number, onDeath: () => void): Promise<Loaded> {
    // stdout is the MCP channel even for a worker's stray console.log: both streams go to stderr.
    const worker = new Worker(workerUrl(), { stdout: true, stderr: true });
    worker.stdout.pipe(process.stderr);
    worker.stderr.pipe(process.stderr);
    const model = new Loaded(worker, profile);
    const loaded = new Promise<number>((resolve, reject) => {
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'loaded') resolve(m.dim);
        else if (m.type === 'load-failed') reject(new ModelFilesError(`${m.message} (model folder ${folder.dir}; if its files are damaged, delete them and run \`memlane model fetch\`, or replace them)`));
        else model.settle(m);
      });
      worker.on('error', (err) => {
        reject(err);
        model.fail(err);
      });
      worker.on('exit', (code) => {
        const err = new Error(`the model thread exited (code ${code})`);
        reject(err);
        if (model.alive) {
          model.fail(err);
          onDeath();
        }
      });
    });
    const request: WorkerRequest = { type: 'load', dir: folder.dir, onnx: folder.onnx, dtype: opts.dtype, threads: opts.threads, pooling: profile.pooling, maxTokens: profile.maxTokens };
    worker.postMessage(request);
    let got: number;
    try {
      got = await loaded;
    } catch (err) {
      await model.terminate();
      throw err;
    }
    if (dim !== 0 && got !== dim) {
      await model.terminate();
      throw new ModelFilesError(`the model gives ${got}-dimensional vectors, but ${dim} were expected (MEMLANE_EMBED_DIM, or the size its configuration declares)`);
    }
    // Idle, the thread must not keep a finished process alive; a request refs it again.
    worker.unref();
    model.dim = got;
    return model;
  }

  request(texts: string[], signal?: AbortSignal): Promise<Float32Array> {
    if (!this.alive) return Promise.reject(new EmbeddingError('the model thread stopped'));
    const id = this.next++;
    return new Promise<Float32Array>((resolve, reject) => {
      // An aborted call stops waiting; the thread finishes that inference and its answer is dropped.
      const onAbort = () => {
        this.pending.delete(id);
        reject(new EmbeddingError(`embedding aborted: ${signal?.reason instanceof Error ? signal.reason.message : 'the call ended'}`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (d) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.worker.ref(); // an inference in flight keeps the process alive until it answers
      this.worker.postMessage({ type: 'embed', id, texts } satisfies WorkerRequest);
    });
  }

  async terminate(): Promise<void> {
    this.alive = false;
    this.fail(new Error('the embedder was closed'));
    await this.worker.terminate();
  }

  private settle(m: WorkerReply): void {
    if (m.type !== 'embedded' && m.type !== 'embed-failed') return;
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (!p) return;
    if (m.type === 'embedded') p.resolve(m.data);
    else p.reject(new EmbeddingError(`the embedding model failed: ${m.message}`));
  }

  private fail(err: Error): void {
    this.alive = false;
    for (const p of this.pending.values()) p.reject(new EmbeddingError(`the embedding model failed: ${err.message}`));
    this.pending.clear();
  }
}

/**
 * The compiled worker beside this module. Run from the TypeScript sources
 * (the test suite imports src/ directly) there is no worker.js here, so the
 * one `tsc` built into dist/ is used.
 */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const dir = dirname(fileURLToPath(import.meta.url));
  const marker = `${sep}src${sep}embed${sep}transformers`;
  const root = dir.slice(0, dir.lastIndexOf(marker));
  return pathToFileURL(join(root, 'dist', 'src', 'embed', 'transformers', 'worker.js'));
}
