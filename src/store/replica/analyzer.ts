import { stem as porter2 } from 'porter2';
import { ENGLISH_STOP_WORDS } from '../../embed/stopwords.js';

/**
 * What full-text search sees of a text: the pipeline of LanceDB's own
 * full-text index as memlane configured it (tantivy's simple tokenizer, tokens
 * of 40 bytes and more dropped, lower-cased, Snowball English stemming, the
 * NLTK English stop words checked after stemming, ASCII folding), so that
 * ranking measured on LanceDB's index carries over. Checked against
 * LanceDB 0.39 on the 3,488 distinct words of the LoCoMo dev split: the same
 * stop words and the same stems for all but one pair (universe/university).
 *
 * Two additions LanceDB's simple tokenizer lacks: text in scripts written
 * without spaces (Han, Hiragana, Katakana, Hangul) is indexed as overlapping
 * character pairs, so "ラーメン" finds "…東京のラーメン屋…" (the simple tokenizer
 * makes the whole sentence one token, longer than 40 bytes, and drops it);
 * and every emoji is a term of its own (the simple tokenizer drops them).
 * Text is NFKC-normalised first, so full-width and other compatibility forms
 * match their plain forms.
 */
const WORDS = /[\p{Alphabetic}\p{N}][\p{Alphabetic}\p{M}\p{N}]*|\p{Extended_Pictographic}/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30FC\u3005]+/u;
const CJK_RUNS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30FC\u3005]+|[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30FC\u3005]+/gu;
const EMOJI = /^\p{Extended_Pictographic}$/u;
const MAX_TOKEN_BYTES = 40;

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const ASCII_WORDS = /[A-Za-z0-9]+/g;

/** Terms of `text`, in order, repeats kept (term frequency counts them). */
export function analyze(text: string): string[] {
  return ASCII_ONLY.test(text) ? analyzeAscii(text) : analyzeUnicode(text);
}

/**
 * `analyzeUnicode` for text that is all ASCII (most agent memories): there
 * NFKC changes nothing, the letters and digits are [A-Za-z0-9], no token is
 * an emoji or CJK, a character is a byte and nothing needs folding. Same
 * terms (test/store/replica.test.ts compares both on ASCII text), without the
 * Unicode-property regular expressions: half of a replica load's analysis.
 */
function analyzeAscii(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(ASCII_WORDS)) {
    const token = match[0];
    if (token.length >= MAX_TOKEN_BYTES) continue;
    const term = stemmed(token.toLowerCase());
    if (!ENGLISH_STOP_WORDS.has(term)) out.push(term);
  }
  return out;
}

/** The whole pipeline, for any text. Exported for the test that holds analyzeAscii to it. */
export function analyzeUnicode(text: string): string[] {
  const out: string[] = [];
  for (const match of text.normalize('NFKC').matchAll(WORDS)) {
    const token = match[0];
    if (EMOJI.test(token)) {
      out.push(token);
    } else if (CJK.test(token)) {
      for (const run of token.match(CJK_RUNS) ?? []) {
        if (CJK.test(run)) pushPairs(run, out);
        else pushWord(run, out);
      }
    } else {
      pushWord(token, out);
    }
  }
  return out;
}

/** The distinct terms of a query. */
export function queryTerms(query: string): string[] {
  return [...new Set(analyze(query))];
}

function pushWord(token: string, out: string[]): void {
  if (Buffer.byteLength(token) >= MAX_TOKEN_BYTES) return;
  const term = stemmed(token.toLowerCase());
  if (ENGLISH_STOP_WORDS.has(term)) return;
  out.push(fold(term));
}

/** Overlapping pairs of characters (a lone character stands for itself). */
function pushPairs(run: string, out: string[]): void {
  const chars = [...run];
  if (chars.length === 1) {
    out.push(chars[0]!);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
}

const stems = new Map<string, string>();
const STEM_CACHE = 200_000;

/** Porter2 is ~3 µs a word; a vocabulary is small, so stems are cached. */
function stemmed(word: string): string {
  let s = stems.get(word);
  if (s === undefined) {
    if (stems.size >= STEM_CACHE) stems.clear();
    s = porter2(word);
    stems.set(word, s);
  }
  return s;
}

const FOLDED: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ł: 'l', þ: 'th', ð: 'd', ı: 'i', ħ: 'h', ŧ: 't', ŀ: 'l' };
const NEEDS_FOLDING = /[^\x00-\x7f]/;
const LATIN = /^[\p{Script=Latin}\p{M}\p{N}]+$/u;

/** ASCII folding of Latin letters: accents dropped, ligatures and special letters spelt out; other scripts stay as they are. */
function fold(term: string): string {
  if (!NEEDS_FOLDING.test(term) || !LATIN.test(term)) return term;
  let out = '';
  for (const ch of term.normalize('NFD')) {
    if (/\p{M}/u.test(ch)) continue;
    out += FOLDED[ch] ?? ch;
  }
  return out.normalize('NFC');
}
