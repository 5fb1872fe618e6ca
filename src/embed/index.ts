import type { Config } from '../config.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local.js';
import { OpenAIEmbedder } from './openai.js';

/** The configured embedder (contract §5 MEMLANE_EMBEDDER). */
export async function createEmbedder(config: Config['embedder']): Promise<Embedder> {
  if (config.provider === 'openai') {
    return OpenAIEmbedder.create({
      ...(config.apiKey !== undefined && { apiKey: config.apiKey }),
      ...(config.baseURL !== undefined && { baseURL: config.baseURL }),
      model: config.model ?? 'text-embedding-3-small',
      ...(config.dim !== undefined && { dim: config.dim }),
    });
  }
  return new LocalEmbedder(config.dim);
}
