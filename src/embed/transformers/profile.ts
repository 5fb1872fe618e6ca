import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How a sentence-embedding model turns token states into one vector, and what
 * it expects in front of its inputs. Model cards say it; sentence-transformers
 * writes it into `1_Pooling/config.json` and `config_sentence_transformers.json`,
 * which many ONNX exports (Xenova/…) leave out, so the known families fill in.
 */
export interface ModelProfile {
  pooling: 'mean' | 'cls';
  /** Put in front of search queries (bge: "Represent this sentence…", e5: "query: "). */
  queryPrefix: string;
  /** Put in front of stored texts (e5: "passage: "). */
  passagePrefix: string;
  /** Longest input in tokens; longer texts are truncated (sentence-transformers' max_seq_length). */
  maxTokens: number;
}

interface Family {
  match: RegExp;
  profile: Partial<ModelProfile>;
  /** Output dimensions by model name, so that a database can be opened before the model is downloaded. */
  dims?: Array<[RegExp, number]>;
}

const RETRIEVAL_QUERY = 'Represent this sentence for searching relevant passages: ';

/** Model families whose cards ask for something other than mean pooling without prefixes. Matched on the model id. */
const FAMILIES: Family[] = [
  { match: /(^|\/)bge-[a-z]+-en-v1\.5$/i, profile: { pooling: 'cls', queryPrefix: RETRIEVAL_QUERY, maxTokens: 512 }, dims: [[/small/i, 384], [/base/i, 768], [/large/i, 1024]] },
  { match: /(^|\/)bge-[a-z]+-en$/i, profile: { pooling: 'cls', queryPrefix: RETRIEVAL_QUERY, maxTokens: 512 }, dims: [[/small/i, 384], [/base/i, 768], [/large/i, 1024]] },
  { match: /(^|\/)(multilingual-)?e5-[a-z]+(-v2)?$/i, profile: { pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ', maxTokens: 512 }, dims: [[/small/i, 384], [/base/i, 768], [/large/i, 1024]] },
  { match: /(^|\/)snowflake-arctic-embed-[a-z]+$/i, profile: { pooling: 'cls', queryPrefix: RETRIEVAL_QUERY, maxTokens: 512 } },
  { match: /(^|\/)mxbai-embed-large-v1$/i, profile: { pooling: 'cls', queryPrefix: RETRIEVAL_QUERY, maxTokens: 512 }, dims: [[/./, 1024]] },
  { match: /(^|\/)nomic-embed-text-v1(\.5)?$/i, profile: { pooling: 'mean', queryPrefix: 'search_query: ', passagePrefix: 'search_document: ', maxTokens: 8192 }, dims: [[/./, 768]] },
  { match: /(^|\/)gte-[a-z]+$/i, profile: { pooling: 'mean', maxTokens: 512 }, dims: [[/small/i, 384], [/base/i, 768], [/large/i, 1024]] },
  {
    match: /(^|\/)(all|paraphrase|multi-qa)-(MiniLM|mpnet|distilroberta)[A-Za-z0-9-]*$/i,
    profile: { pooling: 'mean', maxTokens: 256 },
    dims: [[/MiniLM/i, 384], [/mpnet|distilroberta/i, 768]],
  },
];

const DEFAULT_PROFILE: ModelProfile = { pooling: 'mean', queryPrefix: '', passagePrefix: '', maxTokens: 512 };

/** The profile the model id alone implies (before any file is read). */
export function familyProfile(modelId: string): ModelProfile {
  const family = FAMILIES.find((f) => f.match.test(modelId));
  return { ...DEFAULT_PROFILE, ...family?.profile };
}

/** The output dimension the model id implies, if its family is known. */
export function knownDim(modelId: string): number | undefined {
  const family = FAMILIES.find((f) => f.match.test(modelId));
  return family?.dims?.find(([re]) => re.test(modelId))?.[1];
}

/** The dimension a downloaded or local model folder declares (config.json `hidden_size`), if it says. */
export function folderDim(dir: string): number | undefined {
  const config = readJson(join(dir, 'config.json'));
  const d = config?.hidden_size ?? config?.d_model ?? config?.dim;
  return typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : undefined;
}

/**
 * The profile of the model in `dir`: what its sentence-transformers files say,
 * falling back on the family's, then on mean pooling without prefixes.
 */
export function folderProfile(dir: string, modelId: string): ModelProfile {
  const profile = familyProfile(modelId);
  const pooling = readJson(join(dir, '1_Pooling', 'config.json'));
  if (pooling?.pooling_mode_cls_token === true) profile.pooling = 'cls';
  else if (pooling?.pooling_mode_mean_tokens === true) profile.pooling = 'mean';
  const st = readJson(join(dir, 'config_sentence_transformers.json'));
  const prompts = st?.prompts as Record<string, unknown> | undefined;
  if (prompts && typeof prompts === 'object') {
    if (typeof prompts.query === 'string') profile.queryPrefix = prompts.query;
    const passage = prompts.document ?? prompts.passage;
    if (typeof passage === 'string') profile.passagePrefix = passage;
  }
  const bert = readJson(join(dir, 'sentence_bert_config.json'));
  if (typeof bert?.max_seq_length === 'number' && bert.max_seq_length > 0) profile.maxTokens = bert.max_seq_length;
  return profile;
}

function readJson(path: string): Record<string, any> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}
