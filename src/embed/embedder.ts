/**
 * What every embedding provider implements. The store records `provider`,
 * `model` and `dim` with the database so that vectors from two embedders are
 * never mixed (contract §5).
 */
export interface Embedder {
  readonly provider: string;
  readonly model: string;
  readonly dim: number;
  /**
   * Embeds `texts` in input order. Every returned vector has exactly `dim`
   * finite numbers and unit length. Throws `EmbeddingError` when the provider
   * fails after its retries; the caller then fails every affected item.
   */
  embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]>;
  /**
   * Gets ready to embed now instead of at the first `embed` (a local model:
   * download and load it), reporting how far it got. Rejects with
   * EmbeddingError when it cannot. Providers with nothing to prepare omit it.
   */
  prepare?(onWait?: (w: WaitStatus) => void): Promise<void>;
  /** Releases what the provider holds (a model's thread). */
  close?(): Promise<void>;
}

export interface EmbedOptions {
  /** Retries on 429 / 5xx / timeouts for remote providers (tool option `max_retries`). */
  maxRetries?: number;
  /** Aborts the provider call (the tool call's deadline). */
  signal?: AbortSignal;
  /**
   * When the call's deadline falls (epoch ms). A provider that is still getting
   * ready (a local model loading) gives up a little before it with an
   * EmbeddingError saying so, so that the call can still answer per item.
   */
  deadlineAt?: number;
  /** Search queries and stored texts: models such as e5 and bge want a different prefix for each. Default `passage`. */
  kind?: 'query' | 'passage';
  /** Called while the provider keeps the call waiting (a model downloading or loading). */
  onWait?: (w: WaitStatus) => void;
}

/** What a waiting call is waiting for. */
export interface WaitStatus {
  message: string;
  /** How far it is, 0–1. */
  fraction: number;
  /** While a file downloads: its bytes so far and in all (when the server says). */
  download?: { file: string; loaded: number; total: number | undefined };
}

/** A provider failure that a caller reports per item as `EMBEDDING_FAILED`. */
export class EmbeddingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

/** Scales `v` to unit length in place; a zero vector stays zero. */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}
