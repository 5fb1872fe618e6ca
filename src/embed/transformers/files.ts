import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Where models come from unless HF_ENDPOINT says otherwise. */
export const DEFAULT_HUB = 'https://huggingface.co';

/** ONNX weight variants, named as Transformers.js and the hub's ONNX exports name their files. */
export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];
/** int8 weights: a quarter of fp32's download (23 MB for all-MiniLM-L6-v2) and faster on a CPU. */
export const DEFAULT_DTYPE: Dtype = 'q8';

const SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4' };

/** `model_quantized.onnx` for q8, `model.onnx` for fp32, … */
export const onnxFileName = (dtype: Dtype): string => `model${SUFFIX[dtype]}.onnx`;

/** What the tokenizer and model need; a folder without them cannot be loaded. */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** What sentence-transformers exports carry to say how to pool and prefix (see profile.ts); fetched when the hub has them. */
export const OPTIONAL_FILES = ['special_tokens_map.json', '1_Pooling/config.json', 'config_sentence_transformers.json', 'sentence_bert_config.json', 'modules.json'] as const;

/** Valid hub ids: `owner/name` or `name`, no `..`, so an id can never point outside the cache. */
export const MODEL_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export interface ModelFolder {
  dir: string;
  /** The ONNX file, relative to `dir` (`onnx/model_quantized.onnx` in the hub's layout, or at the top). */
  onnx: string;
}

/**
 * The files of a model folder for `dtype`: the hub's layout (`onnx/…`) or a
 * flat one. Throws ModelFilesError naming what is missing and what is there.
 */
export function locateFolder(dir: string, dtype: Dtype, what: string): ModelFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFilesError(`${what} ${dir} does not exist or is not a folder`);
  }
  const name = onnxFileName(dtype);
  const onnx = [join('onnx', name), name].find((p) => isFile(join(dir, p)));
  const missing = REQUIRED_FILES.filter((f) => !isFile(join(dir, f)));
  if (onnx === undefined) missing.push(`onnx/${name}` as never);
  if (missing.length > 0) {
    const others = onnxFiles(dir).filter((f) => !f.endsWith(name));
    const hint = others.length > 0 ? `; it has ${others.join(', ')}: set MEMLANE_EMBED_DTYPE to the variant you mean (${DTYPES.join(', ')})` : '';
    throw new ModelFilesError(
      `${what} ${dir} is missing ${missing.join(', ')} (dtype ${dtype})${hint}. A model folder holds config.json, tokenizer.json, ` +
        `tokenizer_config.json and the ONNX file (onnx/${name}), as in a Hugging Face ONNX repository (Xenova/…, onnx-community/…)`,
    );
  }
  return { dir, onnx: onnx! };
}

/** Every `.onnx` file in the folder (one level of subfolders), relative, for messages and `memlane model info`. */
export function onnxFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => f.endsWith('.onnx'));
}

/** Every file under `dir` (two levels), relative, with `/` separators. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 2 && !e.name.startsWith('.')) walk(p, depth + 1);
      else if (e.isFile() && !e.name.startsWith('.')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir, 0);
  return out.sort();
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** The cache folder of a hub model: `<cache>/<owner>/<name>`. */
export const cacheFolder = (cacheDir: string, modelId: string): string => join(cacheDir, ...modelId.split('/'));

/** Written last by a download: the folder holds every file of `dtype`. */
export const completeMarker = (dtype: Dtype): string => `.memlane-download-${dtype}.json`;

export interface DownloadRecord {
  model: string;
  dtype: Dtype;
  revision: string;
  endpoint: string;
  downloaded_at: string;
  files: Array<{ path: string; bytes: number }>;
}

/** The record of a finished download into `dir`, if there is one. */
export function downloadRecord(dir: string, dtype: Dtype): DownloadRecord | undefined {
  const path = join(dir, completeMarker(dtype));
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DownloadRecord;
  } catch {
    return undefined;
  }
}

/** Model files are missing or unusable: the message says which and what a folder needs. */
export class ModelFilesError extends Error {
  override name = 'ModelFilesError';
}
