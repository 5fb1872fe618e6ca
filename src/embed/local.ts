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

  /**
   * The vector of one text. What it computes is written out in
   * test/embed/local-reference.ts (the plain version): every feature is the
   * FNV-1a hash of "u:stem", "b:stem stem" or "c:<gram>". This version gets
   * the same numbers ~5× faster: a word's stop-word test, stem and character
   * n-gram hashes are computed once and cached, hashes run on from a cached
   * prefix state instead of over a built string, and features are counted
   * under a numeric key (both 32-bit hashes) in the same insertion order, so
   * the sum is taken in the same order and the floats are identical.
   */
  embedOne(text: string): Float32Array {
    const f = scratch.begin();
    const words: WordFeatures[] = [];
    for (const token of tokenize(text)) {
      const w = wordFeatures(token);
      if (w) words.push(w);
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      f.add(w.uni, w.uniSign, WEIGHT.word);
      const next = words[i + 1];
      if (next) f.add(fnvFrom(w.biPrefix, next.stem), fnvFrom(w.biPrefixSign, next.stem), WEIGHT.bigram);
    }
    for (const w of words) {
      for (let g = 0; g < w.grams.length; g += 2) f.add(w.grams[g]!, w.grams[g + 1]!, WEIGHT.char);
    }

    const v = new Float32Array(this.dim);
    for (let i = 0; i < f.count; i++) {
      const tf = f.tfs[i]!;
      const sign = f.signs[i]! & 1 ? 1 : -1;
      v[f.hashes[i]! % this.dim]! += sign * f.weights[i]! * (tf === 1 ? 1 : 1 + Math.log(tf));
    }
    return l2normalize(v);
  }
}

/**
 * The features of the text being embedded, counted in first-seen order:
 * an open-addressing table over typed arrays, reused from text to text
 * (a Map per text was most of the time). A feature is both of its 32-bit
 * hashes; two different features agreeing on both are not expected in a text.
 */
class FeatureTable {
  count = 0;
  hashes = new Uint32Array(1024);
  signs = new Uint32Array(1024);
  weights = new Float64Array(1024);
  tfs = new Int32Array(1024);
  private slots = new Int32Array(4096);
  private stamps = new Int32Array(4096);
  private stamp = 0;

  begin(): this {
    this.count = 0;
    this.stamp++;
    if (this.stamp === 2 ** 31 - 1) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    return this;
  }

  add(h: number, hs: number, weight: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    for (let i = (h ^ Math.imul(hs, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      if (this.stamps[i] !== this.stamp) {
        this.stamps[i] = this.stamp;
        this.slots[i] = this.count;
        this.hashes[this.count] = h;
        this.signs[this.count] = hs;
        this.weights[this.count] = weight;
        this.tfs[this.count] = 1;
        this.count++;
        return;
      }
      const at = this.slots[i]!;
      if (this.hashes[at] === h && this.signs[at] === hs) {
        this.tfs[at]!++;
        return;
      }
    }
  }

  private grow(): void {
    const n = this.hashes.length * 2;
    const copy = <T extends Uint32Array | Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.hashes = copy(this.hashes);
    this.signs = copy(this.signs);
    this.weights = copy(this.weights);
    this.tfs = copy(this.tfs);
    // Re-insert into a table twice the size (features keep their order).
    const count = this.count;
    this.slots = new Int32Array(n * 4);
    this.stamps = new Int32Array(n * 4);
    this.stamp = 1;
    const mask = this.slots.length - 1;
    for (let at = 0; at < count; at++) {
      let i = (this.hashes[at]! ^ Math.imul(this.signs[at]!, 0x9e3779b1)) & mask;
      while (this.stamps[i] === this.stamp) i = (i + 1) & mask;
      this.stamps[i] = this.stamp;
      this.slots[i] = at;
    }
  }
}

const scratch = new FeatureTable();

/** What a word contributes, whatever text it is in: computed once per distinct word. */
interface WordFeatures {
  stem: string;
  /** Hashes of "u:" + stem (index, sign). */
  uni: number;
  uniSign: number;
  /** FNV states after "b:" + stem + " ", for the bigram with the next word. */
  biPrefix: number;
  biPrefixSign: number;
  /** Hash pairs of "c:" + each character n-gram of "<word>", n = 3, 4, 5, in that order. */
  grams: Uint32Array;
}

const words = new Map<string, WordFeatures | null>();
const WORD_CACHE = 100_000;
const OFFSET = 0x811c9dc5;

function wordFeatures(word: string): WordFeatures | null {
  let w = words.get(word);
  if (w !== undefined) return w;
  if (ENGLISH_STOP_WORDS.has(word)) w = null;
  else {
    const s = stem(word);
    const marked = `<${word}>`;
    const grams: number[] = [];
    const gramPrefix = fnvFrom(OFFSET, 'c:');
    const gramPrefixSign = fnvFrom(SIGN_SEED, 'c:');
    for (const n of CHAR_NGRAMS) {
      for (let j = 0; j + n <= marked.length; j++) {
        grams.push(fnvFrom(gramPrefix, marked, j, j + n), fnvFrom(gramPrefixSign, marked, j, j + n));
      }
    }
    w = {
      stem: s,
      uni: fnvFrom(fnvFrom(OFFSET, 'u:'), s),
      uniSign: fnvFrom(fnvFrom(SIGN_SEED, 'u:'), s),
      biPrefix: fnvFrom(fnvFrom(fnvFrom(OFFSET, 'b:'), s), ' '),
      biPrefixSign: fnvFrom(fnvFrom(fnvFrom(SIGN_SEED, 'b:'), s), ' '),
      grams: Uint32Array.from(grams),
    };
  }
  if (words.size >= WORD_CACHE) words.clear();
  words.set(word, w);
  return w;
}

/** FNV-1a (32 bit) continued from state `h` over `s[from, to)` (UTF-16 code units). */
function fnvFrom(h: number, s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Lower-cased words and numbers, after Unicode NFKC. */
export function tokenize(text: string): string[] {
  // NFKC leaves ASCII as it is: skip it for the common case.
  const normal = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  return normal.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const NON_ASCII = /[^\x00-\x7f]/;

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
