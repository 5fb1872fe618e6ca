/**
 * The local embedder hash-ngram-v1 written plainly, as it was first built:
 * the specification the fast implementation in src/embed/local.ts must match
 * bit for bit (databases hold vectors made by either).
 */
import { l2normalize } from '../../src/embed/embedder.js';
import { stem, tokenize } from '../../src/embed/local.js';
import { ENGLISH_STOP_WORDS } from '../../src/embed/stopwords.js';

const WEIGHT = { word: 1.0, bigram: 0.5, char: 0.35 } as const;
const CHAR_NGRAMS = [3, 4, 5] as const;
const SIGN_SEED = 0x9747b28c;

export function referenceEmbed(text: string, dim: number): Float32Array {
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
  const v = new Float32Array(dim);
  for (const [feature, { weight, tf }] of features) {
    const sign = fnv1a(feature, SIGN_SEED) & 1 ? 1 : -1;
    v[fnv1a(feature) % dim]! += sign * weight * (1 + Math.log(tf));
  }
  return l2normalize(v);
}

function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
