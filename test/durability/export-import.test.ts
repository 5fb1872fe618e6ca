/**
 * `memlane export` / `memlane import` (contract §6): JSON Lines, lossless
 * (ids, timestamps, versions, tags, metadata, ord; vectors with --vectors),
 * idempotent (an upsert), `--agent` re-homes every line, bad lines are
 * reported as `line N: reason` and skipped, exit 1 when any line failed.
 * Every command is its own process; the data is written by a real server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, cli, envFor, memoriesOf, type Result, startMcp, stats, tempDir } from './_util.js';

const A = 'agent-a';
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('export → import → export', () => {
  let src: string;
  let work: string;
  let exportPlain: string; // file contents
  let exportVectors: string;
  let ids: string[];
  let count: number;

  beforeAll(async () => {
    assertBuilt();
    src = tempDir('memlane-dur-exp-src-');
    work = tempDir('memlane-dur-exp-files-');
    // Memories with every kind of field, over two sessions (two server processes), with updates (versions > 1).
    const s1 = await startMcp(envFor(src, { MEMLANE_AGENT: A }));
    const r1 = await s1.ok('batch_remember', {
      memories: [
        { content: 'Ada prefers green tea in the morning', type: 'preference', title: 'Tea', tags: ['drinks', 'morning'], metadata: { cup: 'blue', n: 2, nested: { a: [1, 2, { b: null }] } }, confidence: 0.95, importance: 0.7 },
        { id: 'client-id:1', content: 'The release train leaves every second Tuesday', type: 'event', source: 'calendar', provenance: 'inferred', pinned: true },
        { content: 'Never deploy on Fridays', type: 'instruction', immutable: true, expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() },
        { content: 'Unicode: café, naïve, 東京, emoji 🚀, quote " and backslash \\ and newline\nsecond line', tags: ['ünïcödé'] },
        { content: 'short-lived note about the picnic', ttl_seconds: 86_400 },
      ],
    });
    expect(r1.succeeded).toBe(5);
    const u = await s1.ok('batch_update', { updates: [{ id: r1.results[0].id, tags: ['drinks', 'morning', 'updated'], metadata: { n: 3, extra: 'x', cup: null } }, { id: 'client-id:1', importance: 0.9 }] });
    expect(u.succeeded).toBe(2);
    await s1.ok('batch_update', { updates: [{ id: 'client-id:1', title: 'Trains' }] });
    await s1.close();
    const s2 = await startMcp(envFor(src, { MEMLANE_AGENT: A }));
    const r2 = await s2.ok('batch_remember', { memories: Array.from({ length: 40 }, (_, i) => ({ content: `second session fact ${i}: lighthouse ${i} is ${i * 3} metres tall`, tags: [`lh${i}`], metadata: { i } })) });
    expect(r2.succeeded).toBe(40);
    // Another agent's data must not leak into agent A's export.
    await s2.close();
    const other = await startMcp(envFor(src, { MEMLANE_AGENT: 'someone-else' }));
    await other.ok('batch_remember', { memories: [{ content: 'belongs to someone else' }] });
    await other.close();
    ids = [...r1.results, ...r2.results].map((r: Result) => r.id!);
    count = ids.length;

    const out1 = await cli(src, ['export', '--agent', A, '--out', join(work, 'a.jsonl')]);
    expect(out1.code, out1.stderr).toBe(0);
    expect(out1.stdout).toBe('');
    exportPlain = readFileSync(join(work, 'a.jsonl'), 'utf8');
    const out2 = await cli(src, ['export', '--agent', A, '--vectors', '--out', join(work, 'av.jsonl')]);
    expect(out2.code, out2.stderr).toBe(0);
    exportVectors = readFileSync(join(work, 'av.jsonl'), 'utf8');
  }, 60_000);

  afterAll(async () => cleanup());

  it('exports every field of every memory of the agent, to a file and to stdout alike', async () => {
    const plain = lines(exportPlain).map((l) => JSON.parse(l));
    expect(plain).toHaveLength(count);
    expect(plain.map((m) => m.id).sort()).toEqual([...ids].sort());
    for (const m of plain) {
      expect(m.agent_id).toBe(A);
      expect(m.namespace).toBe(`agent:${A}`);
      expect(m).not.toHaveProperty('vector');
      for (const k of ['id', 'content', 'type', 'title', 'tags', 'metadata', 'confidence', 'importance', 'source', 'provenance', 'pinned', 'immutable', 'expires_at', 'session_id', 'created_at', 'updated_at', 'version', 'ord']) expect(m, k).toHaveProperty(k);
    }
    const tea = plain.find((m) => m.content.startsWith('Ada'));
    expect(tea).toMatchObject({ version: 2, tags: ['drinks', 'morning', 'updated'], metadata: { n: 3, extra: 'x', nested: { a: [1, 2, { b: null }] } }, title: 'Tea', confidence: 0.95 });
    expect(tea.metadata).not.toHaveProperty('cup');
    expect(plain.find((m) => m.id === 'client-id:1')).toMatchObject({ version: 3, title: 'Trains', pinned: true, importance: 0.9, source: 'calendar', provenance: 'inferred' });
    expect(new Set(plain.map((m) => m.session_id)).size).toBe(2);

    const withVectors = lines(exportVectors).map((l) => JSON.parse(l));
    expect(withVectors).toHaveLength(count);
    for (const [i, m] of withVectors.entries()) {
      expect(Array.isArray(m.vector) && m.vector.length > 0).toBe(true);
      const { vector, ...rest } = m;
      expect(rest).toEqual(plain[i]);
    }

    const toStdout = await cli(src, ['export', '--agent', A]);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdout).toBe(exportPlain);
    const toStdoutV = await cli(src, ['export', '--agent', A, '--vectors']);
    expect(toStdoutV.stdout).toBe(exportVectors);
  });

  it('import into a fresh database, export again: identical line for line (with and without vectors)', { timeout: 60_000 }, async () => {
    const fresh = tempDir('memlane-dur-exp-fresh-');
    const imp = await cli(fresh, ['import', join(work, 'av.jsonl')]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(new RegExp(`${count} imported, 0 already present, 0 failed`));
    const again = await cli(fresh, ['export', '--agent', A, '--vectors']);
    expect(lines(again.stdout)).toEqual(lines(exportVectors));
    expect((await cli(fresh, ['export', '--agent', A])).stdout).toBe(exportPlain);

    // Without vectors: re-embedded, everything else identical.
    const fresh2 = tempDir('memlane-dur-exp-fresh2-');
    const imp2 = await cli(fresh2, ['import', join(work, 'a.jsonl')]);
    expect(imp2.code, imp2.stderr).toBe(0);
    expect(lines((await cli(fresh2, ['export', '--agent', A])).stdout)).toEqual(lines(exportPlain));

    // ---- importing the same file again changes nothing
    const { stats: before } = await stats(fresh);
    for (const file of ['av.jsonl', 'a.jsonl']) {
      const twice = await cli(fresh, ['import', join(work, file)]);
      expect(twice.code, twice.stderr).toBe(0);
      expect(twice.stderr).toMatch(new RegExp(`0 imported, ${count} already present, 0 failed`));
    }
    const { stats: after } = await stats(fresh);
    expect(memoriesOf(after, A)).toBe(count);
    expect({ agents: after.agents, versions: after.versions, fragments: after.fragments }).toEqual({ agents: before.agents, versions: before.versions, fragments: before.fragments });
    expect((await cli(fresh, ['export', '--agent', A, '--vectors'])).stdout).toBe(exportVectors); // versions, updated_at unchanged

    // ---- a server on the imported database finds the memories (get and every search mode)
    const server = await startMcp(envFor(fresh, { MEMLANE_AGENT: A }));
    const got = await server.ok('batch_get', { ids });
    expect(got.succeeded).toBe(count);
    const found = await server.ok('batch_search', {
      queries: [
        { query: 'how tall is lighthouse 17', limit: 3 },
        { query: 'lighthouse 17', mode: 'text', limit: 3, filter: { tags_any: ['lh17'] } },
        { query: 'green tea morning', mode: 'vector', limit: 3 },
        { query: 'release train Tuesday', mode: 'text', limit: 3 },
      ],
    });
    const lh17 = JSON.parse(lines(exportPlain).find((l) => l.includes('lighthouse 17 '))!).id;
    expect(found.results[0].results[0].id).toBe(lh17);
    expect(found.results[1].results[0].id).toBe(lh17);
    expect(found.results[2].results[0].content).toBe('Ada prefers green tea in the morning');
    expect(found.results[3].results[0].id).toBe('client-id:1');
  });

  it('--agent B puts every line into agent B, and nothing into A', { timeout: 30_000 }, async () => {
    const fresh = tempDir('memlane-dur-exp-b-');
    const imp = await cli(fresh, ['import', join(work, 'av.jsonl'), '--agent', 'B']);
    expect(imp.code, imp.stderr).toBe(0);
    const b = lines((await cli(fresh, ['export', '--agent', 'B', '--vectors'])).stdout).map((l) => JSON.parse(l));
    const a = lines(exportVectors).map((l) => JSON.parse(l));
    expect(b).toHaveLength(count);
    b.forEach((m, i) => {
      expect(m.agent_id).toBe('B');
      expect(m.namespace).toBe('agent:B');
      expect({ ...m, agent_id: A, namespace: `agent:${A}` }).toEqual(a[i]);
    });
    expect((await cli(fresh, ['export', '--agent', A])).stdout).toBe('');
    const { stats: s } = await stats(fresh);
    expect(memoriesOf(s, 'B')).toBe(count);
    expect(memoriesOf(s, A)).toBe(0);
    // A server for agent B sees them.
    const server = await startMcp(envFor(fresh, { MEMLANE_AGENT: 'B' }));
    expect((await server.ok('batch_get', { ids })).succeeded).toBe(count);
  });

  it('bad lines are reported as `line N: reason` and skipped, the good ones imported, exit status 1', { timeout: 30_000 }, async () => {
    const good = lines(exportPlain).slice(0, 4);
    const [g1, g2, g3, g4] = good as [string, string, string, string];
    const badConfidence = JSON.stringify({ ...JSON.parse(g3), confidence: 7 });
    const file = join(work, 'bad.jsonl');
    // line 1 good, 2 truncated JSON, 3 good, 4 confidence 7, 5 good, 6 partial last line (no newline)
    writeFileSync(file, [g1, g2.slice(0, Math.floor(g2.length / 2)), g4, badConfidence, JSON.stringify({ ...JSON.parse(g1), id: 'copy-of-first' }), g3.slice(0, 40)].join('\n'));
    const fresh = tempDir('memlane-dur-exp-bad-');
    const imp = await cli(fresh, ['import', file]);
    expect(imp.code).toBe(1);
    const reported = imp.stderr.split('\n').filter((l) => /^line \d+: /.test(l));
    expect(reported.map((l) => l.match(/^line (\d+):/)![1])).toEqual(['2', '4', '6']);
    expect(reported[1]).toMatch(/confidence/);
    for (const l of reported) expect(l.length).toBeGreaterThan('line N: '.length + 3); // a reason, not just the number
    expect(imp.stderr).toMatch(/3 imported, 0 already present, 3 failed/);
    const exported = lines((await cli(fresh, ['export', '--agent', A])).stdout).map((l) => JSON.parse(l));
    expect(exported.map((m) => m.id).sort()).toEqual([JSON.parse(g1).id, JSON.parse(g4).id, 'copy-of-first'].sort());

    // An all-good file exits 0.
    const goodFile = join(work, 'good.jsonl');
    writeFileSync(goodFile, `${good.join('\n')}\n`);
    const ok = await cli(fresh, ['import', goodFile]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toMatch(/^line \d+:/m);
  });
});
