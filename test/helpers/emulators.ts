/**
 * vitest globalSetup: starts the object-store emulators once for the whole
 * run, on free loopback ports, and stops them at the end.
 *
 * - moto 5.2.5 (PyPI, installed by .ci/emulators.sh into .emulators/venv), in
 *   server mode: S3 and DynamoDB in one process. It honours If-None-Match: *
 *   and If-Match on PUT and DELETE and DynamoDB's condition expressions, but
 *   checks and writes without a lock, so racing conditional creates of one key
 *   now and then both win (DynamoDB: 6 of 900 races of 16 under load). Started
 *   through .ci/moto_server.py, which locks around conditional writes (0 of 900)
 *   so that it keeps the real services' promise.
 * - Azurite 3.35.0 (npm; the last release that runs on Node 20), blob service
 *   only, telemetry off. It honours conditional headers one request at a time,
 *   but its check and write are not atomic (of 8 simultaneous creates of one key
 *   several win), so memlane treats it as a store without conditional writes.
 * - stock s3rver 3.7.1 (npm): ignores If-None-Match, the store that
 *   `memlane doctor` must refuse.
 *
 * Tests read the ports with inject('emulators') (see storage/backends.ts).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { motoCommand, prepareMoto } from '../../bench/moto.js';

export interface Emulators {
  /** moto: S3 and DynamoDB at http://127.0.0.1:<port>. */
  moto: number;
  /** Azurite blob service at http://127.0.0.1:<port>/devstoreaccount1. */
  azurite: number;
  /** stock s3rver (no conditional writes). */
  s3rver: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: Emulators;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MOTO_SERIAL = motoCommand(ROOT);
export const MOTO = MOTO_SERIAL.installed;
export const BUCKET = 'memlane';
export const DDB_TABLE = 'memlane-commits';

const children: ChildProcess[] = [];
const dirs: string[] = [];

export default async function setup({ provide }: { provide: (key: 'emulators', value: Emulators) => void }): Promise<() => Promise<void>> {
  // moto comes from PyPI, not npm: installed here on first use, so `npm ci && npm test` is enough in a clean clone.
  if (!existsSync(MOTO)) await installMoto();
  const [moto, azurite, s3rver] = await Promise.all([freePort(), freePort(), freePort()]);
  const azuriteDir = mkdtempSync(join(tmpdir(), 'memlane-azurite-'));
  const s3rverDir = mkdtempSync(join(tmpdir(), 'memlane-s3rver-'));
  dirs.push(azuriteDir, s3rverDir);
  start(MOTO_SERIAL.bin, MOTO_SERIAL.args('127.0.0.1', moto));
  start(join(ROOT, 'node_modules', '.bin', 'azurite-blob'), [
    '--blobHost', '127.0.0.1', '--blobPort', String(azurite), '--location', azuriteDir,
    '--silent', '--loose', '--skipApiVersionCheck', '--disableTelemetry',
  ]);
  start(process.execPath, [join(ROOT, 'test', 'helpers', 's3rver-stock.cjs'), String(s3rver), s3rverDir, BUCKET]);
  await Promise.all([
    waitHttp(`http://127.0.0.1:${moto}/moto-api/`, 'moto'),
    waitHttp(`http://127.0.0.1:${azurite}/devstoreaccount1?comp=list`, 'azurite'),
    waitHttp(`http://127.0.0.1:${s3rver}/`, 's3rver'),
  ]);
  await prepare({ moto, azurite, s3rver });
  provide('emulators', { moto, azurite, s3rver });
  return async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
}

/** The bucket on moto, the DynamoDB commit table, the container on Azurite. */
async function prepare(e: Emulators): Promise<void> {
  await prepareMoto(e.moto, BUCKET, DDB_TABLE, 'test');
  const { ensureAzureContainer } = await import('../../src/store/backends/azure.js');
  const { StorageSettings } = await import('../../src/store/backends/options.js');
  await ensureAzureContainer(new StorageSettings(azureOptions(e.azurite), {}), BUCKET);
}

export const awsOptions = (port: number): Record<string, string> => ({
  endpoint: `http://127.0.0.1:${port}`,
  allow_http: 'true',
  aws_access_key_id: 'test',
  aws_secret_access_key: 'test',
  region: 'us-east-1',
});

export const azureOptions = (port: number): Record<string, string> => ({
  azure_storage_account_name: 'devstoreaccount1',
  azure_storage_account_key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  azure_storage_endpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
  allow_http: 'true',
});

function start(command: string, args: string[]): void {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`[emulators] ${command} exited with ${code}: ${err}\n`);
  });
  children.push(child);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      if (Date.now() > until) throw new Error(`${what} did not start within 30 s (${url})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** .ci/emulators.sh: moto into .emulators/venv (idempotent; about half a minute once). */
async function installMoto(): Promise<void> {
  try {
    await promisify(execFile)('bash', [join(ROOT, '.ci', 'emulators.sh')], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`the storage tests need moto, and installing it with .ci/emulators.sh failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!existsSync(MOTO)) throw new Error(`.ci/emulators.sh ran but ${MOTO} is missing`);
}
