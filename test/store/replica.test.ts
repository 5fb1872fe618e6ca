/**
 * The in-memory replica of an agent's table (src/store/replica): it must
 * rank exactly as LanceDB's own indexes would (BM25 scores and cosine
 * similarities checked against LanceDB on the same rows), and stay in step
 * with the table whoever writes to it (this process, another memlane
 * process, compaction, a purge), taking the cheap path when it can.
 */
import * as lancedb from '@lancedb/lancedb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalEmbedder } from '../../src/embed/local.js';
import { analyze, analyzeUnicode, queryTerms } from '../../src/store/replica/analyzer.js';
import { memoryAt, mulberry32 } from '../../bench/speed/corpus.js';
import { vectorIndexFor } from '../../src/store/replica/vectors.js';
import { ftsIndexOptions } from '../../src/store/text.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
const harness = async (opts: Parameters<typeof startHarness>[0] = {}) => {
  const h = await startHarness(opts);
  open.push(h);
  return h;
};

const SENTENCES = [
  'Project Falcon uses PostgreSQL 16 for its primary database',
  'Falcon deploys happen on Tuesdays after the standup',
  'The user likes espresso in the morning and tea at night',
  'The user is allergic to peanuts and shellfish',
  'Standup is at 09:30 every weekday in the small room',
  'Running the migrations takes about ten minutes on the staging database',
  'The staging cluster runs in Frankfurt; production runs in Dublin',
  'Maria prefers pull requests to be small and well described',
  'Deployments are frozen during the last week of December',
  'The cafe on the corner serves the best croissants in town',
];

describe('what full-text search sees', () => {
  it('is LanceDB’s pipeline: simple tokens, lower case, Porter2 stems, stop words after stemming, ASCII folding', () => {
    expect(analyze('The Deployments were RUNNING; running runs!')).toEqual(['deploy', 'run', 'run', 'run']);
    expect(analyze('Café naïve Straße Ærø')).toEqual(['cafe', 'naiv', 'strasse', 'aero']);
    expect(analyze('outting canned willing')).toEqual([]); // stem to stop words: out, can, will
    expect(analyze(`${'x'.repeat(39)} ${'y'.repeat(40)}`)).toEqual(['x'.repeat(39)]); // 40 bytes and more are dropped
  });

  it('takes a shortcut for all-ASCII text that gives exactly the full pipeline’s terms', () => {
    const r = mulberry32(11);
    const pieces = ['The', 'running', "don't", 'x_y', 'e-mail', 'v2.3.1', 'API', 'its', 'ours', 'TUESDAYS', '09:30', '#tag', '@user', 'a'.repeat(39), 'b'.repeat(40), '\t', '\n', '"q"', "'s", 'C++', 'naive'];
    const texts = [...SENTENCES, ...Array.from({ length: 2_000 }, (_, i) => memoryAt(3, i).content)];
    for (let i = 0; i < 500; i++) texts.push(Array.from({ length: 1 + Math.floor(r() * 12) }, () => pieces[Math.floor(r() * pieces.length)]).join(r() < 0.5 ? ' ' : ''));
    for (let i = 0; i < 300; i++) texts.push(String.fromCharCode(...Array.from({ length: 40 }, () => Math.floor(r() * 128))));
    for (const text of texts) expect(analyze(text), text).toEqual(analyzeUnicode(text));
    // Not ASCII: the full pipeline, folding and all.
    expect(analyze('Café naïve')).toEqual(analyzeUnicode('Café naïve'));
    expect(analyze('Café naïve')).toEqual(['cafe', 'naiv']);
  });

  it('adds what LanceDB’s simple tokenizer cannot: CJK as character pairs, emoji as terms, full-width forms folded', () => {
    expect(analyze('ユーザーは東京のラーメン屋が好き')).toContain('ラー');
    expect(queryTerms('ラーメン')).toEqual(['ラー', 'ーメ', 'メン']);
    expect(analyze('我喜欢吃拉面')).toEqual(['我喜', '喜欢', '欢吃', '吃拉', '拉面']);
    expect(analyze('The user ❤️ 🍣 sushi')).toEqual(['user', '❤', '🍣', 'sushi']);
    expect(analyze('Ｆａｌｃｏｎ')).toEqual(['falcon']);
    expect(analyze('नमस्ते दुनिया')).toEqual(['नमस्ते', 'दुनिया']); // combining marks stay inside words
  });
});

describe('scores match LanceDB’s own indexes on the same rows', () => {
  it('BM25 as LanceDB’s full-text index computes it, and cosine as its vector search does', async () => {
    const h = await harness();
    await h.ok('batch_remember', { memories: SENTENCES.map((content) => ({ content })) });
    const table = (await h.app.store.tableFor('agent:default'))!;
    await table.createIndex('search_text', { config: lancedb.Index.fts(ftsIndexOptions), replace: true });
    const replica = (await h.app.store.replicaFor('agent:default'))!;
    const accept = replica.predicate('agent:default', Date.now(), {});
    for (const query of ['falcon database', 'staging runs', 'user morning tea', 'deployments frozen december']) {
      const lance = new Map(
        (await table.query().fullTextSearch(query, { columns: 'search_text' }).select(['content', '_score']).limit(20).toArray()).map((r) => [String(r.content), Number(r._score)]),
      );
      const ours = new Map(replica.textSearch(queryTerms(query), 20, accept).map(({ slot, score }) => [replica.memoryAt(slot)!.content, score]));
      expect([...ours.keys()].sort(), query).toEqual([...lance.keys()].sort());
      for (const [content, score] of ours) expect(score, `${query}: ${content}`).toBeCloseTo(lance.get(content)!, 4);

      const [vector] = await h.app.embedder.embed([query]);
      const byLance = await table.vectorSearch(vector!).distanceType('cosine').select(['content', '_distance']).limit(SENTENCES.length).toArray();
      const cos = new Map(replica.vectorSearch(vector!, SENTENCES.length, accept).map(({ slot, score }) => [replica.memoryAt(slot)!.content, score]));
      for (const r of byLance) {
        const expected = 1 - Number(r._distance);
        if (expected > 0) expect(cos.get(String(r.content)), `${query}: ${r.content}`).toBeCloseTo(expected, 4);
        else expect(cos.has(String(r.content))).toBe(false);
      }
    }
  });

  it('the sparse layout (local embedder) and the dense one (every other) give the same cosines', async () => {
    const local = new LocalEmbedder();
    const vectors = await local.embed(SENTENCES);
    const sparse = vectorIndexFor('local', local.dim);
    const dense = vectorIndexFor('openai', local.dim);
    vectors.forEach((v, i) => {
      sparse.add(i, v);
      dense.add(i, v);
    });
    const alive = new Uint8Array(SENTENCES.length).fill(1);
    const [q] = await local.embed(['which database does falcon use']);
    const a = sparse.search(q!, 5, alive, () => true);
    const b = dense.search(q!, 5, alive, () => true);
    expect(a.map((x) => x.slot)).toEqual(b.map((x) => x.slot));
    a.forEach((x, i) => expect(x.score).toBeCloseTo(b[i]!.score, 4));
    // Dead slots and the filter are honoured.
    alive[a[0]!.slot] = 0;
    expect(sparse.search(q!, 5, alive, (slot) => slot !== a[1]!.slot).map((x) => x.slot)).not.toContain(a[0]!.slot);
  });
});

describe('in step with the table', () => {
  it('another process’s writes, updates and deletes are seen at the next call; compaction changes nothing', async () => {
    const dir = tempDir();
    const a = await harness({ dir });
    const b = await harness({ dir });
    await a.ok('batch_remember', { memories: [{ id: 'one', content: 'the first memory of a' }] });
    expect((await b.ok('batch_get', { ids: ['one'] })).results[0].status).toBe('ok'); // b loads its replica

    await a.ok('batch_remember', { memories: [{ id: 'two', content: 'a second memory, written by a' }] });
    await a.ok('batch_update', { updates: [{ id: 'one', content: 'the first memory of a, rewritten' }] });
    const seen = await b.ok('batch_get', { ids: ['one', 'two'] });
    expect(seen.results.map((r: { memory: { content: string } }) => r.memory.content)).toEqual(['the first memory of a, rewritten', 'a second memory, written by a']);
    const found = await b.ok('batch_search', { queries: [{ query: 'rewritten', mode: 'text' }] });
    expect(found.results[0].results[0].id).toBe('one');

    await a.ok('batch_delete', { ids: ['two'] });
    expect((await b.ok('batch_get', { ids: ['two'] })).results[0].error.code).toBe('NOT_FOUND');
    expect((await b.ok('batch_search', { queries: [{ query: 'second', mode: 'text' }] })).results[0].total).toBe(0);

    await a.app.maintainer.compactAll();
    const after = await b.ok('batch_search', { queries: [{ query: 'first memory rewritten' }] });
    expect(after.results[0].results[0].id).toBe('one');
    // The dedupe map caught up too: b sees a's content as stored.
    const dup = await b.ok('batch_remember', { memories: [{ content: 'THE FIRST MEMORY OF A, REWRITTEN' }] });
    expect(dup.results[0]).toMatchObject({ action: 'deduplicated', id: 'one' });
  });

  it('a write call checks the table version once while it holds the write lock, and sees the other process’s write made just before it', async () => {
    const dir = tempDir();
    const a = await harness({ dir });
    const b = await harness({ dir });
    await a.ok('batch_remember', { memories: [{ id: 'x', content: 'x marks the spot' }] });
    expect((await b.ok('batch_get', { ids: ['x'] })).succeeded).toBe(1); // b loads its replica
    await a.ok('batch_remember', { memories: [{ id: 'y', content: 'y is the other one' }] });

    const table = (await b.app.store.tableFor('agent:default'))!;
    const versions = vi.spyOn(table, 'version');
    const res = await b.ok('batch_remember', { memories: [{ content: 'Y is the OTHER one' }, { content: 'z is new' }] });
    expect(res.results[0]).toMatchObject({ action: 'deduplicated', id: 'y' }); // a's write, seen under the lock
    expect(res.results[1].action).toBe('created');
    // Once before the lock (what to embed) and once under it; not again for ids, hashes, write order and the commit.
    expect(versions).toHaveBeenCalledTimes(2);
    versions.mockRestore();

    // The next call checks again: a's later write is seen.
    await a.ok('batch_remember', { memories: [{ id: 'w', content: 'w was written by a afterwards' }] });
    expect((await b.ok('batch_remember', { memories: [{ content: 'W was written by a afterwards' }] })).results[0]).toMatchObject({ action: 'deduplicated', id: 'w' });
  });

  it('a batch_search checks the table version once per call, not once per query, and the next call sees another process’s write', async () => {
    const dir = tempDir();
    const a = await harness({ dir });
    const b = await harness({ dir });
    await a.ok('batch_remember', { memories: SENTENCES.map((content) => ({ content })) });
    expect((await b.ok('batch_search', { queries: [{ query: 'falcon' }] })).results[0].total).toBeGreaterThan(0); // b loads its replica

    const table = (await b.app.store.tableFor('agent:default'))!;
    const versions = vi.spyOn(table, 'version');
    const queries = ['falcon', 'standup', 'espresso', 'peanuts', 'staging', 'Maria', 'December', 'croissants', 'Dublin', 'migrations'];
    const out = await b.ok('batch_search', { queries: queries.map((query) => ({ query })) });
    expect(out.succeeded).toBe(10);
    expect(versions).toHaveBeenCalledTimes(1);

    await a.ok('batch_remember', { memories: [{ id: 'late', content: 'The zeppelin hangar opens on Sundays' }] });
    const next = await b.ok('batch_search', { queries: [{ query: 'zeppelin hangar' }, { query: 'falcon' }] });
    expect(next.results[0].results[0].id).toBe('late');
    expect(versions).toHaveBeenCalledTimes(2);
    versions.mockRestore();
  });

  it('a delete and a write by another process between two calls (same row count) are both seen', async () => {
    const dir = tempDir();
    const a = await harness({ dir });
    const b = await harness({ dir });
    await a.ok('batch_remember', { memories: [{ id: 'x', content: 'x marks the spot' }, { id: 'y', content: 'y is the other one' }] });
    expect((await b.ok('batch_get', { ids: ['x', 'y'] })).succeeded).toBe(2);
    await a.ok('batch_delete', { ids: ['x'] });
    await a.ok('batch_remember', { memories: [{ id: 'z', content: 'z came in as x left' }] });
    const got = await b.ok('batch_get', { ids: ['x', 'y', 'z'] });
    expect(got.results.map((r: { status: string }) => r.status)).toEqual(['error', 'ok', 'ok']);
  });

  it('rows written to the table by other means (no write sequence) are found when the row count tells, by a rebuild', async () => {
    const dir = tempDir();
    const a = await harness({ dir });
    await a.ok('batch_remember', { memories: [{ id: 'first', content: 'written by memlane' }] });
    expect((await a.ok('batch_get', { ids: ['first'] })).succeeded).toBe(1);
    // Another program copies a row in, with seq 0: the count rises without a newer sequence.
    const conn = await lancedb.connect(dir);
    const name = (await conn.tableNames()).find((n) => n.startsWith('memories__'))!;
    const t = await conn.openTable(name);
    const [row] = await t.query().where(`id = 'first'`).toArray();
    await t.add([{ ...row, pk: 'agent:default/copied', id: 'copied', seq: 0, tags: Array.from(row.tags), vector: Array.from(row.vector) }]);
    t.close();
    conn.close();
    expect((await a.ok('batch_get', { ids: ['copied'] })).results[0].status).toBe('ok');
  });
});
