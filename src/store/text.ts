import { createHash } from 'node:crypto';
import { caseFold } from 'unicode-case-folding';

/**
 * Text rules shared by writes and searches: the full-text index settings, what
 * the index sees of a memory, and the normalisation behind dedupe.
 */

/**
 * The full-text configuration memlane's ranking was measured with: LanceDB's
 * own tokenizer pipeline (English stemming, stop words, accent folding, its
 * defaults spelt out). Search now runs this pipeline in memory
 * (store/replica/analyzer.ts, checked against a LanceDB index built with
 * these options in test/store/replica.test.ts). Measured on LoCoMo dev:
 * turning off stemming or stop-word removal cost ~4 points of recall@10
 * each; other tokenizers gained nothing (bench/RESULTS.md).
 */
export const ftsIndexOptions = {
  baseTokenizer: 'simple',
  language: 'English',
  lowercase: true,
  stem: true,
  removeStopWords: true,
  asciiFolding: true,
  withPosition: false,
} as const;

/**
 * Contract §4: Unicode NFKC, trimmed, runs of whitespace made one space,
 * case-folded. Case folding is Unicode's full case folding (CaseFolding.txt,
 * statuses C and F, without the Turkic T rules), not lower-casing:
 * "Straße", "STRASSE" and "STRAẞE" are one text, so are "ς", "σ" and "Σ",
 * and "ſ" and "s"; "İ" folds to "i̇" (i + combining dot) and "ı" stays itself.
 * NFKC runs again after folding, since folding can leave text that is not
 * normalised. Changing this changes stored hashes: see CONTENT_HASH_RULE.
 */
export function normalizeContent(content: string): string {
  // For ASCII text NFKC changes nothing and full case folding is lower-casing: the common case, 10× cheaper.
  if (!NON_ASCII.test(content)) return content.toLowerCase().trim().replace(/\s+/gu, ' ');
  return caseFold(content.normalize('NFKC')).normalize('NFKC').trim().replace(/\s+/gu, ' ');
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Names the rule behind `content_hash`, recorded in the database's meta table;
 * a database whose hashes were made by an older rule is rehashed once at open
 * (src/store/migrate.ts).
 */
export const CONTENT_HASH_RULE = 'nfkc-fullcasefold-nfkc-trim-space-sha256';

export function contentHash(content: string): string {
  return createHash('sha256').update(normalizeContent(content)).digest('hex');
}

const MAX_METADATA_TEXT = 200;

/**
 * What the full-text index sees: the title, the content, and short string
 * values of the metadata (a date, a place, a speaker): words an agent searches
 * by that are often not in the content itself.
 */
export function searchText(content: string, title: string | null, metadata: Record<string, unknown>): string {
  const parts: string[] = [];
  if (title) parts.push(title);
  parts.push(content);
  for (const value of Object.values(metadata)) {
    if (typeof value === 'string' && value.length <= MAX_METADATA_TEXT) parts.push(value);
  }
  return parts.join('\n');
}

/**
 * What a memory's vector embeds: the same text the full-text index sees, so a
 * date or place in the metadata counts in vector search too. Every writer
 * (remember, update, import, reembed) embeds this, so vectors never depend on
 * how a memory got into the database.
 */
export function embeddingText(m: { content: string; title: string | null; metadata: Record<string, unknown> }): string {
  return searchText(m.content, m.title, m.metadata);
}
