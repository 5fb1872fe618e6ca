import type { Progress } from '../batch/progress.js';
import { EmbeddingError, type Embedder, type EmbedOptions } from '../embed/embedder.js';
import { ErrorCode, itemError, type ItemError } from '../errors.js';
import { timed } from '../timing.js';

/**
 * The vectors one call needs, embedded once per distinct text. A provider
 * failure is remembered per text, so only the items that needed those vectors
 * report EMBEDDING_FAILED and the rest of the batch still runs.
 */
export class CallVectors {
  private readonly vectors = new Map<string, Float32Array>();
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly embedder: Embedder,
    private readonly opts: {
      signal?: AbortSignal;
      maxRetries?: number;
      /** The call's deadline: a model still loading then fails these items with EMBEDDING_FAILED saying so. */
      deadlineAt?: number;
      kind?: EmbedOptions['kind'];
      /** Where a wait for the model (a download, a load) is reported. */
      progress?: Progress;
    },
  ) {}

  /** Embeds every text not yet embedded (or failed) in one provider call. */
  async ensure(texts: Iterable<string>): Promise<void> {
    const missing = [...new Set(texts)].filter((t) => !this.vectors.has(t) && !this.failures.has(t));
    if (missing.length === 0) return;
    try {
      const { signal, maxRetries, deadlineAt, kind, progress } = this.opts;
      const out = await timed('embed', () => this.embedder.embed(missing, {
        ...(signal && { signal }),
        ...(maxRetries !== undefined && { maxRetries }),
        ...(deadlineAt !== undefined && { deadlineAt }),
        ...(kind && { kind }),
        ...(progress && { onWait: (w) => progress.wait(w.message, w.fraction) }),
      }));
      missing.forEach((t, i) => this.vectors.set(t, out[i]!));
    } catch (err) {
      // A deadline abort is the call's timeout, not the provider's failure.
      if (this.opts.signal?.aborted) throw this.opts.signal.reason;
      if (!(err instanceof EmbeddingError)) throw err;
      for (const t of missing) this.failures.set(t, err.message);
    }
  }

  /** The vector of `text`, or the error its item reports. Call `ensure` first. */
  get(text: string, field: string): Float32Array | ItemError {
    const v = this.vectors.get(text);
    if (v) return v;
    const failure = this.failures.get(text) ?? 'text was not embedded';
    return itemError(ErrorCode.EmbeddingFailed, `embedding failed: ${failure}; nothing was written for this item`, field);
  }
}

/** A caller-supplied vector, checked: LanceDB would silently pad or truncate a wrong length. */
export function callerVector(values: readonly number[], dim: number, field: string): Float32Array | ItemError {
  if (values.length !== dim) {
    return itemError(ErrorCode.Validation, `embedding has ${values.length} numbers; this database's vectors have exactly ${dim}`, field);
  }
  if (!values.every(Number.isFinite)) return itemError(ErrorCode.Validation, 'embedding must contain only finite numbers', field);
  const v = Float32Array.from(values);
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) return itemError(ErrorCode.Validation, 'embedding must not be all zeros (cosine similarity is undefined)', field);
  return v;
}

export const isItemError = (v: unknown): v is ItemError =>
  typeof v === 'object' && v !== null && 'code' in v && 'message' in v && !(v instanceof Float32Array);
