import type { Dtype } from './files.js';
import type { ModelProfile } from './profile.js';

/** Main thread → model thread (worker.ts). */
export type WorkerRequest = LoadRequest | { type: 'embed'; id: number; texts: string[] };

export interface LoadRequest {
  type: 'load';
  dir: string;
  /** The ONNX file relative to `dir`. */
  onnx: string;
  dtype: Dtype;
  threads: number;
  pooling: ModelProfile['pooling'];
  maxTokens: number;
}

/** Model thread → main thread. `data` holds the vectors of one request, `dim` numbers each, in input order. */
export type WorkerReply =
  | { type: 'loaded'; dim: number }
  | { type: 'load-failed'; message: string }
  | { type: 'embedded'; id: number; data: Float32Array }
  | { type: 'embed-failed'; id: number; message: string };
