/**
 * Helpers for end-to-end tests that run the BUILT memlane (dist/src/cli.js)
 * as a real, separate process. Every child and temp dir made here is tracked
 * so `cleanup()` (call it in afterEach) kills and removes them even when a
 * test failed half-way.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');
export const PKG_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const TOOL_NAMES = ['batch_delete', 'batch_get', 'batch_remember', 'batch_search', 'batch_update'];
export const TOKEN_RE = /^mlt_[A-Za-z0-9_-]{43}$/;
export const SESSION_ID_RE = /ses_[0-9a-f]{16}/;

/** Fails fast, with a clear message, when dist/ was not built. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\` (or npm test) first`);
}

// ---------------------------------------------------------------- bookkeeping

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const closers = new Set<() => Promise<void>>();

export function tempDir(prefix = 'memlane-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Kills every child still running (SIGKILL), closes clients, removes temp dirs. */
export async function cleanup(): Promise<void> {
  for (const close of [...closers]) {
    closers.delete(close);
    await close().catch(() => undefined);
  }
  const waits: Promise<unknown>[] = [];
  for (const child of [...children]) {
    if (alive(child)) {
      waits.push(new Promise((resolve) => child.once('exit', resolve)));
      child.kill('SIGKILL');
    }
  }
  await Promise.race([Promise.all(waits), sleep(5_000)]);
  children.clear();
  for (const dir of [...dirs]) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Environment for a child: the parent's, minus any MEMLANE_* / OPENAI_* that
 * would leak in from the developer's shell, plus quiet Lance logs, info-level
 * memlane logs (on stderr) and `extra`.
 */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('MEMLANE_') || k.startsWith('OPENAI_')) continue;
    env[k] = v;
  }
  return { ...env, LANCEDB_LOG: 'error', MEMLANE_LOG_LEVEL: 'info', ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the child exited. */
  at: number;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (!alive(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode, at: Date.now() });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
}

/** Resolves with the exit, or rejects after `ms` (the child is left for cleanup() to kill). */
export async function exitWithin(exit: Promise<Exit>, ms: number, what = 'child'): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      exit,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not exit within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------- MCP client over stdio

export interface McpChild {
  client: Client;
  transport: StdioClientTransport;
  child: ChildProcess;
  pid: number;
  exit: Promise<Exit>;
  stderr(): string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool and returns structuredContent; throws when the call failed as a whole. */
  ok(name: string, args: Record<string, unknown>): Promise<any>;
  /** Closes the client (ends the child's stdin) and waits for the child to exit. */
  close(): Promise<Exit & { ms: number }>;
}

/** Spawns `node dist/src/cli.js` through the SDK's StdioClientTransport and connects a Client. */
export async function startMcp(env: Record<string, string>, args: string[] = []): Promise<McpChild> {
  assertBuilt();
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], env: childEnv(env), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const client = new Client({ name: 'memlane-e2e', version: '0.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new Error(`connecting to memlane failed: ${(e as Error).message}\nstderr:\n${err}`);
  }
  // The transport keeps its ChildProcess private; the exit code is only on it.
  const child = (transport as unknown as { _process?: ChildProcess })._process;
  if (!child || transport.pid === null) throw new Error(`memlane exited during connect; stderr:\n${err}`);
  track(child);
  const exit = exitOf(child);
  const pid = transport.pid;
  let closed: Promise<Exit & { ms: number }> | undefined;
  const close = () =>
    (closed ??= (async () => {
      const t0 = Date.now();
      await client.close();
      const e = await exitWithin(exit, 8_000, `memlane pid ${pid}`);
      return { ...e, ms: e.at - t0 };
    })());
  closers.add(async () => void (await close()));
  // Cache output schemas, so the client checks every structuredContent against them.
  await client.listTools();
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    transport,
    child,
    pid,
    exit,
    stderr: () => err,
    call,
    async ok(name, args) {
      const res = await call(name, args);
      if (res.isError) throw new Error(`${name} failed: ${textOf(res)}`);
      return res.structuredContent;
    },
    close,
  };
}

export const textOf = (res: CallToolResult): string =>
  res.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');

// ------------------------------------------------------------ plain processes

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/src/cli.js ...args` to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 10_000): Promise<CliRun> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
  return { code: child.exitCode, signal: child.signalCode, stdout, stderr };
}

export interface RawChild {
  child: ChildProcess & { stdin: NodeJS.WritableStream };
  exit: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Every complete stdout line so far. */
  lines(): string[];
  send(message: unknown): void;
  /** Waits for a stdout JSON-RPC message with this id. */
  response(id: number, ms?: number): Promise<any>;
}

/** Spawns the server with plain pipes, to look at the raw protocol stream. */
export function spawnRaw(env: Record<string, string>, args: string[] = []): RawChild {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  const exit = exitOf(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdin.on('error', () => undefined); // EPIPE if the child died: the test reports it
  const lines = () => out.split('\n').slice(0, -1);
  const findResponse = (id: number) => {
    for (const line of lines()) {
      try {
        const msg = JSON.parse(line) as { id?: unknown };
        if (msg.id === id) return msg;
      } catch {
        // not JSON: the hygiene assertions report it
      }
    }
    return undefined;
  };
  return {
    child: child as RawChild['child'],
    exit,
    stdout: () => out,
    stderr: () => err,
    lines,
    send: (message) => void child.stdin.write(`${JSON.stringify(message)}\n`),
    response: (id, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = findResponse(id);
          if (found === undefined) return;
          cleanupWait();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanupWait();
          reject(new Error(`no response with id ${id} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`));
        }, ms);
        const onExit = () => {
          cleanupWait();
          reject(new Error(`memlane exited before answering id ${id}; stdout:\n${out}\nstderr:\n${err}`));
        };
        const cleanupWait = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}
