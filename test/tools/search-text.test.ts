/**
 * The text block of batch_search (issue 10, point 5): hits without the fields
 * that hold their default or null, `fields` for exactly what the caller asks,
 * and structuredContent complete and valid all the same.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { hitSchema } from '../../src/tools/search.js';
import { startHarness } from '../helpers/harness.js';
import { expectItemError, fromTextBlock, search, textOf, uniqueWord, useHarness } from './_helpers.js';

const SHORT = [
  'likes espresso',
  'is allergic to peanuts',
  'has standup at 09:30',
  'deploys on Tuesdays',
  'uses PostgreSQL 16',
  'lives in Lyon',
  'has a cat named Miso',
  'prefers dark mode',
  'runs on Saturdays',
  'reads sci-fi',
];

const textJson = (text: string) => JSON.parse(text.slice(text.indexOf('\n') + 1));

describe('the search text block', () => {
  const h = useHarness();

  it('10 hits of short memories cost at most 1.5 KB of text, and structuredContent holds every field of every hit', async () => {
    // A database of its own: these ten are all there is to find.
    const own = await startHarness();
    await own.ok('batch_remember', { memories: SHORT.map((s) => ({ content: `The user ${s}.` })) });
    const res = await own.call('batch_search', { queries: [{ query: 'user' }] });
    await own.close();
    const text = textOf(res);
    const s = res.structuredContent as any;
    expect(s.results[0].results).toHaveLength(10);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1536);
    for (const hit of s.results[0].results) expect(hitSchema.strict().parse(hit)).toEqual(hit);
    // The text leaves out defaults and nothing else: put back, it is structuredContent.
    expect(fromTextBlock(textJson(text), s)).toEqual(s);
    const first = textJson(text).results[0].results[0];
    expect(Object.keys(first).sort()).toEqual(['content', 'id', 'score']);
  });

  it('a hit keeps in the text every field that differs from its default, and the envelope its non-zero counts', async () => {
    const w = uniqueWord();
    const out = await h().ok('batch_remember', {
      memories: [{ content: `${w} special`, type: 'preference', title: 'T', tags: ['a'], metadata: { k: 1 }, confidence: 0.3, importance: 0.9, pinned: true, immutable: true, ttl_seconds: 3600 }],
    });
    const id = out.results[0].id;
    const res = await h().call('batch_search', { queries: [{ query: w, mode: 'text' }, { query: ' ' }] });
    const brief = textJson(textOf(res));
    expect(brief).toMatchObject({ failed: 1, agent_id: 'default' });
    expect(brief.namespace).toBeUndefined();
    expect(brief.skipped).toBeUndefined();
    expect(brief.validate_only).toBeUndefined();
    const hit = brief.results[0].results.find((x: any) => x.id === id);
    expect(hit).toMatchObject({ id, type: 'preference', title: 'T', tags: ['a'], metadata: { k: 1 }, confidence: 0.3, importance: 0.9, pinned: true, immutable: true });
    expect(typeof hit.expires_at).toBe('string');
    expect(fromTextBlock(brief, res.structuredContent)).toEqual(res.structuredContent);
  });

  it('fields returns exactly the asked fields of each hit in the text, default or not; structuredContent stays whole', async () => {
    const w = uniqueWord();
    await h().ok('batch_remember', { memories: [{ content: `${w} one` }, { content: `${w} two`, tags: ['x'] }] });
    const res = await h().call('batch_search', { queries: [{ query: w, mode: 'text', fields: ['id', 'content', 'score', 'tags'] }, { query: w, mode: 'text', limit: 1 }] });
    const brief = textJson(textOf(res));
    for (const hit of brief.results[0].results) expect(Object.keys(hit)).toEqual(['id', 'content', 'score', 'tags']);
    const mine = brief.results[0].results.filter((x: any) => x.content.startsWith(w));
    expect(mine.map((x: any) => x.tags).sort()).toEqual([[], ['x']]);
    // The other query of the call is briefed the default way: no bookkeeping, no empty tags.
    for (const x of brief.results[1].results) {
      expect(x.created_at).toBeUndefined();
      if (x.tags !== undefined) expect(x.tags.length).toBeGreaterThan(0);
    }
    const s = res.structuredContent as any;
    for (const hit of s.results[0].results) expect(() => hitSchema.strict().parse(hit)).not.toThrow();
    expect(s.results[0].results.map((x: any) => x.id)).toEqual(brief.results[0].results.map((x: any) => x.id));
  });

  it('fields with context: neighbours only where asked, and a hit without neighbours gets none', async () => {
    const w = uniqueWord();
    await h().ok('batch_remember', { memories: [{ content: `before ${uniqueWord()}` }, { content: `${w} middle` }, { content: `after ${uniqueWord()}` }] });
    const res = await h().call('batch_search', { queries: [{ query: w, mode: 'text', context: 1, fields: ['content', 'context'] }] });
    const hit = textJson(textOf(res)).results[0].results.find((x: any) => x.content === `${w} middle`);
    expect(hit.context.map((n: any) => n.content)).toHaveLength(2);
    const none = await h().call('batch_search', { queries: [{ query: w, mode: 'text', fields: ['id', 'context'] }] });
    for (const x of textJson(textOf(none)).results[0].results) expect(Object.keys(x)).toEqual(['id']);
  });

  it('a misspelt, empty or repeated-past-the-limit fields list fails that query alone', async () => {
    const out = await search(h(), [
      { query: 'x', fields: ['id', 'contents'] },
      { query: 'x', fields: [] },
      { query: 'x', fields: 'id' },
      { query: 'x', fields: ['id'] },
    ]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].fields[1]');
    expect(out.results[0].error.message).toMatch(/"id"/);
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].fields');
    expectItemError(out, 2, 'VALIDATION_ERROR', 'queries[2].fields');
    expect(out.results[3].status).toBe('ok');
  });

  it('fields asks for the bookkeeping too: created_at, session_id, version appear when named', async () => {
    const w = uniqueWord();
    await h().ok('batch_remember', { memories: SHORT.map((s) => ({ content: `${s} ${w}` })) });
    const res = await h().call('batch_search', { queries: [{ query: w, fields: ['id', 'created_at', 'session_id', 'version'] }] });
    const s = res.structuredContent as any;
    const hits = textJson(textOf(res)).results[0].results;
    expect(hits).toEqual(s.results[0].results.map((x: any) => ({ id: x.id, created_at: x.created_at, session_id: x.session_id, version: 1 })));
  });

  it('fields: ["id", "content", "score"] of 10 hits fits the budget too, every hit exactly those three', async () => {
    const w = uniqueWord();
    await h().ok('batch_remember', { memories: SHORT.map((s) => ({ content: `${s} ${w}` })) });
    const res = await h().call('batch_search', { queries: [{ query: w, fields: ['id', 'content', 'score'] }] });
    expect(Buffer.byteLength(textOf(res))).toBeLessThanOrEqual(1536);
    expect(z.array(z.object({ id: z.string(), content: z.string(), score: z.number() }).strict()).parse(textJson(textOf(res)).results[0].results)).toHaveLength(10);
  });
});
