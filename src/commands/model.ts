import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { WaitStatus } from '../embed/embedder.js';
import { transformersEmbedder } from '../embed/index.js';
import { downloadRecord, listFiles } from '../embed/transformers/files.js';
import type { TransformersEmbedder } from '../embed/transformers/embedder.js';
import { parseOrUsage } from './command.js';
import { progressBar } from './progress.js';
import { UsageError } from './usage.js';

/**
 * `memlane model fetch` and `memlane model info`: the transformers embedder's
 * model, without opening the database. Both use the transformers settings
 * (MEMLANE_EMBED_MODEL, MEMLANE_EMBED_DTYPE, MEMLANE_MODEL_DIR) whatever
 * MEMLANE_EMBEDDER says, so a model can be fetched before switching to it.
 */
export async function modelCommand(argv: string[], config: Config): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseOrUsage({ args: rest, options: { json: { type: 'boolean', default: false } }, strict: true });
  if (sub !== 'fetch' && sub !== 'info') throw new UsageError(`memlane model: expected "fetch" or "info", got ${sub === undefined ? 'nothing' : `"${sub}"`}`);
  const embedder = transformersEmbedder({ ...config.embedder, provider: 'transformers' }, { dimFromModel: true });
  try {
    return sub === 'fetch' ? await fetchModel(embedder, values.json) : info(embedder, values.json);
  } finally {
    await embedder.close();
  }
}

/** Downloads the model if it is not here yet (a progress bar on stderr), then loads it once to check it works. */
async function fetchModel(embedder: TransformersEmbedder, json: boolean): Promise<number> {
  const started = performance.now();
  await prepareModel(embedder);
  const state = embedder.status;
  const loadMs = state.phase === 'ready' ? state.loadMs : undefined;
  const summary = { model: embedder.model, dim: embedder.dim, folder: embedder.folder, ms: Math.round(performance.now() - started), load_ms: loadMs };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stderr.write(`${embedder.model} (${embedder.dim} dimensions) is ready in ${embedder.folder}; it loaded in ${loadMs} ms\n`);
  return 0;
}

/**
 * Gets `embedder` ready with a bar for a download on stderr (commands that
 * embed call it first, so a download shows as such, not as a stalled run).
 */
export async function prepareModel(embedder: { prepare?: (onWait?: (w: WaitStatus) => void) => Promise<void> }): Promise<void> {
  if (!embedder.prepare) return;
  const bar = progressBar('model', { unit: 'MB' });
  try {
    await embedder.prepare((w) => {
      if (w.download?.total) bar.update(w.download.loaded, w.download.total);
    });
  } finally {
    bar.stop();
  }
}

function info(embedder: TransformersEmbedder, json: boolean): number {
  const o = embedder.opts;
  const folder = embedder.folder;
  const record = o.modelDir ? undefined : downloadRecord(folder, o.dtype);
  const files = listFiles(folder).map((path) => ({ path, bytes: statSync(join(folder, path)).size }));
  const profile = embedder.profile;
  const doc = {
    provider: embedder.provider,
    model: embedder.model,
    hub_id: o.model,
    dtype: o.dtype,
    dim: embedder.dim,
    pooling: profile.pooling,
    query_prefix: profile.queryPrefix,
    passage_prefix: profile.passagePrefix,
    max_tokens: profile.maxTokens,
    threads: o.threads,
    source: o.modelDir ? 'MEMLANE_MODEL_DIR' : o.hub.endpoint,
    folder,
    present: o.modelDir ? files.length > 0 : record !== undefined,
    downloaded_at: record?.downloaded_at ?? null,
    files,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(doc)}\n`);
    return 0;
  }
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const lines = [
    `model      ${doc.model} (${doc.provider}; recorded in the database as ${doc.provider}/${doc.model})`,
    `dimension  ${doc.dim === 0 ? 'unknown until the model is here (memlane model fetch)' : doc.dim}`,
    `weights    ${doc.dtype} (MEMLANE_EMBED_DTYPE)`,
    `pooling    ${doc.pooling}, L2-normalised; at most ${doc.max_tokens} tokens`,
    `prefixes   query ${JSON.stringify(doc.query_prefix)}, passage ${JSON.stringify(doc.passage_prefix)}`,
    `threads    ${doc.threads}`,
    `source     ${o.modelDir ? 'MEMLANE_MODEL_DIR (nothing is downloaded)' : `${doc.source} (downloaded once into the folder below)`}`,
    `folder     ${folder}${doc.present ? '' : o.modelDir ? ' (empty or missing)' : ' (not downloaded yet: memlane model fetch, or the first call that embeds)'}`,
    ...(doc.downloaded_at ? [`downloaded  ${doc.downloaded_at}`] : []),
    ...(files.length > 0 ? [`files      ${(bytes / 1e6).toFixed(1)} MB`, ...files.map((f) => `  ${f.path.padEnd(36)} ${(f.bytes / 1e6).toFixed(2).padStart(8)} MB`)] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
