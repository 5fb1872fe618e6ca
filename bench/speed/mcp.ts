import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { spawn } from 'node:child_process';
import { currentRss, peakRss } from './stats.js';

/** A connected MCP client and what the bench needs to know about its server. */
export interface Connection {
  client: Client;
  /** spawn (or, in-process, open) → connected → first `tools/list` answer, in ms. */
  startupMs: number;
  /** The server's peak RSS so far, in bytes (VmHWM of the child, or of this process in-process). */
  peakRss(): number | undefined;
  /** The server's resident set now, in bytes (VmRSS). */
  rss(): number | undefined;
  /** The server's stderr so far (last 20 kB), to show when something fails. */
  stderr(): string;
  /** Idempotent: safe in a `finally` after a normal close. */
  close(): Promise<void>;
}

/** Makes a close function safe to call twice. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** A tool call's generous client-side deadline: the bench measures slowness, it must not cut it short. */
const CALL_TIMEOUT_MS = 600_000;

export async function callTool(conn: Connection, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await conn.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
  if (res.isError) {
    const text = (res.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? `[${c.type}]`).join('\n');
    throw new Error(`${name} failed as a whole: ${text}\nserver stderr (tail):\n${conn.stderr().slice(-2000)}`);
  }
  return res.structuredContent;
}

/**
 * The parent's environment without MEMLANE_* / OPENAI_* / MEMORY_FILE_PATH from the
 * developer's shell (which would change what is measured), plus `extra`.
 * MEMLANE_MALLOC_TRIM passes through: `MEMLANE_MALLOC_TRIM=0 npm run bench` is how
 * glibc's defaults are measured against memlane's allocator setting.
 */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || (k.startsWith('MEMLANE_') && k !== 'MEMLANE_MALLOC_TRIM') || k.startsWith('OPENAI_') || k === 'MEMORY_FILE_PATH') continue;
    env[k] = v;
  }
  return { ...env, LANCEDB_LOG: 'error', ...extra };
}

/** Connects the real SDK client to a server; `listTools` first, so every result is checked against its outputSchema as real clients do. */
export async function connectClient(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'memlane-speed-bench', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return client;
}

/** Spawns `node <script>` as an MCP server on stdio and connects to it. */
export async function connectStdio(script: string, env: Record<string, string>): Promise<Connection> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [script], env: childEnv(env), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-20_000);
  });
  const t0 = performance.now();
  let client: Client;
  try {
    client = await connectClient(transport);
  } catch (e) {
    await transport.close().catch(() => undefined);
    throw new Error(`connecting to ${script} failed: ${(e as Error).message}\nstderr:\n${err}`);
  }
  const startupMs = performance.now() - t0;
  const pid = transport.pid;
  return {
    client,
    startupMs,
    peakRss: () => (pid === null ? undefined : peakRss(pid)),
    rss: () => (pid === null ? undefined : currentRss(pid)),
    stderr: () => err,
    // Ends the child's stdin and waits for it to exit (the SDK escalates to signals after 2 s).
    close: once(() => client.close()),
  };
}

/** Runs `node <script> ...args` to completion; rejects on a non-zero exit. */
export function runNode(script: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: childEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`node ${script} ${args.join(' ')} exited with ${code ?? signal}:\n${err}`));
    });
  });
}
