/**
 * The embedders side by side (issue 12, point 4): for each of `local`,
 * `transformers` (and `openai` when configured), in one run on one machine:
 * - through MCP over stdio (the built server, the SDK client): ingest with
 *   `batch_remember` of 100, single-query `batch_search` p50/p95 per mode with
 *   hit@10 on known targets, start-up, the first call that needs a vector, and
 *   the server's resident set before anything was embedded and while serving;
 * - the embedder alone, in a fresh process per probe: model load from its folder,
 *   one query's embedding, stored texts per second, resident set before and after.
 * Then each embedder against the first (ratios of this run), and issue 12's
 * targets for transformers. One JSON line per case on stdout, then a table;
 * progress on stderr. bench/README.md says what each row means.
 *
 * Usage: npm run bench:embedders [-- --embedder local,transformers --n 2000 --queries 200 --loads 3 --out FILE]
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchServer, type ServerResult } from './embedders/server.js';
import type { ProbeResult } from './embedders/probe.js';
import { machine, machineInfo } from './machine.js';
import { repositoryRoot, testModelDir } from './quality.js';
import type { Mode, Workload } from './speed/cases.js';
import { querySets } from './speed/corpus.js';
import { childEnv } from './speed/mcp.js';
import { round } from './speed/stats.js';

const USAGE = `npm run bench:embedders -- [options]
  --embedder local,transformers  embedders to compare, the first is the baseline of the ratios
                                 (transformers: MEMLANE_MODEL_DIR, else the folder \`npm run model:test\` prints;
                                 openai: OPENAI_API_KEY / OPENAI_BASE_URL as the server reads them)
  --n 2000                       memories ingested through MCP
  --batch 100                    memories per batch_remember call
  --queries 200                  single-query batch_search calls per mode (and queries embedded alone)
  --modes hybrid,vector          search modes
  --passages 500                 stored texts embedded alone, --batch per call
  --loads 3                      fresh processes that load the model (median reported)
  --threads N                    MEMLANE_EMBED_THREADS for transformers (default: the server's, every core)
  --seed 42                      corpus and query seed
  --out FILE                     also append the JSON lines to FILE
  --keep                         keep the temporary databases
`;

/** Issue 12's speed targets for transformers with all-MiniLM-L6-v2 on 2 cores. */
const TARGETS = { ingest_per_s: 500, query_embed_p50_ms: 10, load_ms: 2_000, rss_added_mb: 250 } as const;

class UsageError extends Error {}

const count = (s: string, name: string, min = 0): number => {
  const n = Number(s.replace(/_/gu, ''));
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${s}"`);
  return n;
};

interface EmbedderRun {
  label: string;
  env: Record<string, string>;
  server: ServerResult;
  probe: ProbeResult;
  /** Every probe's load, the first one included. */
  loads_ms: number[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      embedder: { type: 'string', default: 'local,transformers' },
      n: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '100' },
      queries: { type: 'string', default: '200' },
      modes: { type: 'string', default: 'hybrid,vector' },
      passages: { type: 'string', default: '500' },
      loads: { type: 'string', default: '3' },
      threads: { type: 'string' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const n = count(values.n, 'n', 1);
  const batch = count(values.batch, 'batch', 1);
  if (batch > 500) throw new UsageError('--batch is at most 500 (MEMLANE_MAX_BATCH)');
  const seed = count(values.seed, 'seed');
  const queries = count(values.queries, 'queries', 1);
  const passages = count(values.passages, 'passages', 1);
  const loads = count(values.loads, 'loads', 1);
  const modes = values.modes.split(',').map((m) => m.trim()) as Mode[];
  for (const m of modes) if (!['vector', 'text', 'hybrid'].includes(m)) throw new UsageError(`--modes: unknown mode "${m}"`);
  const labels = values.embedder.split(',').map((s) => s.trim());
  const envs = labels.map((label): Record<string, string> => {
    if (label === 'local') return { MEMLANE_EMBEDDER: 'local' };
    if (label === 'transformers') {
      return { MEMLANE_EMBEDDER: 'transformers', MEMLANE_MODEL_DIR: testModelDir(), ...(values.threads !== undefined && { MEMLANE_EMBED_THREADS: String(count(values.threads, 'threads', 1)) }) };
    }
    if (label === 'openai') return { MEMLANE_EMBEDDER: 'openai', ...pick(process.env, ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'MEMLANE_EMBED_MODEL', 'MEMLANE_EMBED_DIM']) };
    throw new UsageError(`--embedder ${label}: expected local, transformers or openai`);
  });

  const root = repositoryRoot();
  const cli = join(root, 'dist', 'src', 'cli.js');
  const probeScript = join(root, 'dist', 'bench', 'embedders', 'probe.js');
  for (const f of [cli, probeScript]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);

  const run = new Date().toISOString();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const write = (obj: object) => {
    const line = JSON.stringify({ bench: 'memlane-embedders', run, ...obj });
    process.stdout.write(`${line}\n`);
    if (values.out) appendFileSync(values.out, `${line}\n`);
  };
  const info = machineInfo(['@huggingface/transformers', 'onnxruntime-node']);
  const loadBefore = loadavg().map((x) => round(x, 2));
  write({ case: 'machine', ...info, loadavg_start: loadBefore, options: { embedders: labels, n, batch, queries, modes, passages, loads, seed, threads: values.threads ?? null } });

  const [single] = querySets(seed, n, [queries]);
  const w: Workload = { seed, n, batch, single: single!, batched: [], fresh: 0, warmup: 3, updates: 0, deletes: 0, gets: 0, startups: 1, modes };
  const runs: EmbedderRun[] = [];
  for (const [i, label] of labels.entries()) {
    const env = envs[i]!;
    const tag = `[${label}]`;
    log(`${tag} the embedder alone`);
    const probe = await runProbe(probeScript, env, ['--seed', String(seed), '--n', String(n), '--queries', String(queries), '--passages', String(passages), '--batch', String(batch)]);
    write({ case: 'probe', embedder: label, ...probe });
    const loadsMs = [probe.load_ms];
    for (let k = 1; k < loads && probe.load_ms !== null; k++) {
      const again = await runProbe(probeScript, env, ['--load-only']);
      write({ case: 'probe', embedder: label, ...again });
      loadsMs.push(again.load_ms);
    }
    log(`${tag} through MCP over stdio`);
    const server = await benchServer(w, { cli, env, maxBatch: Math.max(100, batch), keep: values.keep, tag }, log);
    write({ case: 'server', embedder: label, transport: 'stdio', n, ...server });
    runs.push({ label, env, server, probe, loads_ms: loadsMs.filter((x): x is number => x !== null) });
  }
  const loadAfter = loadavg().map((x) => round(x, 2));
  write({ case: 'loadavg', end: loadAfter });

  const base = runs[0]!;
  for (const r of runs.slice(1)) for (const ratio of ratiosOf(r, base)) write({ case: 'ratio', embedder: r.label, vs: base.label, ...ratio });
  const tf = runs.find((r) => r.label === 'transformers');
  const local = runs.find((r) => r.label === 'local');
  if (tf) for (const t of targetsOf(tf, local)) write({ case: 'target', embedder: 'transformers', ...t });

  const heading = [
    `memlane embedders bench, ${run}`,
    `machine: ${machine()}; load average ${loadBefore.join(' ')} at the start, ${loadAfter.join(' ')} at the end`,
    `packages: ${Object.entries(info.packages).map(([k, v]) => `${k} ${v ?? '?'}`).join(', ')}`,
    `through MCP over stdio: ${n.toLocaleString('en-US')} memories, batch_remember of ${batch}; ${queries} single-query batch_search calls per mode after memlane compact, limit 10`,
    `the embedder alone: ${queries} queries one per call, ${passages} stored texts ${batch} per call; model load: ${loads} fresh processes`,
  ];
  process.stdout.write(`\n${table(runs, heading)}\n`);
  return 0;
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (env[k] ? [[k, env[k]!]] : [])));
}

function runProbe(script: string, env: Record<string, string>, args: string[]): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: childEnv({ ...env, MEMLANE_LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as ProbeResult);
      else reject(new Error(`the embedder probe (${env.MEMLANE_EMBEDDER}) exited with ${code}:\n${err}`));
    });
  });
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

/** The resident set a model adds: in the server, serving RSS over the baseline's; alone, after the load over before it. */
function rssAdded(r: EmbedderRun, baseline: EmbedderRun | undefined): { server: number | null; alone: number } {
  const server = baseline && r.server.rss_mb.serving !== null && baseline.server.rss_mb.serving !== null ? round(r.server.rss_mb.serving - baseline.server.rss_mb.serving, 1) : null;
  return { server, alone: round(r.probe.rss_after_mb - r.probe.rss_before_mb, 1) };
}

function ratiosOf(r: EmbedderRun, base: EmbedderRun): Array<{ metric: string; value: number; baseline: number; ratio: number }> {
  const out: Array<{ metric: string; value: number; baseline: number; ratio: number }> = [];
  const add = (metric: string, value: number | undefined, baseline: number | undefined) => {
    if (value !== undefined && baseline !== undefined && baseline > 0) out.push({ metric, value, baseline, ratio: round(value / baseline, 3) });
  };
  add('ingest_per_s', r.server.ingest.per_s, base.server.ingest.per_s);
  for (const s of r.server.search) {
    const b = base.server.search.find((x) => x.mode === s.mode);
    add(`search_${s.mode}_p50_ms`, s.call_ms.p50, b?.call_ms.p50);
    add(`search_${s.mode}_p95_ms`, s.call_ms.p95, b?.call_ms.p95);
  }
  add('query_embed_p50_ms', r.probe.query_ms?.p50, base.probe.query_ms?.p50);
  add('passages_per_s', r.probe.passages?.per_s, base.probe.passages?.per_s);
  add('serving_rss_mb', r.server.rss_mb.serving ?? undefined, base.server.rss_mb.serving ?? undefined);
  return out;
}

function targetsOf(tf: EmbedderRun, local: EmbedderRun | undefined): Array<{ target: string; want: string; got: number | null; met: boolean | null }> {
  const added = rssAdded(tf, local);
  const worstAdded = added.server === null ? added.alone : Math.max(added.server, added.alone);
  const load = median(tf.loads_ms) ?? null;
  const q = tf.probe.query_ms?.p50 ?? null;
  return [
    { target: 'ingest_per_s', want: `≥ ${TARGETS.ingest_per_s}`, got: tf.server.ingest.per_s, met: tf.server.ingest.per_s >= TARGETS.ingest_per_s },
    { target: 'query_embed_p50_ms', want: `≤ ${TARGETS.query_embed_p50_ms}`, got: q, met: q === null ? null : q <= TARGETS.query_embed_p50_ms },
    { target: 'load_ms', want: `≤ ${TARGETS.load_ms}`, got: load, met: load === null ? null : load <= TARGETS.load_ms },
    { target: 'rss_added_mb', want: `≤ ${TARGETS.rss_added_mb}`, got: worstAdded, met: worstAdded <= TARGETS.rss_added_mb },
  ];
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x >= 0.01 ? x.toFixed(2) : x.toPrecision(1)}×`;

/** One column per embedder, then each one's ratio to the first; the transformers targets below. */
function table(runs: EmbedderRun[], heading: string[]): string {
  const base = runs[0]!;
  const local = runs.find((r) => r.label === 'local');
  const rows: Array<[string, (r: EmbedderRun) => string, ((r: EmbedderRun) => number | undefined)?]> = [
    ['model', (r) => `${r.probe.provider}/${r.probe.model} (${r.probe.dim})`],
    ['ingest through MCP, memories/s (call p50 ms)', (r) => `${int(r.server.ingest.per_s)} (${ms(r.server.ingest.call_ms.p50)})${r.server.ingest.errors ? ` ${r.server.ingest.errors} errors` : ''}`, (r) => r.server.ingest.per_s],
    ...base.server.search.map((b): [string, (r: EmbedderRun) => string, (r: EmbedderRun) => number | undefined] => [
      `batch_search ${b.mode} ×1, p50 / p95 ms`,
      (r) => {
        const s = r.server.search.find((x) => x.mode === b.mode);
        return s ? `${ms(s.call_ms.p50)} / ${ms(s.call_ms.p95)}${s.errors ? ` (${s.errors} errors)` : ''}` : '—';
      },
      (r) => r.server.search.find((x) => x.mode === b.mode)?.call_ms.p50,
    ]),
    ...base.server.search.map((b): [string, (r: EmbedderRun) => string] => [
      `hit@10 ${b.mode}: phrase / keyword`,
      (r) => {
        const s = r.server.search.find((x) => x.mode === b.mode);
        return s ? `${s.hit10.phrase.toFixed(3)} / ${s.hit10.keyword.toFixed(3)}` : '—';
      },
    ]),
    ['query embedding alone, p50 / p95 ms', (r) => (r.probe.query_ms ? `${ms(r.probe.query_ms.p50)} / ${ms(r.probe.query_ms.p95)}` : '—'), (r) => r.probe.query_ms?.p50],
    ['stored texts embedded alone, /s (batches)', (r) => (r.probe.passages ? int(r.probe.passages.per_s) : '—'), (r) => r.probe.passages?.per_s],
    ['model load from its folder, ms median (min–max)', (r) => (r.loads_ms.length === 0 ? 'nothing to load' : `${ms(median(r.loads_ms)!)} (${ms(Math.min(...r.loads_ms))}–${ms(Math.max(...r.loads_ms))})`)],
    ['first vector call after start: empty / ingested db, ms', (r) => `${ms(r.server.first_vector_call_ms.empty)} / ${ms(r.server.first_vector_call_ms.ingested)}`],
    ['startup → first tools/list: empty / ingested db, ms', (r) => `${ms(r.server.startup_ms.empty)} / ${ms(r.server.startup_ms.ingested)}`],
    ['server RSS MiB: idle (nothing embedded) / serving / peak', (r) => `${r.server.rss_mb.idle ?? '?'} / ${r.server.rss_mb.serving ?? '?'} / ${r.server.rss_mb.peak ?? '?'}`, (r) => r.server.rss_mb.serving ?? undefined],
    ['embedder alone, RSS MiB: before / after the model', (r) => `${r.probe.rss_before_mb} / ${r.probe.rss_after_mb}`],
    ['RSS the embedder adds, MiB: server (vs local) / alone', (r) => {
      const a = rssAdded(r, local === r ? undefined : local);
      return `${a.server === null ? '—' : a.server} / ${a.alone}`;
    }],
  ];
  const header = ['', ...runs.map((r) => r.label), ...runs.slice(1).map((r) => `${r.label}/${base.label}`)];
  const body = rows.map(([label, cell, num]) => [
    label,
    ...runs.map(cell),
    ...runs.slice(1).map((r) => {
      const a = num?.(r);
      const b = num?.(base);
      return a !== undefined && b !== undefined && b > 0 ? times(a / b) : '';
    }),
  ]);
  const out = [...heading, '', render([header, ...body])];
  const tf = runs.find((r) => r.label === 'transformers');
  if (tf) {
    out.push('', 'issue 12 targets (transformers, all-MiniLM-L6-v2, 2 cores):');
    for (const t of targetsOf(tf, local)) {
      const verdict = t.met === null ? 'not measured' : t.met ? 'met' : `missed (${missedBy(t.target, t.got!)})`;
      out.push(`  ${t.target.padEnd(20)} ${t.want.padEnd(7)} got ${t.got === null ? '—' : t.got}: ${verdict}`);
    }
  }
  return out.join('\n');
}

function missedBy(target: string, got: number): string {
  const want = TARGETS[target as keyof typeof TARGETS];
  if (target === 'ingest_per_s') return `${times(want / got)} too slow`;
  return got >= 2 * want ? `${times(got / want)} the target` : `${Math.round((got / want - 1) * 100)}% over`;
}

function render(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (ri === 0 ? `\n${widths.map((x) => '-'.repeat(x)).join('  ')}` : ''))
    .join('\n');
}

process.env.LANCEDB_LOG ??= 'error';
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bench:embedders: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
