import { type Embedder, l2normalize } from './embedder.js';

/**
 * The offline default: a hashed bag of word unigrams, word bigrams and
 * character n-grams. No model file, no key, no network, and the same text gives
 * the same vector in every process and on every machine. It is lexical: it
 * matches spelling variants and word fragments that full-text search misses
 * ("deploy" ~ "deployment", typos), which is why `hybrid` pairs it with the
 * full-text index.
 *
 * Each feature is hashed (FNV-1a, 32 bit) to a dimension and a sign (the sign
 * halves collisions' bias), weighted by 1 + ln(tf) and by its kind, and the
 * vector is L2-normalised so cosine similarity is a dot product.
 */
export const LOCAL_DIM = 384;
export const LOCAL_MODEL = 'hash-ngram-v1';

const WEIGHT = { word: 1.0, bigram: 0.7, char: 0.35 } as const;
const CHAR_NGRAMS = [3, 4, 5] as const;

export class LocalEmbedder implements Embedder {
  readonly provider = 'local';
  readonly model = LOCAL_MODEL;

  constructor(readonly dim: number = LOCAL_DIM) {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, { kind: keyof typeof WEIGHT; tf: number }>();
    const add = (feature: string, kind: keyof typeof WEIGHT) => {
      const key = `${kind[0]}:${feature}`;
      const entry = counts.get(key);
      if (entry) entry.tf++;
      else counts.set(key, { kind, tf: 1 });
    };

    const words = tokenize(text);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      add(w, 'word');
      if (i + 1 < words.length) add(`${w} ${words[i + 1]}`, 'bigram');
      const padded = `<${w}>`;
      for (const n of CHAR_NGRAMS) {
        for (let j = 0; j + n <= padded.length; j++) add(padded.slice(j, j + n), 'char');
      }
    }

    const v = new Float32Array(this.dim);
    for (const [key, { kind, tf }] of counts) {
      const h = fnv1a(key);
      const sign = h & 0x80000000 ? -1 : 1;
      v[(h & 0x7fffffff) % this.dim]! += sign * WEIGHT[kind] * (1 + Math.log(tf));
    }
    return l2normalize(v);
  }
}

/** Lower-cased words and numbers (Unicode letters, NFKC, accents folded). */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
