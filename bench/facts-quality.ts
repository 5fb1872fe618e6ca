/**
 * Search quality on an assistant's ordinary memories: the fact-memory set in
 * bench/facts (written for this project: 205 short facts — preferences,
 * people, projects, places, events, instructions — in ten languages and with
 * emoji, and 191 labelled queries, 15 of them with no answer), stored as one
 * agent's memories in one session through MCP `batch_remember`, every query
 * through MCP `batch_search`.
 *
 * Reported per mode: precision@1, recall@5 and MRR over the answerable
 * queries; how many no-answer queries return anything at or above the
 * recommended `min_score`; how often a memory that holds none of the query's
 * words ranks above one that holds some ("inversions"); and the two score
 * properties the README promises (a memory holding every word scores ≥ 0.5,
 * one holding none < 0.2), counted as violations.
 *
 * `--filler N` first stores N distractor memories (the speed benchmark's
 * seeded corpus, in other sessions), to see the same numbers at size.
 *
 * Usage: npm run bench:facts [-- --filler 50000] [--embedder local|transformers] [--modes text,hybrid] [--json]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type App, openApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';
import { RECOMMENDED_MIN_SCORE } from '../src/store/search.js';
import { analyze, queryTerms } from '../src/store/replica/analyzer.js';
import { machine } from './machine.js';
import { callerOf, testModelDir, type Call } from './quality.js';
import { memoryAt } from './speed/corpus.js';

export type Mode = 'text' | 'vector' | 'hybrid';

export interface Fact {
  id: string;
  type: string;
  content: string;
}

export interface FactQuery {
  kind: string;
  lang: string;
  query: string;
  /** Ids of the facts that answer it; empty: no answer in the set. */
  relevant: string[];
}

export interface ModeReport {
  answerable: number;
  precisionAt1: number;
  recallAt5: number;
  mrr: number;
  /** No-answer queries with any hit at or above RECOMMENDED_MIN_SCORE. */
  noAnswerFalsePositives: number;
  noAnswer: number;
  /** Queries where a memory holding none of the query's words ranks above one holding some. */
  inversions: number;
  queries: number;
  /** (query, memory) pairs: every query word held but score < 0.5. */
  allWordsBelowHalf: number;
  /** (query, memory) pairs: no query word held but score ≥ 0.2. */
  noWordsAbove02: number;
  /** Lowest score of a memory holding every query word, highest of one holding none. */
  lowestAllWords: number;
  highestNoWords: number;
}

export interface FactsReport {
  embedder: string;
  memories: number;
  modes: Partial<Record<Mode, ModeReport>>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** bench/facts from bench/ (vitest) or dist/bench/ (npm run). */
export const FACTS_DIR = [join(HERE, 'facts'), join(HERE, '..', '..', 'bench', 'facts')].find((d) => existsSync(join(d, 'facts.tsv')))!;

const rows = (file: string): string[][] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));

export function loadFacts(dir = FACTS_DIR): { facts: Fact[]; queries: FactQuery[] } {
  const facts = rows(join(dir, 'facts.tsv')).map(([id, type, content]) => ({ id: id!, type: type!, content: content! }));
  const queries = rows(join(dir, 'queries.tsv')).map(([kind, lang, query, relevant]) => ({
    kind: kind!,
    lang: lang!,
    query: query!,
    relevant: relevant && relevant !== '-' ? relevant.split(',') : [],
  }));
  return { facts, queries };
}

/** Which query words a text holds, by the full-text index's own analysis. */
export function heldWords(query: string, text: string): { held: number; of: number } {
  const q = queryTerms(query);
  const t = new Set(analyze(text));
  return { held: q.filter((w) => t.has(w)).length, of: q.length };
}

export interface FactsOptions {
  facts?: Fact[];
  queries?: FactQuery[];
  filler?: number;
  modes?: Mode[];
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/** Stores the facts (and any filler) in a fresh database and measures every mode. */
export async function runFactsBench(opts: FactsOptions = {}): Promise<FactsReport> {
  const loaded = opts.facts && opts.queries ? { facts: opts.facts, queries: opts.queries } : loadFacts();
  const facts = opts.facts ?? loaded.facts;
  const queries = opts.queries ?? loaded.queries;
  const modes = opts.modes ?? ['text', 'vector', 'hybrid'];
  const dir = mkdtempSync(join(tmpdir(), 'memlane-facts-'));
  const app = await openApp(loadConfig({ ...process.env, MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...opts.env }), { maintenance: false });
  const server = createServer(app, {});
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  const client = new Client({ name: 'memlane-facts-bench', version: '1' });
  await client.connect(c);
  const call = callerOf(client);
  try {
    const agent = 'assistant';
    await storeFiller(app, call, agent, opts.filler ?? 0, opts.log);
    const { token } = await app.sessions.create(agent, { origin: 'bench' });
    const content = new Map(facts.map((f) => [f.id, f.content]));
    for (let i = 0; i < facts.length; i += 100) {
      const res = await call('batch_remember', { memories: facts.slice(i, i + 100).map((f) => ({ id: f.id, content: f.content, type: f.type })), session_token: token, options: { dedupe: false } });
      const bad = res.results.filter((r) => r.status !== 'ok');
      if (bad.length) throw new Error(`ingest failed: ${JSON.stringify(bad[0])}`);
    }
    const report: FactsReport = { embedder: `${app.embedder.provider}/${app.embedder.model}`, memories: facts.length + (opts.filler ?? 0), modes: {} };
    for (const mode of modes) {
      const m: ModeReport = {
        answerable: 0, precisionAt1: 0, recallAt5: 0, mrr: 0, noAnswerFalsePositives: 0, noAnswer: 0,
        inversions: 0, queries: 0, allWordsBelowHalf: 0, noWordsAbove02: 0, lowestAllWords: 1, highestNoWords: 0,
      };
      for (let i = 0; i < queries.length; i += 100) {
        const chunk = queries.slice(i, i + 100);
        const res = await call('batch_search', { queries: chunk.map((q) => ({ query: q.query, limit: 100, mode })), session_token: token });
        res.results.forEach((r, j) => {
          const q = chunk[j]!;
          const hits = ((r.results ?? []) as Array<{ id: string; score: number; content: string }>).map((h) => ({ ...h, text: content.get(h.id) ?? h.content }));
          score(m, q, hits, mode);
        });
      }
      const pct = (x: number, n: number) => Math.round((1000 * x) / Math.max(1, n)) / 10;
      m.precisionAt1 = pct(m.precisionAt1, m.answerable);
      m.recallAt5 = pct(m.recallAt5, m.answerable);
      m.mrr = Math.round((1000 * m.mrr) / Math.max(1, m.answerable)) / 1000;
      report.modes[mode] = m;
    }
    return report;
  } finally {
    await client.close();
    await server.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function score(m: ModeReport, q: FactQuery, hits: Array<{ id: string; score: number; text: string }>, mode: Mode): void {
  m.queries++;
  const top10 = hits.slice(0, 10);
  if (q.relevant.length === 0) {
    m.noAnswer++;
    if (top10.some((h) => h.score >= RECOMMENDED_MIN_SCORE)) m.noAnswerFalsePositives++;
  } else {
    m.answerable++;
    const relevant = new Set(q.relevant);
    if (top10[0] && relevant.has(top10[0].id)) m.precisionAt1++;
    m.recallAt5 += top10.slice(0, 5).filter((h) => relevant.has(h.id)).length / Math.min(5, relevant.size);
    const rank = top10.findIndex((h) => relevant.has(h.id));
    if (rank >= 0) m.mrr += 1 / (rank + 1);
  }
  const words = hits.map((h) => heldWords(q.query, h.text));
  let seenNone = false;
  let inverted = false;
  for (const { held } of words.slice(0, 10)) {
    if (held === 0) seenNone = true;
    else if (seenNone) inverted = true;
  }
  if (inverted) m.inversions++;
  if (mode === 'vector') return;
  for (const [i, h] of hits.entries()) {
    const { held, of } = words[i]!;
    if (of > 0 && held === of) {
      m.lowestAllWords = Math.min(m.lowestAllWords, h.score);
      if (h.score < 0.5) m.allWordsBelowHalf++;
    }
    if (held === 0) {
      m.highestNoWords = Math.max(m.highestNoWords, h.score);
      if (h.score >= 0.2) m.noWordsAbove02++;
    }
  }
}

/** Distractors in sessions of their own, 100 per call, as an agent that has been busy would have. */
async function storeFiller(app: App, call: Call, agent: string, n: number, log?: (line: string) => void): Promise<void> {
  for (let start = 0; start < n; start += 10_000) {
    const { token } = await app.sessions.create(agent, { origin: 'bench' });
    for (let i = start; i < Math.min(n, start + 10_000); i += 100) {
      const memories = [];
      for (let k = i; k < Math.min(n, i + 100); k++) {
        const f = memoryAt(7, k);
        memories.push({ content: f.content, type: f.type, tags: f.tags });
      }
      const res = await call('batch_remember', { memories, session_token: token, options: { dedupe: false } });
      if (res.results.some((r) => r.status !== 'ok')) throw new Error('filler ingest failed');
    }
    log?.(`filler: ${Math.min(n, start + 10_000)} of ${n}`);
  }
}

export function formatFacts(r: FactsReport): string {
  const lines = [
    `fact-memory set: ${r.memories} memories, embedder ${r.embedder}, recommended min_score ${RECOMMENDED_MIN_SCORE}`,
    '',
    '| mode | P@1 | R@5 | MRR | no-answer ≥ min_score | inversions | all words < 0.5 | no words ≥ 0.2 | lowest all-words | highest no-words |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [mode, m] of Object.entries(r.modes)) {
    const calib = mode === 'vector' ? '— | — | — | —' : `${m.allWordsBelowHalf} | ${m.noWordsAbove02} | ${m.lowestAllWords.toFixed(3)} | ${m.highestNoWords.toFixed(3)}`;
    lines.push(`| ${mode} | ${m.precisionAt1} | ${m.recallAt5} | ${m.mrr} | ${m.noAnswerFalsePositives} of ${m.noAnswer} | ${m.inversions} of ${m.queries} (${Math.round((1000 * m.inversions) / m.queries) / 10} %) | ${calib} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      filler: { type: 'string', default: '0' },
      embedder: { type: 'string', default: 'local' },
      modes: { type: 'string', default: 'text,vector,hybrid' },
      json: { type: 'boolean', default: false },
    },
  });
  const embedder = values.embedder!;
  const env: Record<string, string> = { MEMLANE_EMBEDDER: embedder, ...(embedder === 'transformers' && { MEMLANE_MODEL_DIR: testModelDir() }) };
  const report = await runFactsBench({ filler: Number(values.filler), modes: values.modes!.split(',') as Mode[], env, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(values.json ? `${JSON.stringify({ ...report, machine: machine() })}\n` : `${formatFacts(report)}\n\nmachine: ${JSON.stringify(machine())}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.LANCEDB_LOG ??= 'error';
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
