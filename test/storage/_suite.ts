/**
 * The storage suite: the same tests on every backend (backends.ts; one
 * test file per backend, suite-*.test.ts): a local
 * directory, s3:// and s3+ddb:// on moto, az:// on Azurite. What the local
 * directory supports must work on each: the five tools, full-text, vector and
 * hybrid search with their indexes, sessions and revocation, export/import,
 * compact (deleted content gone from every object of the store), stats,
 * reembed, and background maintenance through the store's own lock.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Maintainer } from '../../src/store/maintenance.js';
import { assertBuilt, cleanup, runCli } from '../e2e/_spawn.js';
import { filesContaining } from '../durability/_util.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { backend, type BackendName, leaseOf, objectsOf } from './backends.js';

const base = { MEMLANE_EMBED_DIM: '768', MEMLANE_MAINTENANCE_INTERVAL_MS: '0', MEMLANE_LOG_LEVEL: 'warn' };
const cli = (env: Record<string, string>, args: string[], timeoutMs = 60_000) => runCli(args, { ...base, ...env }, timeoutMs);

/** Defines the suite for one backend; each backend has its own test file, so backends run in parallel. */
export const storageSuite = (name: BackendName) =>
describe(`storage on ${name}`, () => {
  let env: Record<string, string>;
  let h: Harness;

  beforeAll(async () => {
    assertBuilt();
    env = { ...base, ...(await backend(name).fresh()) };
    h = await startHarness({ env });
  });
  afterAll(async () => {
    await h?.close();
    await cleanup();
  });

  it('the five tools: remember (with dedupe), get, update with expected_version, search in every mode, delete', async () => {
    const word = `zq${randomBytes(4).toString('hex')}`;
    const made = await h.ok('batch_remember', {
      memories: [
        { content: `the ${word} lighthouse keeper prefers green tea`, tags: ['t1'] },
        { content: `the ${word} ferry leaves at nine`, tags: ['t2'] },
        { content: `THE ${word}   LIGHTHOUSE keeper prefers green tea` },
      ],
    });
    expect(made.results.map((r: { action: string }) => r.action)).toEqual(['created', 'created', 'deduplicated']);
    const [a, b] = made.results.map((r: { id: string }) => r.id);
    expect(made.results[2].id).toBe(a);

    const got = await h.ok('batch_get', { ids: [a, b, 'nope'] });
    expect(got.results.map((r: { status: string }) => r.status)).toEqual(['ok', 'ok', 'error']);
    expect(got.results[0].memory.content).toContain('lighthouse');

    const upd = await h.ok('batch_update', { updates: [{ id: a, importance: 0.9, expected_version: 1 }, { id: b, pinned: true, expected_version: 7 }] });
    expect(upd.results[0]).toMatchObject({ status: 'ok', action: 'updated' });
    expect(upd.results[1].error.code).toBe('VERSION_CONFLICT');

    for (const mode of ['text', 'vector', 'hybrid']) {
      const found = await h.ok('batch_search', { queries: [{ query: `${word} lighthouse tea`, mode, limit: 5 }] });
      expect(found.results[0].results[0]?.id, `${mode} search`).toBe(a);
    }
    const filtered = await h.ok('batch_search', { queries: [{ query: word, mode: 'text', filter: { tags_any: ['t2'] } }] });
    expect(filtered.results[0].results.map((x: { id: string }) => x.id)).toEqual([b]);

    const del = await h.ok('batch_delete', { ids: [a] });
    expect(del.results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
    expect((await h.ok('batch_get', { ids: [a] })).results[0].error.code).toBe('NOT_FOUND');
    const after = await h.ok('batch_search', { queries: [{ query: `${word} lighthouse`, mode: 'text' }] });
    expect(after.results[0].results.map((x: { id: string }) => x.id)).not.toContain(a);
  });

  it('sessions: a token made in another process works, and its revocation counts at the next call', async () => {
    const made = await cli(env, ['session', 'create', '--agent', 'remote-agent', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const { token, session_id } = JSON.parse(made.stdout) as { token: string; session_id: string };
    const ok = await h.ok('batch_remember', { memories: [{ content: `remote agent note ${randomBytes(3).toString('hex')}` }], session_token: token });
    expect(ok.agent_id).toBe('remote-agent');
    const revoked = await cli(env, ['session', 'revoke', session_id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await h.call('batch_get', { ids: ['x'], session_token: token });
    expect(refused.isError).toBe(true);
    expect((refused.content[0] as { text: string }).text).toMatch(/^UNAUTHORIZED/);
  });

  it('export and import round-trip through separate processes, and importing twice changes nothing', async () => {
    const word = `zx${randomBytes(4).toString('hex')}`;
    await h.ok('batch_remember', { memories: Array.from({ length: 5 }, (_, i) => ({ content: `${word} exported fact number ${i}`, tags: ['exp'] })) });
    const out = await cli(env, ['export', '--agent', 'default', '--vectors']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.split('\n').filter((l) => l.includes(word));
    expect(lines).toHaveLength(5);
    const other = { ...base, ...(await backend(name).fresh()) };
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(process.env.TMPDIR ?? '/tmp', `memlane-export-${randomBytes(4).toString('hex')}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    for (const round of [1, 2]) {
      const imp = await cli(other, ['import', file, '--agent', 'copy']);
      expect(imp.code, imp.stderr).toBe(0);
      expect(imp.stderr + imp.stdout).toMatch(round === 1 ? /5 imported/ : /0 imported, 5 already present/);
    }
    const again = await cli(other, ['export', '--agent', 'copy']);
    expect(again.stdout.split('\n').filter((l) => l.includes(word))).toHaveLength(5);
  });

  it('compact removes deleted content from every object (or file) of the store, and stats --json reports the tables and indexes', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const made = await h.ok('batch_remember', { memories: [{ content: `the vault code is ${secret}` }, { content: `an unrelated note ${randomBytes(4).toString('hex')}` }] });
    await h.ok('batch_delete', { ids: [made.results[0].id] });
    const compact = await cli(env, ['compact', '--json']);
    expect(compact.code, compact.stderr).toBe(0);
    if (name === 'local') {
      expect(filesContaining(env.MEMLANE_DB!, secret)).toEqual([]);
    } else {
      const objects = await objectsOf(env);
      expect(objects.size).toBeGreaterThan(0);
      const holding = [...objects].filter(([, bytes]) => bytes.includes(Buffer.from(secret))).map(([k]) => k);
      expect(holding).toEqual([]);
      // Positive control: the live memory's text is in some object.
      const live = String((await h.ok('batch_get', { ids: [made.results[1].id] })).results[0].memory.content);
      expect([...objects.values()].some((bytes) => bytes.includes(Buffer.from(live)))).toBe(true);
    }
    const stats = await cli(env, ['stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const s = JSON.parse(stats.stdout) as { db: string; agents: { agent_id: string; memories: number }[]; indexes: { name: string; type: string }[] };
    expect(s.db).toBe(env.MEMLANE_DB);
    expect(s.agents.find((a) => a.agent_id === 'default')!.memories).toBeGreaterThan(0);
    // Scalar indexes only: full-text search runs on the in-memory replica, so new tables get no FTS index.
    expect(s.indexes.map((i) => i.type)).toEqual(expect.arrayContaining(['BTree']));
    expect(s.indexes.map((i) => i.type)).not.toContain('FTS');
  });

  it('background maintenance compacts a table past its threshold through the store’s own lock, and leaves no lock behind', async () => {
    for (let i = 0; i < 4; i++) await h.ok('batch_remember', { memories: [{ content: `maintenance filler ${i} ${randomBytes(4).toString('hex')}` }] });
    const maintainer = new Maintainer(h.app.db, 0, { thresholds: { smallFragments: 2, versions: 1_000, unindexedRows: 1_000_000 } });
    const reports = await maintainer.maybeCompact();
    expect(reports.some((r) => r.fragmentsRemoved > 0), JSON.stringify(reports)).toBe(true);
    // A second maintainer holding the lease keeps the first out: one process at a time.
    const lease = h.app.db.maintenanceLease();
    if (lease) {
      const held = await lease.tryAcquire();
      expect(held).toBeDefined();
      for (let i = 0; i < 3; i++) await h.ok('batch_remember', { memories: [{ content: `more filler ${i} ${randomBytes(4).toString('hex')}` }] });
      const other = await startHarness({ env });
      try {
        expect(await new Maintainer(other.app.db, 0, { thresholds: { smallFragments: 2 } }).maybeCompact()).toEqual([]);
      } finally {
        await other.close();
        await held!.release();
        await lease.flush();
      }
      expect(await leaseOf(env)).toBeUndefined();
    }
  });

  it('reembed switches the database to another embedder, and a server with that embedder searches it', async () => {
    const word = `zr${randomBytes(4).toString('hex')}`;
    const db = { ...base, ...(await backend(name).fresh()) };
    const writer = await startHarness({ env: db });
    await writer.ok('batch_remember', { memories: [{ content: `${word} survives re-embedding` }] });
    await writer.close();
    const run = await cli({ ...db, MEMLANE_EMBED_DIM: '384' }, ['reembed'], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const after = await startHarness({ env: { ...db, MEMLANE_EMBED_DIM: '384' } });
    try {
      const found = await after.ok('batch_search', { queries: [{ query: `${word} re-embedding`, mode: 'vector', limit: 3 }] });
      expect(found.results[0].results[0].content).toContain(word);
      expect(after.app.db.embedder.dim).toBe(384);
    } finally {
      await after.close();
    }
  });
});
