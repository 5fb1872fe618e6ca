/**
 * Speed of the batch tools through MCP (InMemoryTransport, real LanceDB on
 * disk): remember throughput, search and get latency percentiles, peak memory.
 * Usage: npm run bench [-- --memories 10000 --batch 100 --queries 300]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';
import { machine } from './machine.js';

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu deploy build test release server client cache index query memory agent session vector token'.split(' ');

function sentence(rand: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p90 ${pct(xs, 90).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { memories: { type: 'string', default: '10000' }, batch: { type: 'string', default: '100' }, queries: { type: 'string', default: '300' } },
  });
  const total = Number(values.memories);
  const batch = Number(values.batch);
  const queries = Number(values.queries);
  const rand = mulberry32(42);
  let peakRss = process.memoryUsage().rss;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

  const dir = mkdtempSync(join(tmpdir(), 'memlane-speed-'));
  const app = await openApp(loadConfig({ ...process.env, MEMLANE_DB: dir, MEMLANE_MAX_BATCH: '500' }), { maintenance: false });
  const token = (await app.sessions.create('bench')).token;
  const server = createServer(app, { defaultToken: token });
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  const client = new Client({ name: 'memlane-speed', version: '1' });
  await client.connect(c);
  const call = async (name: string, args: Record<string, unknown>) => {
    const res = await client.callTool({ name, arguments: args });
    if (res.isError) throw new Error(JSON.stringify(res.content));
    return res.structuredContent as { results: Array<{ id?: string; status: string }> };
  };

  const lines = [`memlane speed bench — ${machine()}`, `${total} memories in batches of ${batch}, ${queries} queries per mode`, ''];
  const rememberMs: number[] = [];
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) {
    const memories = Array.from({ length: Math.min(batch, total - i) }, (_, j) => ({
      content: `${i + j}: ${sentence(rand, 12)}`,
      tags: [WORDS[(i + j) % WORDS.length]!],
      metadata: { team: `team-${(i + j) % 20}`, n: i + j },
    }));
    const t = performance.now();
    const res = await call('batch_remember', { memories });
    rememberMs.push(performance.now() - t);
    for (const r of res.results) if (r.id) ids.push(r.id);
  }
  const rememberSec = (performance.now() - t0) / 1000;
  lines.push(`batch_remember: ${(total / rememberSec).toFixed(0)} memories/s; per call ${fmt(rememberMs)}`);

  const tc = performance.now();
  await app.maintainer.compactAll();
  lines.push(`compact (what the background maintainer does): ${((performance.now() - tc) / 1000).toFixed(1)} s`);

  for (const mode of ['text', 'vector', 'hybrid'] as const) {
    const ms: number[] = [];
    for (let q = 0; q < queries; q++) {
      const t = performance.now();
      await call('batch_search', { queries: [{ query: sentence(rand, 4), mode, limit: 10 }] });
      ms.push(performance.now() - t);
    }
    lines.push(`batch_search ${mode.padEnd(6)} (1 query/call): ${fmt(ms)}`);
  }
  // Filters: tags are a LanceDB list predicate; metadata is a LIKE pre-filter on the JSON
  // text plus an exact top-level check (src/store/filter.ts), each 5% selective here.
  for (const [label, filter] of [
    ['tags_any', { tags_any: ['delta'] }],
    ['metadata', { metadata: { team: 'team-7' } }],
  ] as const) {
    const ms: number[] = [];
    let returned = 0;
    for (let q = 0; q < queries; q++) {
      const t = performance.now();
      const res = (await call('batch_search', { queries: [{ query: sentence(rand, 4), limit: 10, filter }] })) as unknown as { results: Array<{ total: number }> };
      ms.push(performance.now() - t);
      returned += res.results[0]!.total;
    }
    lines.push(`batch_search hybrid + ${label.padEnd(8)} filter: ${fmt(ms)}; ${(returned / queries).toFixed(1)} of limit 10 returned on average`);
  }

  const batched: number[] = [];
  for (let q = 0; q < 20; q++) {
    const t = performance.now();
    await call('batch_search', { queries: Array.from({ length: 20 }, () => ({ query: sentence(rand, 4), limit: 10 })) });
    batched.push(performance.now() - t);
  }
  lines.push(`batch_search hybrid (20 queries/call): ${fmt(batched)}; ${((20 * 1000) / pct(batched, 50)).toFixed(0)} queries/s at p50`);

  const getMs: number[] = [];
  for (let q = 0; q < 50; q++) {
    const pick = Array.from({ length: 100 }, () => ids[Math.floor(rand() * ids.length)]!);
    const t = performance.now();
    await call('batch_get', { ids: [...new Set(pick)] });
    getMs.push(performance.now() - t);
  }
  lines.push(`batch_get (≤100 ids/call): ${fmt(getMs)}`);

  clearInterval(sample);
  lines.push(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  process.stdout.write(`${lines.join('\n')}\n`);
  await client.close();
  await server.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

process.env.LANCEDB_LOG ??= 'error';
main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
