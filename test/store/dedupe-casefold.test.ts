/**
 * Dedupe by normalised content (contract §4): NFKC, trimmed, whitespace runs
 * made one space, and Unicode full case folding (not lower-casing). Dedupe
 * looks the hash up in the in-memory replica (test/store/replica.test.ts);
 * databases written with the old lower-casing rule are migrated once at open.
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

  it('a memory another process wrote is deduplicated against at the next call', async () => {
    const dir = tempDir();
    h = await startHarness({ dir });
    await h.ok('batch_remember', { memories: [{ content: 'warm the replica first' }] });
    const other = await startHarness({ dir });
    try {
      const made = await other.ok('batch_remember', { memories: [{ content: 'Written Elsewhere' }] });
      const again = await h.ok('batch_remember', { memories: [{ content: 'WRITTEN ELSEWHERE' }] });
      expect(again.results[0]).toMatchObject({ action: 'deduplicated', id: made.results[0].id });
    } finally {
      await other.close();
    }
  });
});

describe('a database written with the old lower-casing rule', () => {
  afterEach(() => vi.restoreAllMocks());
  const oldHash = (content: string) => createHash('sha256').update(content.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase()).digest('hex');

  it('is migrated once at open: changed hashes are recomputed, and dedupe then matches old memories', async () => {
    const dir = tempDir();
    let h = await startHarness({ dir });
    const made = await h.ok('batch_remember', { memories: [{ content: 'Die Straße ist nass' }, { content: 'plain ascii text' }] });
    const [folded, plain] = made.results.map((r: any) => r.id);
    await h.close();

    // Make it look as an older memlane left it: old-rule hashes, schema version 2, no rule in meta.
    const conn = await lancedb.connect(dir);
    const [name] = (await conn.tableNames()).filter((n) => n.startsWith('memories__'));
    const table = await conn.openTable(name!);
    for (const row of await table.query().select(['pk', 'content']).toArray()) {
      await table.update({ where: `"pk" = '${String(row.pk)}'`, values: { content_hash: oldHash(String(row.content)) } });
    }
    const meta = await conn.openTable('meta');
    await meta.delete(`"key" = 'content_hash_rule'`);
    await meta.update({ where: `"key" = 'schema_version'`, values: { value: '2' } });
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
