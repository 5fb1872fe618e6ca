/**
 * Speed of memlane through the real MCP client (issue 9), at several sizes of a
 * seeded corpus with known targets, so hit@10 is measured next to speed.
 * stdio by default (the built server as a child process), in-process with
 * --inproc; --peers adds the official server-memory and raw LanceDB on the
 * same corpus and queries, and the ratios between them. Prints one JSON line
 * per case on stdout as it is measured, then a table; progress goes to stderr.
 * bench/README.md says what every option and column means.
 *
 * Usage: npm run bench [-- --sizes 1000,10000 --peers --inproc --large --out FILE]
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, machineInfo } from './machine.js';
import type { Case, Mode, System, Transport, Workload } from './speed/cases.js';
import { querySets } from './speed/corpus.js';
import { benchMemlane } from './speed/memlane.js';
import { PEER_PACKAGE, benchPeer } from './speed/peer.js';
import { benchRaw } from './speed/raw.js';
import { ratios, table } from './speed/report.js';
import { benchStores, type StoreCase, type StoreName, STORES, storeTable } from './speed/store.js';

const USAGE = `npm run bench -- [options]
  --sizes 1000,10000,100000  memory counts to run (default; --peers adds 50000)
  --large                    add 1,000,000
  --inproc                   memlane in this process (InMemoryTransport) instead of stdio
  --peers                    also server-memory (at sizes up to --peer-max) and raw LanceDB
  --peer-max 50000           largest size server-memory runs at
  --queries 200              single-query batch_search calls per mode
  --batched 20               batched calls per mode, of --per-call queries each
  --per-call 10              queries per batched call
  --fresh 50                 single-query hybrid calls right after the ingest (0: none)
  --warmup 3                 unmeasured calls before each measured series
  --updates 1000             memories changed with batch_update
  --deletes 1000             memories removed with batch_delete (at most half of N)
  --gets 20                  batch_get calls of 100 ids
  --startups 3               starts on the existing database (median reported)
  --modes vector,text,hybrid search modes
  --batch 100                items per write call
  --seed 42                  corpus and query seed
  --out FILE                 also append the JSON lines to FILE
  --keep                     keep the temporary databases (their paths go to stderr)
  --store local,s3,s3+ddb    instead: what object storage costs (batch_remember of 100, batch_search,
                             batch_get, the writer lock) on each store, s3 on a moto server it starts
  --store-n 10000            memories seeded for --store
  --store-calls 30           measured calls per operation for --store
`;

/** The repository root: the nearest package.json named memlane above this file (bench/ from source, dist/bench/ built). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'memlane') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the memlane package.json above bench/speed');
    dir = up;
  }
}

/** A mistake in the command line: reported with the usage, without a stack. */
class UsageError extends Error {}

const count = (s: string, name: string, min = 0): number => {
  const n = Number(s.replace(/_/gu, ''));
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${s}"`);
  return n;
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      large: { type: 'boolean', default: false },
      inproc: { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
      'peer-max': { type: 'string', default: '50000' },
      queries: { type: 'string', default: '200' },
      batched: { type: 'string', default: '20' },
      'per-call': { type: 'string', default: '10' },
      fresh: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '3' },
      updates: { type: 'string', default: '1000' },
      deletes: { type: 'string', default: '1000' },
      gets: { type: 'string', default: '20' },
      startups: { type: 'string', default: '3' },
      modes: { type: 'string', default: 'vector,text,hybrid' },
      batch: { type: 'string', default: '100' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      store: { type: 'string' },
      'store-n': { type: 'string', default: '10000' },
      'store-calls': { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const sizes = values.sizes
    ? values.sizes.split(',').map((s) => count(s.trim(), 'sizes', 1))
    : [1_000, 10_000, 100_000, ...(values.peers ? [50_000] : [])];
  if (values.large) sizes.push(1_000_000);
  const uniqueSizes = [...new Set(sizes)].sort((a, b) => a - b);
  const modes = values.modes.split(',').map((m) => m.trim()) as Mode[];
  for (const m of modes) if (!['vector', 'text', 'hybrid'].includes(m)) throw new UsageError(`--modes: unknown mode "${m}"`);
  const batch = count(values.batch, 'batch', 1);
  if (batch > 500) throw new UsageError('--batch is at most 500 (MEMLANE_MAX_BATCH)');
  const perCall = count(values['per-call'], 'per-call', 1);
  const seed = count(values.seed, 'seed');
  const peerMax = count(values['peer-max'], 'peer-max');
  const transport: Transport = values.inproc ? 'inproc' : 'stdio';

  const root = repoRoot();
  if (values.store !== undefined) {
    const stores = values.store.split(',').map((s) => s.trim()) as StoreName[];
    for (const s of stores) if (!STORES.includes(s)) throw new UsageError(`--store: unknown store "${s}" (local, s3, s3+ddb)`);
    const run = new Date().toISOString();
    const cases: StoreCase[] = [];
    const info = machineInfo([]);
    const line = (obj: object) => {
      const text = JSON.stringify({ bench: 'memlane-store', run, ...obj });
      process.stdout.write(`${text}\n`);
      if (values.out) appendFileSync(values.out, `${text}\n`);
    };
    line({ case: 'machine', ...info });
    await benchStores(
      { stores, n: count(values['store-n'], 'store-n', 100), calls: count(values['store-calls'], 'store-calls', 1), seed: count(values.seed, 'seed'), root },
      (c) => {
        cases.push(c);
        line(c);
      },
      (s) => process.stderr.write(`${s}\n`),
    );
    process.stdout.write(`\n${storeTable(cases)}\n`);
    return 0;
  }
  const cli = join(root, 'dist', 'src', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);

  const run = new Date().toISOString();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const write = (obj: object) => {
    const line = JSON.stringify({ bench: 'memlane-speed', run, ...obj });
    process.stdout.write(`${line}\n`);
    if (values.out) appendFileSync(values.out, `${line}\n`);
  };
  if (values.out) writeFileSync(values.out, '', { flag: 'a' });
  const info = machineInfo(values.peers ? [PEER_PACKAGE] : []);
  const options = {
    sizes: uniqueSizes,
    transport,
    peers: values.peers,
    peer_max: peerMax,
    queries: count(values.queries, 'queries'),
    batched: count(values.batched, 'batched'),
    per_call: perCall,
    fresh: count(values.fresh, 'fresh'),
    warmup: count(values.warmup, 'warmup'),
    updates: count(values.updates, 'updates'),
    deletes: count(values.deletes, 'deletes'),
    gets: count(values.gets, 'gets'),
    startups: count(values.startups, 'startups', 1),
    modes,
    batch,
    seed,
  };
  write({ case: 'machine', ...info, options });

  const cases: Case[] = [];
  const emit = (c: Case) => {
    cases.push(c);
    write(c);
  };
  let failed = false;
  for (const n of uniqueSizes) {
    const [single, batchedQueries] = querySets(seed, n, [options.queries, options.batched * perCall]);
    const w: Workload = {
      seed,
      n,
      batch,
      single: single!,
      batched: chunk(batchedQueries!, perCall),
      fresh: Math.min(options.fresh, options.queries),
      warmup: options.warmup,
      updates: options.updates,
      deletes: options.deletes,
      gets: options.gets,
      startups: options.startups,
      modes,
    };
    const runs: Array<[System, Transport, () => Promise<void>]> = [
      ['memlane', transport, () => benchMemlane(w, { transport, cli, maxBatch: Math.max(100, batch), keep: values.keep }, emit, log)],
    ];
    if (values.peers && n <= peerMax) runs.push(['server-memory', 'stdio', () => benchPeer(w, { keep: values.keep }, emit, log)]);
    if (values.peers) runs.push(['lancedb-raw', 'inproc', () => benchRaw(w, { keep: values.keep }, emit, log)]);
    for (const [system, via, go] of runs) {
      try {
        await go();
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`[${system} n=${n}] failed: ${message}`);
        emit({ case: 'error', system, transport: via, n, message });
      }
    }
  }
  for (const r of ratios(cases)) emit(r);

  const pk = info.packages;
  const heading = [
    `memlane speed bench, ${run}`,
    `machine: ${machine()}; lancedb ${pk['@lancedb/lancedb']}, MCP SDK ${pk['@modelcontextprotocol/sdk']}${pk[PEER_PACKAGE] ? `, server-memory ${pk[PEER_PACKAGE]}` : ''}`,
    `memlane over ${transport}; seed ${seed}; writes ${batch} per call; ${options.queries} single-query and ${options.batched} ${perCall}-query calls per mode, limit 10`,
  ];
  process.stdout.write(`\n${table(cases, heading)}\n`);
  return failed ? 1 : 0;
}

function chunk<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

process.env.LANCEDB_LOG ??= 'error';
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
