import { EmbeddingError, type EmbedOptions, type Embedder, type WaitStatus } from './embedder.js';

/**
 * An embedder that refuses to embed while `mismatch()` names a reason: the
 * database's vectors now come from another embedder (another process ran
 * `memlane reembed`), and vectors of two embedders must never be mixed or
 * compared. Items that need an embedding then report EMBEDDING_FAILED with
 * that reason; everything else keeps working.
 */
export function guardedEmbedder(inner: Embedder, mismatch: () => string | undefined): Embedder {
  return {
    provider: inner.provider,
    model: inner.model,
    dim: inner.dim,
    async embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]> {
      const why = mismatch();
      if (why !== undefined) throw new EmbeddingError(why);
      return inner.embed(texts, opts);
    },
    ...(inner.prepare && { prepare: (onWait?: (w: WaitStatus) => void) => inner.prepare!(onWait) }),
    ...(inner.close && { close: () => inner.close!() }),
  };
}
