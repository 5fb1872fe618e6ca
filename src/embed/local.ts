import { type Embedder, l2normalize } from './embedder.js';
import { ENGLISH_STOP_WORDS } from './stopwords.js';

/**
 * The offline default: a hashed bag of word unigrams, word bigrams and
 * character n-grams. No model file, no key, no network, and the same text gives
 * the same vector in every process and on every machine. It is lexical: it
 * matches spelling variants and word fragments that full-text search misses
 * ("deploy" ~ "deployment", typos), which is why `hybrid` pairs it with the
 * full-text index rather than relying on it alone.
 *
 * Each feature is hashed (FNV-1a, 32 bit) to a dimension, with its sign from a
 * second, salted hash (so collisions cancel out on average instead of piling
 * up), weighted by 1 + ln(tf) and by its kind, and the vector is L2-normalised
 * so cosine similarity is a dot product. Stop words are dropped and words get a
 * light suffix stemming: without IDF, frequent words would otherwise dominate.
 *
 * 768 dimensions: a memory yields ~150 hashed features (most of them
 * character n-grams), and at 384 their collisions blur which memory is the
 * best match: on the LoCoMo dev split 768 gained ~3 points of recall@1 in
 * vector mode over 384 (1024 no more than 768), while recall@10 moved little.
 * Character n-grams weigh 0.35 (was 0.25; 0.25–0.5 tried): they carry the
 * spelling variants and fragments, but past that they outvote whole words.
 * Both chosen by leave-one-conversation-out (bench/RESULTS.md).
 */
export const LOCAL_DIM = 768;
export const LOCAL_MODEL = 'hash-ngram-v1';

const WEIGHT = { word: 1.0, bigram: 0.5, char: 0.35 } as const;
const CHAR_NGRAMS = [3, 4, 5] as const;
const SIGN_SEED = 0x9747b28c;

export class LocalEmbedder implements Embedder {
  readonly provider = 'local';
  readonly model = LOCAL_MODEL;

  constructor(readonly dim: number = LOCAL_DIM) {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const features = new Map<string, { weight: number; tf: number }>();
    const add = (feature: string, weight: number) => {
      const entry = features.get(feature);
      if (entry) entry.tf++;
      else features.set(feature, { weight, tf: 1 });
    };

    const words = tokenize(text).filter((w) => !ENGLISH_STOP_WORDS.has(w));
    const stems = words.map(stem);
    for (let i = 0; i < stems.length; i++) {
      add(`u:${stems[i]}`, WEIGHT.word);
      if (i + 1 < stems.length) add(`b:${stems[i]} ${stems[i + 1]}`, WEIGHT.bigram);
    }
    for (const w of words) {
      const marked = `<${w}>`;
      for (const n of CHAR_NGRAMS) {
        for (let j = 0; j + n <= marked.length; j++) add(`c:${marked.slice(j, j + n)}`, WEIGHT.char);
      }
    }

    const v = new Float32Array(this.dim);
    for (const [feature, { weight, tf }] of features) {
      const sign = fnv1a(feature, SIGN_SEED) & 1 ? 1 : -1;
      v[fnv1a(feature) % this.dim]! += sign * weight * (1 + Math.log(tf));
    }
    return l2normalize(v);
  }
}

/** Lower-cased words and numbers, after Unicode NFKC. */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['ies', 'y'],
  ['sses', 'ss'],
  ['ing', ''],
  ['edly', ''],
  ['ed', ''],
  ['ly', ''],
  ['es', ''],
  ['s', ''],
];

/** A tiny suffix stemmer: "deploys", "deployed", "deploying" → "deploy". */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  for (const [suffix, replacement] of SUFFIXES) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      if (suffix === 's' && word.endsWith('ss')) return word;
      return word.slice(0, -suffix.length) + replacement;
    }
  }
  return word;
}

function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
