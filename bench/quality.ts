/**
 * Search quality on LoCoMo (real long conversations): every conversation's
 * turns are stored as memories of one agent through MCP `batch_remember`, every
 * question goes through MCP `batch_search`, and recall@1/5/10 is printed for
 * `text`, `vector` and `hybrid`, beside a plain BM25 floor computed here.
 *
 * The data is read from ../shared/data (CC BY-NC 4.0: never copied into this
 * repository). Usage: npm run bench:quality [-- --data FILE] [--conversations N] [--per-session] [--json]
 * [--embedder local,transformers,openai] (default local, and openai when OPENAI_API_KEY or
 * OPENAI_BASE_URL is set). transformers uses MEMLANE_MODEL_DIR, or else the test model that
 * `npm run model:test` installs outside the repository.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type App, openApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ENGLISH_STOP_WORDS } from '../src/embed/stopwords.js';
import { createServer } from '../src/server.js';
import { machine } from './machine.js';

export interface Turn {
  id: string;
  speaker: string;
  session: number;
  session_date: string;
  text: string;
  image_caption?: string;
}
export interface Query {
  qid: string;
  question: string;
  evidence: string[];
  category: number;
}
export interface Conversation {
  conv_id: string;
  turns: Turn[];
  queries: Query[];
}

export type Mode = 'text' | 'vector' | 'hybrid';
const K = [1, 5, 10] as const;

export interface Recall {
  queries: number;
  hit: Record<(typeof K)[number], number>;
  all: Record<(typeof K)[number], number>;
}

export interface QualityReport {
  embedder: string;
  conversations: string[];
  bm25: Recall;
  modes: Record<Mode, Recall>;
  perConversation: Record<string, Record<Mode | 'bm25', Recall>>;
  ingestMs: number;
  queryMs: Record<Mode, number>;
}

/** `<repository>/../shared/data/locomo-dev.jsonl`, from bench/ (tsx, vitest) or dist/bench/ (npm run). */
export const DEFAULT_DATA = join(repositoryRoot(), '..', 'shared', 'data', 'locomo-dev.jsonl');

export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function loadConversations(file: string, limit?: number): Conversation[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const all = lines.map((l) => JSON.parse(l) as Conversation);
  return limit === undefined ? all : all.slice(0, limit);
}

/** What an agent would store for a turn: who said it and what, with the shared image described. */
export const contentOf = (t: Turn): string => `${t.speaker}: ${t.text}${t.image_caption ? ` [image: ${t.image_caption}]` : ''}`;

/** Ranks, scores and averages one method's answers (lists of turn ids, best first). */
export class Scorer {
  private hits = { 1: 0, 5: 0, 10: 0 };
  private alls = { 1: 0, 5: 0, 10: 0 };
  private n = 0;
  add(evidence: string[], ranked: string[]): void {
    const unique = [...new Set(ranked)];
    const e = new Set(evidence);
    for (const k of K) {
      const top = unique.slice(0, k).filter((id) => e.has(id)).length;
      this.hits[k] += top > 0 ? 1 : 0;
      this.alls[k] += top / e.size;
    }
    this.n++;
  }
  merge(other: Scorer): void {
    for (const k of K) {
      this.hits[k] += other.hits[k];
      this.alls[k] += other.alls[k];
    }
    this.n += other.n;
  }
  result(): Recall {
    const pct = (x: number) => Math.round((1000 * x) / Math.max(1, this.n)) / 10;
    return {
      queries: this.n,
      hit: { 1: pct(this.hits[1]), 5: pct(this.hits[5]), 10: pct(this.hits[10]) },
      all: { 1: pct(this.alls[1]), 5: pct(this.alls[5]), 10: pct(this.alls[10]) },
    };
  }
}

/** The floor: plain BM25 (k1 1.2, b 0.75) over the same turns, English stop words removed. */
export function bm25Rank(turns: Turn[], question: string, limit = 10): string[] {
  const tok = (s: string) => (s.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !ENGLISH_STOP_WORDS.has(w));
  const docs = turns.map((t) => tok(contentOf(t)));
  const avg = docs.reduce((a, d) => a + d.length, 0) / docs.length;
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const q = [...new Set(tok(question))];
  const scored = docs.map((d, i) => {
    const tf = new Map<string, number>();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    let s = 0;
    for (const w of q) {
      const n = df.get(w);
      const f = tf.get(w);
      if (!n || !f) continue;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      s += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.length) / avg));
    }
    return { id: turns[i]!.id, s };
  });
  return scored
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s)
    .slice(0, limit)
    .map((x) => x.id);
}

export interface QualityOptions {
  data?: string;
  conversations?: number;
  modes?: Mode[];
  env?: Record<string, string>;
  /**
   * false (default): a conversation is one memlane session, 100 turns per call, as the
   * issue describes. true: each conversation session is its own memlane session (what an
   * app that starts memlane each day does), ≤ 100 turns per call.
   */
  perSession?: boolean;
  log?: (line: string) => void;
}

export type Call = (name: string, args: Record<string, unknown>) => Promise<{ results: Array<Record<string, any>> }>;

/** The agent a conversation is stored as. */
export const agentOf = (conv: Conversation): string => conv.conv_id.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * Stores a conversation the way an agent does: turns in order, `speaker: text` as
 * content, the date in metadata, at most 100 per batch_remember; one memlane
 * session for the conversation, or (perSession) one per conversation session.
 */
export async function storeConversation(app: App, call: Call, conv: Conversation, perSession: boolean): Promise<void> {
  const agent = agentOf(conv);
  const bySession = new Map<number, Turn[]>();
  for (const t of conv.turns) {
    const key = perSession ? t.session : 0;
    bySession.set(key, [...(bySession.get(key) ?? []), t]);
  }
  for (const turns of bySession.values()) {
    const { token } = await app.sessions.create(agent, { origin: 'bench' });
    for (let i = 0; i < turns.length; i += 100) {
      const memories = turns.slice(i, i + 100).map((t) => ({ id: t.id, content: contentOf(t), type: 'episodic', metadata: { date: t.session_date, speaker: t.speaker } }));
      const res = await call('batch_remember', { memories, session_token: token, options: { dedupe: false } });
      const bad = res.results.filter((r) => r.status !== 'ok');
      if (bad.length) throw new Error(`ingest failed: ${JSON.stringify(bad[0])}`);
    }
  }
}

/** Runs the whole benchmark in-process: a real memlane behind a real MCP client. */
export async function runQualityBench(opts: QualityOptions = {}): Promise<QualityReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const convs = loadConversations(opts.data ?? DEFAULT_DATA, opts.conversations);
  const modes = opts.modes ?? ['text', 'vector', 'hybrid'];
  const dir = mkdtempSync(join(tmpdir(), 'memlane-quality-'));
  const app = await openApp(loadConfig({ ...process.env, MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...opts.env }), { maintenance: false });
  const server = createServer(app, {});
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  const client = new Client({ name: 'memlane-bench', version: '1' });
  await client.connect(c);

  const call = callerOf(client);

  const total = { bm25: new Scorer(), text: new Scorer(), vector: new Scorer(), hybrid: new Scorer() };
  const perConversation: QualityReport['perConversation'] = {};
  const queryMs = { text: 0, vector: 0, hybrid: 0 };
  let ingestMs = 0;
  try {
    for (const conv of convs) {
      const agent = agentOf(conv);
      const t0 = performance.now();
      await storeConversation(app, call, conv, opts.perSession ?? false);
      // What the background maintainer does after a burst of writes, done at
      // once so that query times reflect a maintained database.
      await app.maintainer.compactAll();
      ingestMs += performance.now() - t0;
      const { token } = await app.sessions.create(agent, { origin: 'bench' });

      const local = { bm25: new Scorer(), text: new Scorer(), vector: new Scorer(), hybrid: new Scorer() };
      for (const q of conv.queries) local.bm25.add(q.evidence, bm25Rank(conv.turns, q.question));
      for (const mode of modes) {
        const t1 = performance.now();
        for (let i = 0; i < conv.queries.length; i += 100) {
          const chunk = conv.queries.slice(i, i + 100);
          const res = await call('batch_search', { queries: chunk.map((q) => ({ query: q.question, limit: 10, mode })), session_token: token });
          res.results.forEach((r, j) => local[mode].add(chunk[j]!.evidence, (r.results ?? []).map((h: { id: string }) => h.id)));
        }
        queryMs[mode] += performance.now() - t1;
      }
      perConversation[conv.conv_id] = {
        bm25: local.bm25.result(),
        text: local.text.result(),
        vector: local.vector.result(),
        hybrid: local.hybrid.result(),
      };
      for (const k of ['bm25', ...modes] as const) total[k].merge(local[k]);
      log(`${conv.conv_id}: ${conv.turns.length} turns, ${conv.queries.length} queries done`);
    }
  } finally {
    await client.close();
    await server.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    embedder: `${app.embedder.provider}/${app.embedder.model} (${app.embedder.dim})`,
    conversations: convs.map((c) => c.conv_id),
    bm25: total.bm25.result(),
    modes: { text: total.text.result(), vector: total.vector.result(), hybrid: total.hybrid.result() },
    perConversation,
    ingestMs,
    queryMs,
  };
}

/** Calls a tool and returns its structuredContent; a whole-call failure throws. */
export const callerOf =
  (client: Client): Call =>
  async (name, args) => {
    const res = await client.callTool({ name, arguments: args });
    if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`);
    return res.structuredContent as { results: Array<Record<string, any>> };
  };

export function formatReport(r: QualityReport, modes: Mode[]): string {
  const row = (name: string, x: Recall) =>
    `| ${name.padEnd(22)} | ${x.hit[1].toFixed(1)} | ${x.hit[5].toFixed(1)} | ${x.hit[10].toFixed(1)} | ${x.all[1].toFixed(1)} | ${x.all[5].toFixed(1)} | ${x.all[10].toFixed(1)} |`;
  const lines = [
    `embedder ${r.embedder}; ${r.conversations.length} conversation(s), ${r.bm25.queries} queries; ${machine()}`,
    '',
    '| method                 | hit@1 | hit@5 | hit@10 | all@1 | all@5 | all@10 |',
    '|---|---|---|---|---|---|---|',
    row('BM25 floor (script)', r.bm25),
    ...modes.map((m) => row(`memlane ${m}`, r.modes[m])),
    '',
    'per conversation (hit@1 / hit@5 / hit@10):',
    ...Object.entries(r.perConversation).map(
      ([id, v]) => `  ${id}: ` + (['bm25', ...modes] as const).map((m) => `${m} ${v[m].hit[1]}/${v[m].hit[5]}/${v[m].hit[10]}`).join('  '),
    ),
    '',
    `ingest ${Math.round(r.ingestMs)} ms; query time per mode: ${modes.map((m) => `${m} ${Math.round(r.queryMs[m])} ms (${(r.queryMs[m] / r.bm25.queries).toFixed(1)} ms/query)`).join(', ')}`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      conversations: { type: 'string' },
      'per-session': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      embedder: { type: 'string' },
    },
  });
  const modes: Mode[] = ['text', 'vector', 'hybrid'];
  const remote = process.env.OPENAI_API_KEY || process.env.OPENAI_BASE_URL;
  const labels = values.embedder?.split(',').map((s) => s.trim()) ?? (remote ? ['local', 'openai'] : ['local']);
  const runs = labels.map((label): { label: string; env: Record<string, string> } => {
    if (label === 'local' || label === 'openai') return { label, env: { MEMLANE_EMBEDDER: label } };
    if (label === 'transformers') return { label, env: { MEMLANE_EMBEDDER: label, MEMLANE_MODEL_DIR: testModelDir() } };
    throw new Error(`--embedder ${label}: expected local, transformers or openai`);
  });
  for (const run of runs) {
    const report = await runQualityBench({
      ...(values.data !== undefined && { data: values.data }),
      ...(values.conversations !== undefined && { conversations: Number(values.conversations) }),
      modes,
      env: run.env,
      perSession: values['per-session'],
    });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `\n## ${run.label}\n${formatReport(report, modes)}\n`);
  }
}

/** MEMLANE_MODEL_DIR, or the folder `npm run model:test` installs (and prints). */
export function testModelDir(): string {
  if (process.env.MEMLANE_MODEL_DIR) return process.env.MEMLANE_MODEL_DIR;
  const script = join(repositoryRoot(), 'scripts', 'test-model.py');
  return execFileSync('python3', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.LANCEDB_LOG ??= 'error';
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
