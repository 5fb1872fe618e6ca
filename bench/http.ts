/**
 * Speed of memlane over MCP Streamable HTTP: a real `memlane serve --http`
 * process, real SDK clients (StreamableHTTPClientTransport), each with its
 * own session token, 5 agents. At 1, 10 and 50 concurrent clients, every
 * client loops for a while over a mixed workload (half batch_remember of one
 * memory, half batch_search of one hybrid query), one call at a time.
 * Reports requests/s (tool calls) and per-call latency percentiles.
 * Usage: npm run bench:http [-- --seconds 10 --seed 1000 --levels 1,10,50]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { machine } from './machine.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const AGENTS = ['ann', 'ben', 'cat', 'dan', 'eve'];
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu deploy build test release server client cache index query memory agent session vector token'.split(' ');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

let seed = 7;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const sentence = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'memlane-bench-http', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<void> {
  const res = await client.callTool({ name, arguments: args });
  if (res.isError) throw new Error(JSON.stringify(res.content));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '10' }, seed: { type: 'string', default: '1000' }, levels: { type: 'string', default: '1,10,50' } },
  });
  const seconds = Number(values.seconds);
  const seedCount = Number(values.seed);
  const levels = values.levels.split(',').map(Number);
  const maxClients = Math.max(...levels);

  const dir = mkdtempSync(join(tmpdir(), 'memlane-bench-http-'));
  const env = { ...process.env, MEMLANE_DB: dir, MEMLANE_LOG_LEVEL: 'warn', LANCEDB_LOG: 'error' };
  // Tokens are minted before the server starts: it reads sessions from the database on every request.
  const app = await openApp(loadConfig(env), { maintenance: false });
  const tokens: string[] = [];
  for (let i = 0; i < maxClients; i++) tokens.push((await app.sessions.create(AGENTS[i % AGENTS.length]!)).token);
  await app.close();

  const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`memlane exited (${code}): ${stderr}`)));
  });

  const lines = [`memlane HTTP bench — ${machine()}`, `server: memlane serve --http (its own process), ${seconds} s per level, mixed remember/search`, ''];
  try {
    const clients = await Promise.all(tokens.map((t) => connect(url, t)));
    // Something to search: seedCount memories per agent, 100 per call.
    for (const [a] of AGENTS.entries()) {
      for (let i = 0; i < seedCount; i += 100) {
        await call(clients[a]!, 'batch_remember', {
          memories: Array.from({ length: Math.min(100, seedCount - i) }, (_, j) => ({ content: `${i + j}: ${sentence(12)}` })),
        });
      }
    }
    lines.push(`seeded ${seedCount} memories per agent (${AGENTS.length} agents)`, '');
    lines.push('| clients | calls/s | p50 ms | p99 ms | remember p50 / p99 ms | search p50 / p99 ms |', '|---|---|---|---|---|---|');

    for (const level of levels) {
      const all: number[] = [];
      const byTool: Record<string, number[]> = { batch_remember: [], batch_search: [] };
      const end = performance.now() + seconds * 1000;
      const started = performance.now();
      await Promise.all(
        clients.slice(0, level).map(async (client, i) => {
          for (let n = 0; performance.now() < end; n++) {
            const remember = (n + i) % 2 === 0;
            const name = remember ? 'batch_remember' : 'batch_search';
            const args = remember ? { memories: [{ content: sentence(12) }] } : { queries: [{ query: sentence(4), limit: 10 }] };
            const t = performance.now();
            await call(client, name, args);
            const ms = performance.now() - t;
            all.push(ms);
            byTool[name]!.push(ms);
          }
        }),
      );
      const wall = (performance.now() - started) / 1000;
      const r = byTool.batch_remember!;
      const s = byTool.batch_search!;
      lines.push(
        `| ${level} | ${(all.length / wall).toFixed(1)} | ${pct(all, 50).toFixed(1)} | ${pct(all, 99).toFixed(1)} | ` +
          `${pct(r, 50).toFixed(1)} / ${pct(r, 99).toFixed(1)} | ${pct(s, 50).toFixed(1)} / ${pct(s, 99).toFixed(1)} |`,
      );
    }
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
