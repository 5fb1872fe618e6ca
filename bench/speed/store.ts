/**
 * `npm run bench -- --store local,s3,s3+ddb` (issue 13): what object storage
 * costs memlane, on the same seeded corpus for each store. memlane runs in
 * this process behind a real MCP client (InMemoryTransport); s3:// and
 * s3+ddb:// go to a moto server (.emulators/venv, from .ci/emulators.sh) that
 * this bench starts on a free loopback port, so the numbers are request
 * overhead on one machine, with no network round trip.
 *
 * Per store, at --store-n memories (default 10,000) seeded 100 per call:
 * - `remember`: batch_remember of 100 new memories (p50/p95 over --store-calls);
 * - `search`: single-query hybrid batch_search at N;
 * - `get`: batch_get of one id (the per-call floor: version checks of meta,
 *   sessions and the agent's table);
 * - `lock`: taking and releasing the writer lock with nothing in between
 *   (the lease's create + conditional delete on an object store; the lock
 *   directory locally), the cost every write call pays on top.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { motoCommand, prepareMoto } from '../moto.js';
import { memoryAt, querySets } from './corpus.js';

export type StoreName = 'local' | 's3' | 's3+ddb';
export const STORES: StoreName[] = ['local', 's3', 's3+ddb'];

export interface StoreCase {
  case: 'store';
  store: StoreName;
  n: number;
  op: 'remember' | 'search' | 'get' | 'lock' | 'seed';
  calls: number;
  p50_ms: number;
  p95_ms: number;
  mean_ms: number;
}

export interface StoreOptions {
  stores: StoreName[];
  n: number;
  calls: number;
  seed: number;
  root: string;
}

export async function benchStores(opts: StoreOptions, emit: (c: StoreCase) => void, log: (s: string) => void): Promise<void> {
  const needsMoto = opts.stores.some((s) => s !== 'local');
  const moto = needsMoto ? await startMoto(opts.root) : undefined;
  try {
    for (const store of opts.stores) await benchStore(store, opts, moto?.port, emit, log);
  } finally {
    moto?.child.kill('SIGTERM');
  }
}

async function benchStore(store: StoreName, opts: StoreOptions, motoPort: number | undefined, emit: (c: StoreCase) => void, log: (s: string) => void): Promise<void> {
  const dir = store === 'local' ? mkdtempSync(join(tmpdir(), 'memlane-bench-store-')) : undefined;
  const options = motoPort === undefined ? undefined : { endpoint: `http://127.0.0.1:${motoPort}`, allow_http: 'true', aws_access_key_id: 'bench', aws_secret_access_key: 'bench', region: 'us-east-1', dynamodb_endpoint: `http://127.0.0.1:${motoPort}` };
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const uri = store === 'local' ? dir! : store === 's3' ? `s3://memlane-bench/${prefix}` : `s3+ddb://memlane-bench/${prefix}?ddbTableName=memlane-bench-commits`;
  const config = loadConfig({
    MEMLANE_DB: uri,
    MEMLANE_MAINTENANCE_INTERVAL_MS: '0',
    MEMLANE_MAX_BATCH: '100',
    ...(options && { MEMLANE_STORAGE_OPTIONS: JSON.stringify(options) }),
  });
  const app = await openApp(config, { maintenance: false });
  const token = (await app.sessions.create('bench')).token;
  const server = createServer(app, { defaultToken: token });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'memlane-bench', version: '0' });
  await client.connect(clientSide);
  const call = async (name: string, args: Record<string, unknown>) => {
    const res = await client.callTool({ name, arguments: args });
    if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content).slice(0, 300)}`);
    return res.structuredContent as { results: Array<{ id?: string; status: string }> };
  };
  const series = async (op: StoreCase['op'], calls: number, fn: (i: number) => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await fn(i);
      ms.push(performance.now() - t0);
    }
    const c = summary(store, opts.n, op, ms);
    emit(c);
    log(`[store ${store}] ${op}: p50 ${c.p50_ms} ms, p95 ${c.p95_ms} ms over ${calls} calls`);
  };
  try {
    log(`[store ${store}] seeding ${opts.n} memories into ${uri}`);
    const ids: string[] = [];
    const seedStart = performance.now();
    for (let i = 0; i < opts.n; i += 100) {
      const memories = Array.from({ length: Math.min(100, opts.n - i) }, (_, k) => {
        const m = memoryAt(opts.seed, i + k);
        return { content: m.content, type: m.type, tags: m.tags, importance: m.importance };
      });
      const out = await call('batch_remember', { memories });
      for (const r of out.results) if (r.id) ids.push(r.id);
    }
    emit({ case: 'store', store, n: opts.n, op: 'seed', calls: Math.ceil(opts.n / 100), p50_ms: 0, p95_ms: 0, mean_ms: round((performance.now() - seedStart) / Math.ceil(opts.n / 100)) });
    // Compacted first, as the background maintainer would have done at this size.
    await app.maintainer.compactAll();
    const [queries] = querySets(opts.seed, opts.n, [opts.calls]);
    await series('search', opts.calls, (i) => call('batch_search', { queries: [{ query: queries![i % queries!.length]!.query, limit: 10 }] }));
    await series('get', opts.calls, (i) => call('batch_get', { ids: [ids[(i * 7919) % ids.length]!] }));
    await series('lock', opts.calls, async () => {
      await app.db.lock.run(async () => app.db.lock.assertHeld());
      await app.db.lock.drain();
    });
    await series('remember', opts.calls, (i) =>
      call('batch_remember', {
        memories: Array.from({ length: 100 }, (_, k) => ({ content: `bench fresh memory ${i}-${k} ${randomBytes(4).toString('hex')} about the harbour` })),
      }),
    );
  } finally {
    await client.close();
    await server.close();
    await app.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function summary(store: StoreName, n: number, op: StoreCase['op'], ms: number[]): StoreCase {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { case: 'store', store, n, op, calls: ms.length, p50_ms: round(at(0.5)), p95_ms: round(at(0.95)), mean_ms: round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)) };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** moto in server mode on a free port, with the bench's bucket and DynamoDB commit table. */
async function startMoto(root: string): Promise<{ child: ChildProcess; port: number }> {
  const moto = motoCommand(root);
  if (!existsSync(moto.installed)) throw new Error(`--store s3 needs moto: run \`bash .ci/emulators.sh\` (missing ${moto.installed})`);
  const port = await new Promise<number>((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(moto.bin, moto.args('127.0.0.1', port), { stdio: 'ignore' });
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > until) throw new Error('moto did not start within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await prepareMoto(port, 'memlane-bench', 'memlane-bench-commits', 'bench');
  return { child, port };
}

/** The store table: one row per store, p50 / p95 per operation. */
export function storeTable(cases: StoreCase[]): string {
  const stores = [...new Set(cases.map((c) => c.store))];
  const cell = (s: StoreName, op: StoreCase['op']) => {
    const c = cases.find((x) => x.store === s && x.op === op);
    return c ? `${c.p50_ms} / ${c.p95_ms}` : '—';
  };
  const n = cases[0]?.n ?? 0;
  return [
    `object storage at ${n} memories (ms, p50 / p95; moto on loopback for s3)`,
    '| store | batch_remember ×100 | of which writer lock | batch_search (hybrid) | batch_get ×1 |',
    '|---|---|---|---|---|',
    ...stores.map((s) => `| ${s} | ${cell(s, 'remember')} | ${cell(s, 'lock')} | ${cell(s, 'search')} | ${cell(s, 'get')} |`),
  ].join('\n');
}
