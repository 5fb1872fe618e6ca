/**
 * The model's own thread. ONNX Runtime's Node binding loads a model and runs
 * it synchronously, so on the main thread a 23 MB load or a 100-text batch
 * would stall every MCP request (tools/list, other clients' calls) for
 * hundreds of milliseconds. Here it stalls only this thread.
 *
 * Messages: `load` once, then any number of `embed`; see protocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import { dirname } from 'node:path';
import type { LoadRequest, WorkerReply, WorkerRequest } from './protocol.js';

type Transformers = typeof import('@huggingface/transformers');
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['AutoModel']['from_pretrained']>>;

interface Loaded {
  tokenizer: Tokenizer;
  model: Model;
  req: LoadRequest;
  dim: number;
}

/** Texts per inference: long enough to keep the matrix kernels busy, short enough that padding to the longest costs little. */
const CHUNK = 32;

let loaded: Loaded | undefined;
const port = parentPort!;
const reply = (m: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: WorkerRequest) => {
  if (m.type === 'load') {
    load(m).then(
      (l) => {
        loaded = l;
        reply({ type: 'loaded', dim: l.dim });
      },
      (err: unknown) => reply({ type: 'load-failed', message: message(err) }),
    );
  } else if (m.type === 'embed') {
    if (!loaded) {
      reply({ type: 'embed-failed', id: m.id, message: 'the model is not loaded' });
      return;
    }
    embed(loaded, m.texts).then(
      (data) => reply({ type: 'embedded', id: m.id, data }, [data.buffer as ArrayBuffer]),
      (err: unknown) => reply({ type: 'embed-failed', id: m.id, message: message(err) }),
    );
  }
});

async function load(req: LoadRequest): Promise<Loaded> {
  const { AutoModel, AutoTokenizer, env, LogLevel } = await import('@huggingface/transformers');
  // Nothing is ever fetched from here: memlane downloads (hub.ts) or the user provides the folder.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.logLevel = LogLevel.ERROR;
  const subfolder = dirname(req.onnx) === '.' ? '' : dirname(req.onnx);
  const tokenizer = await AutoTokenizer.from_pretrained(req.dir, { local_files_only: true });
  const model = await AutoModel.from_pretrained(req.dir, {
    local_files_only: true,
    device: 'cpu',
    dtype: req.dtype,
    subfolder,
    model_file_name: 'model',
    session_options: {
      intraOpNumThreads: req.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // ONNX Runtime's threads spin between (and after) inferences by default. On a machine whose
      // cores are also busy with the client, LanceDB or other work, a spinning thread waits for a
      // descheduled one: measured here (2 cores, load ~6), 2 spinning threads embedded 35–60 texts/s
      // for 10 s of CPU, 2 threads that sleep instead 80–110/s for 6.6 s (bench/RESULTS.md).
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    },
  });
  const probe = await run({ tokenizer, model, req, dim: 0 }, ['memlane']);
  return { tokenizer, model, req, dim: probe.dim };
}

/** Vectors of `texts`, in order, concatenated: pooled as the model card says and L2-normalised. */
async function embed(l: Loaded, texts: string[]): Promise<Float32Array> {
  // Similar lengths share an inference, so little of it is spent on padding.
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  const out = new Float32Array(texts.length * l.dim);
  for (let start = 0; start < order.length; start += CHUNK) {
    const slots = order.slice(start, start + CHUNK);
    const { vectors, dim } = await run(l, slots.map((i) => texts[i]!));
    if (dim !== l.dim) throw new Error(`the model returned ${dim} dimensions, then ${l.dim}`);
    slots.forEach((slot, j) => out.set(vectors.subarray(j * dim, (j + 1) * dim), slot * dim));
  }
  return out;
}

async function run(l: Loaded, texts: string[]): Promise<{ vectors: Float32Array; dim: number }> {
  const inputs = l.tokenizer(texts, { padding: true, truncation: true, max_length: l.req.maxTokens });
  const outputs = await l.model(inputs);
  const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? Object.values(outputs)[0];
  if (!hidden || hidden.dims.length !== 3) {
    throw new Error(`the model's output is not token states [batch, tokens, dim] (got ${hidden ? `[${hidden.dims.join(', ')}]` : 'nothing'})`);
  }
  const [batch, tokens, dim] = hidden.dims as [number, number, number];
  const states = hidden.data as Float32Array;
  const mask = inputs.attention_mask.data as BigInt64Array;
  const vectors = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    const v = vectors.subarray(b * dim, (b + 1) * dim);
    if (l.req.pooling === 'cls') {
      v.set(states.subarray(b * tokens * dim, b * tokens * dim + dim));
    } else {
      let count = 0;
      for (let t = 0; t < tokens; t++) {
        if (mask[b * tokens + t] === 0n) continue;
        count++;
        const base = (b * tokens + t) * dim;
        for (let d = 0; d < dim; d++) v[d]! += states[base + d]!;
      }
      if (count > 0) for (let d = 0; d < dim; d++) v[d]! /= count;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += v[d]! * v[d]!;
    if (!(norm > 0) || !Number.isFinite(norm)) throw new Error('the model returned a zero or non-finite vector');
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) v[d]! *= inv;
  }
  return { vectors, dim };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
