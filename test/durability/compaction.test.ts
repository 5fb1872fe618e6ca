/**
 * Deleted content leaves the disk after `memlane compact` (contract §4
 * batch_delete), compaction folds many small writes into few versions and
 * fragments without losing data (STACK-FACTS §6), and `memlane stats --json`
 * prints one JSON document with the contract's keys (§6).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, cli, envFor, filesContaining, filesUnder, memoriesOf, type Result, startMcp, stats, tempDir } from './_util.js';

const uniq = () => `zq${randomBytes(20).toString('hex')}`;
/** A long incompressible token too, in case short strings were stored compressed. */
const longUniq = () => `zq${randomBytes(256).toString('hex')}`;

describe('compaction and disk hygiene', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it('a deleted memory is gone from get/search at once and, after `memlane compact`, from every file on disk', { timeout: 80_000 }, async () => {
    const dir = tempDir('memlane-dur-compact-');
    const env = envFor(dir);
    const server = await startMcp(env);

    // Secrets, each in one memory's content:
    //  - `secret`: 'zq' + 40 hex, as the brief asks. 42 characters is over the full-text tokenizer's
    //    40-character token limit, so it lives only in the data files (content, search_text), never in the index.
    //  - `token`: 'zq' + 30 hex, short enough to be indexed; compacted INTO the full-text index before the
    //    delete. Grepped by a 26-character prefix, which stemming cannot touch.
    //  - `long`: 514 incompressible characters, in case short strings were stored compressed.
    const secret = uniq();
    const token = `zq${randomBytes(15).toString('hex')}`;
    const tokenNeedle = token.slice(0, 26);
    const long = longUniq();
    const others = Array.from({ length: 12 }, (_, i) => ({ content: `ordinary memory ${i}: the orchard has ${i + 3} apple trees` }));
    const r1 = await server.ok('batch_remember', { memories: [{ content: `the vault password is ${token} keep it safe` }, ...others.slice(0, 6)] });
    const idToken = r1.results[0].id as string;
    const compact1 = await cli(dir, ['compact', '--json']);
    expect(compact1.code, compact1.stderr).toBe(0);
    const r2 = await server.ok('batch_remember', { memories: [{ content: `the locker code is ${secret} and the long one is ${long}` }, ...others.slice(6)] });
    const idSecret = r2.results[0].id as string;
    const otherIds = [...r1.results.slice(1), ...r2.results.slice(1)].map((r: Result) => r.id!);
    const ids = [idToken, idSecret];

    // Readable, searchable, and on disk (else the final check proves nothing).
    expect((await server.ok('batch_get', { ids })).succeeded).toBe(2);
    const s0 = await server.ok('batch_search', { queries: [{ query: token, mode: 'text' }, { query: 'locker code', mode: 'hybrid' }] });
    expect(s0.results[0].results[0]?.id).toBe(idToken);
    expect(s0.results[1].results[0]?.id).toBe(idSecret);
    const where = () => ({ secret: filesContaining(dir, secret), token: filesContaining(dir, tokenNeedle), long: filesContaining(dir, long) });
    const rel = (fs: string[]) => `[${fs.map((f) => f.slice(dir.length)).join(', ')}]`;
    const before = where();
    console.info(`[compaction] before delete: secret in ${rel(before.secret)}; indexed token in ${rel(before.token)}; long token in ${before.long.length} files`);
    expect(before.secret.length, 'the secret is not greppable on disk even before the delete').toBeGreaterThan(0);
    expect(before.token.length, 'the indexed token is not greppable on disk even before the delete').toBeGreaterThan(0);
    expect(before.long.length).toBeGreaterThan(0);

    // ---- delete: gone from every read at once
    const del = await server.ok('batch_delete', { ids });
    expect(del.results.map((r: Result) => r.action)).toEqual(['deleted', 'deleted']);
    const got = await server.ok('batch_get', { ids });
    expect(got.results.map((r: Result) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    for (const mode of ['text', 'hybrid', 'vector']) {
      const s = await server.ok('batch_search', { queries: [{ query: token, mode, limit: 100 }, { query: `locker code ${secret}`, mode, limit: 100 }] });
      for (const q of s.results) expect(q.results.map((h: { id: string }) => h.id).filter((id: string) => ids.includes(id))).toEqual([]);
    }

    // ---- compact in a separate process while the server still runs
    const compact2 = await cli(dir, ['compact', '--json']);
    expect(compact2.code, compact2.stderr).toBe(0);
    console.info(`[compaction] compact after delete: ${compact2.stdout.trim()}`);
    // The running server still reads everything else.
    const still = await server.ok('batch_get', { ids: otherIds });
    expect(still.succeeded).toBe(otherIds.length);
    await server.close();

    const files = filesUnder(dir);
    const after = where();
    console.info(`[compaction] after compact: ${files.length} files; secret in ${rel(after.secret)}; indexed token in ${rel(after.token)}; long token in ${rel(after.long)}`);
    // Soft: report all three, then also check that nothing else was lost.
    expect.soft(after.secret, 'deleted content still on disk after `memlane compact`').toEqual([]);
    expect.soft(after.long, 'deleted long content still on disk after `memlane compact`').toEqual([]);
    expect.soft(after.token, 'deleted content that had been in the full-text index is still on disk after `memlane compact`').toEqual([]);

    // And everything else survived.
    const again = await startMcp(env);
    const kept = await again.ok('batch_get', { ids: otherIds });
    expect(kept.succeeded).toBe(otherIds.length);
  });

  it('80 single-item writes, then `memlane compact`: fewer versions and fragments, all data still there; stats --json has the contract keys', { timeout: 80_000 }, async () => {
    const dir = tempDir('memlane-dur-small-');
    const server = await startMcp(envFor(dir));
    const ids: string[] = [];
    const contents: string[] = [];
    for (let i = 0; i < 80; i++) {
      const content = `small write ${i}: the tide table for pier ${i} says ${(i * 7) % 24}:00`;
      const out = await server.ok('batch_remember', { memories: [{ content, tags: ['small', `n${i}`] }] });
      expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
      ids.push(out.results[0].id);
      contents.push(content);
    }

    const { stats: s0, run } = await stats(dir);
    // Exactly one JSON document, with the contract's keys and types.
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    for (const key of ['db', 'embedder', 'agents', 'bytes_on_disk', 'versions', 'fragments', 'indexes']) expect(s0).toHaveProperty(key);
    expect(typeof s0.db).toBe('string');
    expect(s0.embedder).toEqual({ provider: expect.any(String), model: expect.any(String), dim: expect.any(Number) });
    expect(Array.isArray(s0.indexes)).toBe(true);
    for (const a of s0.agents) expect(Object.keys(a).sort()).toEqual(['agent_id', 'memories', 'namespace', 'sessions']);
    expect(s0.agents).toContainEqual({ agent_id: 'default', namespace: 'agent:default', memories: 80, sessions: 1 });
    for (const key of ['bytes_on_disk', 'versions', 'fragments'] as const) expect(Number.isInteger(s0[key]) && s0[key] >= 0, key).toBe(true);

    // Compact while the server runs (as an operator would), then check from the server and from stats.
    const c = await cli(dir, ['compact']);
    expect(c.code, c.stderr).toBe(0);
    const { stats: s1 } = await stats(dir);
    console.info(`[compaction] 80 single writes: versions ${s0.versions} → ${s1.versions}, fragments ${s0.fragments} → ${s1.fragments}, bytes ${s0.bytes_on_disk} → ${s1.bytes_on_disk}`);
    expect(s1.versions).toBeLessThan(s0.versions);
    expect(s1.fragments).toBeLessThan(s0.fragments);
    expect(s1.bytes_on_disk).toBeLessThan(s0.bytes_on_disk);
    expect(memoriesOf(s1, 'default')).toBe(80);

    const got = await server.ok('batch_get', { ids });
    expect(got.succeeded).toBe(80);
    got.results.forEach((r: { memory: { content: string } }, i: number) => expect(r.memory.content).toBe(contents[i]));
    const found = await server.ok('batch_search', { queries: [{ query: 'tide table pier 42', limit: 3 }, { query: 'pier 7', mode: 'text', limit: 100, filter: { tags_all: ['n7'] } }] });
    expect(found.results[0].results[0].id).toBe(ids[42]);
    expect(found.results[1].results.map((h: { id: string }) => h.id)).toEqual([ids[7]]);
    // Writes still work after compaction, from the same process.
    const more = await server.ok('batch_remember', { memories: [{ content: 'written after compaction' }] });
    expect(more.results[0].action).toBe('created');
    await server.close();
    const { stats: s2 } = await stats(dir);
    expect(memoriesOf(s2, 'default')).toBe(81);
  });
});
