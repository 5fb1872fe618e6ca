import type { Config } from '../config.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local.js';
import { DEFAULT_TRANSFORMERS_MODEL, TransformersEmbedder } from './transformers/embedder.js';

/** The configured embedder (contract §5 MEMLANE_EMBEDDER). */
export async function createEmbedder(config: Config['embedder']): Promise<Embedder> {
  if (config.provider === 'openai') {
    // Loaded only when configured: the openai package is ~90 ms of every start otherwise.
    const { OpenAIEmbedder } = await import('./openai.js');
    return OpenAIEmbedder.create({
      ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
      ...(config.baseURL !== undefined && { baseURL: config.baseURL }),
      model: config.model ?? 'text-embedding-3-small',
      ...(config.dim !== undefined && { dim: config.dim }),
    });
  }
  if (config.provider === 'transformers') return transformersEmbedder(config);
  return new LocalEmbedder(config.dim);
}

/** The transformers embedder of a configuration; nothing is loaded or downloaded yet. */
export function transformersEmbedder(config: Config['embedder'], opts: { dimFromModel?: boolean } = {}): TransformersEmbedder {
  return new TransformersEmbedder({
    model: config.model ?? DEFAULT_TRANSFORMERS_MODEL,
    dtype: config.dtype,
    ...(config.dim !== undefined && { dim: config.dim }),
    ...(config.modelDir !== undefined && { modelDir: config.modelDir }),
    cacheDir: config.cacheDir,
    hub: { endpoint: config.hubEndpoint, ...(config.hubToken !== undefined && { token: config.hubToken }) },
    threads: config.threads,
    ...(opts.dimFromModel && { dimFromModel: true }),
  });
}
