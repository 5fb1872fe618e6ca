/**
 * Start-up on object storage (issue 13): bad URIs and missing credentials stop
 * at once with one line naming what is missing (never a hang, never a stack
 * trace); `memlane doctor` tells a store that honours conditional writes from
 * one that ignores them (stock s3rver), and the servers refuse to write on the
 * latter, naming the fixes; db:// is checked as far as it can be offline.
 */
import { createServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, runCli, spawnRaw } from '../e2e/_spawn.js';
import { awsOptions } from '../helpers/emulators.js';
import { backend, stockS3rver } from './backends.js';

const run = (env: Record<string, string>, args: string[], timeoutMs = 30_000) =>
  runCli(args, { MEMLANE_EMBED_DIM: '768', MEMLANE_MAINTENANCE_INTERVAL_MS: '0', MEMLANE_LOG_LEVEL: 'warn', ...env }, timeoutMs);

/** One line on stderr, prefixed `memlane:`, no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('object-store URIs, credentials and memlane doctor', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it.each([
    ['s3://', /names no bucket/],
    ['s3+ddb://bucket/prefix', /needs \?ddbTableName=/],
    ['s3+ddb://bucket/prefix?ddbTableName=t&x=1', /unknown parameter x/],
    ['s3://bucket/prefix?region=eu', /MEMLANE_STORAGE_OPTIONS/],
    ['ftp://host/x', /"ftp:\/\/" is not a store memlane opens/],
    ['db://', /names no database name/],
    ['az://container/p', /AZURE_STORAGE_ACCOUNT_NAME/],
    ['gs://bucket/p', /GOOGLE_APPLICATION_CREDENTIALS/],
    ['db://mydb', /LANCEDB_API_KEY/],
  ])('MEMLANE_DB=%s stops at once with one line naming the problem', async (uri, why) => {
    const r = await run({ MEMLANE_DB: uri, HOME: '/nonexistent-home' }, ['stats']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(why);
  });

  it('MEMLANE_STORAGE_OPTIONS that is not a JSON object stops with one line', async () => {
    const r = await run({ MEMLANE_DB: 's3://b/p', MEMLANE_STORAGE_OPTIONS: '[1,2]' }, ['stats']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/MEMLANE_STORAGE_OPTIONS must be a JSON object/);
  });

  it('an unreachable S3 endpoint and an unreachable LanceDB Cloud host fail fast and clearly, not with a hang', async () => {
    const port = await closedPort();
    const s3 = await run({ MEMLANE_DB: 's3://memlane/p', MEMLANE_STORAGE_OPTIONS: JSON.stringify(awsOptions(port)) }, ['stats'], 60_000);
    expect(s3.signal, 'killed by the test timeout: it hung').toBeNull();
    expect(s3.code).toBe(1);
    expect(oneLine(s3.stderr)).toMatch(/cannot reach the store/);
    const cloud = await run({ MEMLANE_DB: 'db://mydb', LANCEDB_API_KEY: 'sk-test', LANCEDB_HOST_OVERRIDE: `http://127.0.0.1:${port}` }, ['stats'], 60_000);
    expect(cloud.signal, 'killed by the test timeout: it hung').toBeNull();
    expect(cloud.code).toBe(1);
    expect(oneLine(cloud.stderr)).toMatch(/cannot open db:\/\/mydb/);
  });

  it('doctor passes a store that honours conditional writes (s3 and s3+ddb on moto), with --json for scripts', async () => {
    for (const name of ['s3', 's3+ddb'] as const) {
      const env = await backend(name).fresh();
      const r = await run(env, ['doctor', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { ok: boolean; writable: boolean; checks: { name: string; ok: boolean }[] };
      expect(report).toMatchObject({ ok: true, writable: true });
      expect(report.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['reach and list', 'write and read', 'delete', 'conditional create', 'conditional race', 'conditional replace', 'lancedb']),
      );
      if (name === 's3+ddb') expect(report.checks.map((c) => c.name)).toContain('dynamodb table');
    }
  });

  it('a store that ignores conditional writes (stock s3rver): doctor says so, and the stdio server and serve --http refuse to write, naming s3+ddb:// and a single writer', async () => {
    const env = stockS3rver();
    const doc = await run(env, ['doctor', '--json']);
    expect(doc.code).toBe(1);
    const report = JSON.parse(doc.stdout) as { ok: boolean; writable: boolean; checks: { name: string; ok: boolean }[]; advice: string };
    expect(report.writable).toBe(false);
    expect(report.checks.find((c) => c.name === 'conditional create')?.ok).toBe(false);
    expect(report.advice).toMatch(/s3\+ddb:\/\//);
    const text = await run(env, ['doctor']);
    expect(text.stdout).toMatch(/FAIL\s+conditional create/);

    for (const args of [[], ['serve', '--http', '--port', '0']]) {
      const server = spawnRaw({ MEMLANE_EMBED_DIM: '768', MEMLANE_LOG_LEVEL: 'warn', ...env }, args);
      const exit = await server.exit;
      expect(exit.code, server.stderr()).toBe(1);
      const line = oneLine(server.stderr());
      expect(line).toMatch(/does not honour conditional writes/);
      expect(line).toMatch(/s3\+ddb:\/\//);
      expect(line).toMatch(/MEMLANE_SINGLE_WRITER=1/);
    }
  });
});
