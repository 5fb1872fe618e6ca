/**
 * Dedupe by normalised content (contract §4): NFKC, trimmed, whitespace runs
 * made one space, and Unicode full case folding (not lower-casing). The
 * content hash has a BTREE index, so dedupe is an index lookup; databases
 * written with the old lower-casing rule or without the index are upgraded
 * once at open.
 */
import * as lancedb from '@lancedb/lancedb';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log } from '../../src/log.js';
import { CONTENT_HASH_RULE, contentHash, normalizeContent } from '../../src/store/text.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

describe('normalised content is case-folded', () => {
  it.each([
    ['Die Straße', 'DIE STRASSE', 'German ß and SS'],
    ['DIE STRAẞE', 'die strasse', 'capital ẞ'],
    ['ΟΔΟΣ', 'οδοσ', 'Greek capital sigma and medial sigma'],
    ['οδος', 'ΟΔΟΣ', 'Greek final sigma'],
    ['ﬁnal ﬂight', 'FINAL FLIGHT', 'ligatures ﬁ ﬂ (NFKC) and case'],
    ['ſtop', 'STOP', 'long s'],
    ['İstanbul', 'i\u0307stanbul', 'Turkish capital İ folds to i + combining dot'],
    ['ISTANBUL', 'istanbul', 'plain I'],
    ['  many   spaces\there ', 'MANY SPACES HERE', 'whitespace runs and trimming'],
  ])('%s ≡ %s (%s)', (a, b) => {
    expect(normalizeContent(a)).toBe(normalizeContent(b));
    expect(contentHash(a)).toBe(contentHash(b));
  });

  it.each([
    ['ıstanbul', 'istanbul', 'dotless ı is its own letter (no Turkic folding)'],
    ['İstanbul', 'istanbul', 'İ keeps its dot'],
    ['resume', 'résumé', 'accents are not folded'],
  ])('%s ≢ %s (%s)', (a, b) => {
    expect(contentHash(a)).not.toBe(contentHash(b));
  });
});

describe('dedupe through batch_remember', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await h?.close();
    h = undefined;
  });

  it('case variants that only full case folding equates are deduplicated, in one call and across calls', async () => {
    h = await startHarness();
    const out = await h.ok('batch_remember', {
      memories: [{ content: 'Die Straße ist nass' }, { content: 'DIE STRASSE IST NASS' }, { content: 'ΟΔΟΣ ΚΑΙ ΝΟΣΤΟΣ' }, { content: 'ıstanbul' }, { content: 'istanbul' }],
    });
    expect(out.results.map((r: any) => r.action)).toEqual(['created', 'deduplicated', 'created', 'created', 'created']);
    expect(out.results[1].id).toBe(out.results[0].id);
    const later = await h.ok('batch_remember', { memories: [{ content: 'die straẞe ist nass' }, { content: 'οδος και νοστος' }, { content: 'ISTANBUL' }] });
    expect(later.results.map((r: any) => [r.action, r.id])).toEqual([
      ['deduplicated', out.results[0].id],
      ['deduplicated', out.results[2].id],
      ['deduplicated', out.results[4].id],
    ]);
  });

  it('a new memories table has a BTREE index on content_hash, and once maintenance has folded the rows in, the dedupe lookup uses it', async () => {
    h = await startHarness();
    await h.ok('batch_remember', { memories: [{ content: 'indexed content' }] });
    const table = (await h.app.store.tableFor('agent:default'))!;
    const indexes = await table.listIndices();
    expect(indexes.filter((i) => i.columns.join() === 'content_hash').map((i) => i.indexType)).toEqual(['BTree']);
    const plan = () => h!.app.store.contentHashQuery(table, 'agent:default', [contentHash('indexed content')], Date.now()).explainPlan();
    // Rows written since the last maintenance are scanned (they are not in the index yet)…
    expect(await plan()).not.toMatch(/ScalarIndexQuery/);
    await h.app.maintainer.compactAll();
    // …and after it, the lookup is an index query.
    expect(await plan()).toMatch(/ScalarIndexQuery: .*content_hash.*BTree/);
    expect((await h.ok('batch_remember', { memories: [{ content: 'INDEXED CONTENT' }] })).results[0].action).toBe('deduplicated');
  });
});

describe('a database written with the old lower-casing rule and without the hash index', () => {
  afterEach(() => vi.restoreAllMocks());
  const oldHash = (content: string) => createHash('sha256').update(content.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase()).digest('hex');

  it('is upgraded once at open: the index is added, changed hashes are recomputed, and dedupe then matches old memories', async () => {
    const dir = tempDir();
    let h = await startHarness({ dir });
    const made = await h.ok('batch_remember', { memories: [{ content: 'Die Straße ist nass' }, { content: 'plain ascii text' }] });
    const [folded, plain] = made.results.map((r: any) => r.id);
    await h.close();

    // Make it look as an older memlane left it: old-rule hashes, no index on content_hash, no rule in meta.
    const conn = await lancedb.connect(dir);
    const [name] = (await conn.tableNames()).filter((n) => n.startsWith('memories__'));
    const table = await conn.openTable(name!);
    for (const row of await table.query().select(['pk', 'content']).toArray()) {
      await table.update({ where: `"pk" = '${String(row.pk)}'`, values: { content_hash: oldHash(String(row.content)) } });
    }
    const hashIndex = (await table.listIndices()).find((i) => i.columns.join() === 'content_hash')!;
    await table.dropIndex(hashIndex.name);
    const meta = await conn.openTable('meta');
    await meta.delete(`"key" = 'content_hash_rule'`);
    expect(oldHash('Die Straße ist nass')).not.toBe(contentHash('Die Straße ist nass'));
    expect(oldHash('plain ascii text')).toBe(contentHash('plain ascii text'));

    const infos: string[] = [];
    vi.spyOn(log, 'info').mockImplementation((m: string) => void infos.push(m));
    h = await startHarness({ dir });
    try {
      await table.checkoutLatest();
      await meta.checkoutLatest();
      expect(infos).toContain('recomputed the content hash of 1 memories for case-folded dedupe');
      const hashes = new Map((await table.query().select(['id', 'content_hash']).toArray()).map((r) => [String(r.id), String(r.content_hash)]));
      expect(hashes.get(folded)).toBe(contentHash('Die Straße ist nass'));
      expect(hashes.get(plain)).toBe(contentHash('plain ascii text'));
      expect((await table.listIndices()).filter((i) => i.columns.join() === 'content_hash').map((i) => i.indexType)).toEqual(['BTree']);
      expect((await meta.query().where(`"key" = 'content_hash_rule'`).toArray()).map((r) => r.value)).toEqual([CONTENT_HASH_RULE]);
      const again = await h.ok('batch_remember', { memories: [{ content: 'DIE STRASSE IST NASS' }] });
      expect(again.results[0]).toMatchObject({ action: 'deduplicated', id: folded });
    } finally {
      await h.close();
    }

    // Once: the next open finds nothing to do and writes nothing.
    await table.checkoutLatest();
    await meta.checkoutLatest();
    const versions = (await table.listVersions()).length;
    const metaVersions = (await meta.listVersions()).length;
    infos.length = 0;
    h = await startHarness({ dir });
    await h.close();
    await table.checkoutLatest();
    await meta.checkoutLatest();
    expect(infos.filter((m) => m.startsWith('recomputed'))).toEqual([]);
    expect((await table.listVersions()).length).toBe(versions);
    expect((await meta.listVersions()).length).toBe(metaVersions);
    table.close();
    meta.close();
    conn.close();
  });
});
