import { describe, expect, it } from 'vitest';
import { expectItemError, get, getOne, idsContaining, remember, rememberOne, search, searchIds, sleep, uniqueWord, update, useHarness } from './_helpers.js';

describe('edge cases across tools', () => {
  const h = useHarness();

  describe('dedupe and upsert in the same call', () => {
    it('content written by an upsert earlier in the call deduplicates a later item with the same content', async () => {
      const w = uniqueWord();
      const id = await rememberOne(h(), { id: `up-dd-${w}`, content: `${w} old content` });
      const out = await remember(h(), [{ id, content: `${w} new content` }, { content: `${w} NEW content` }]);
      expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated', id });
      // Contract §4: "same normalised content … already stored in the namespace, or earlier in this call".
      expect(out.results[1], JSON.stringify(out.results[1])).toMatchObject({ status: 'ok', action: 'deduplicated', id });
      expect(await idsContaining(h(), `${w} new`, 'text')).toEqual([id]);
    });

    it('an upsert that replaces content X does not make a later item with content X "deduplicate" into it (no content is lost)', async () => {
      const w = uniqueWord();
      const id = await rememberOne(h(), { id: `up-lost-${w}`, content: `${w} content x` });
      const out = await remember(h(), [{ id, content: `${w} content y` }, { content: `${w} content x` }]);
      expect(out.results[0]).toMatchObject({ status: 'ok', action: 'updated', id });
      // After item 0, no memory holds "content x" any more; item 1 must store it.
      const second = out.results[1];
      expect(second, JSON.stringify(second)).toMatchObject({ status: 'ok', action: 'created' });
      expect(second.id).not.toBe(id);
      expect((await getOne(h(), second.id)).content).toBe(`${w} content x`);
    });
  });

  describe('concurrent calls', () => {
    it('concurrent remembers of the same content store it once', async () => {
      const w = uniqueWord();
      const outs = await Promise.all([0, 1, 2, 3, 4].map(() => remember(h(), [{ content: `${w} raced content` }])));
      const results = outs.map((o) => o.results[0]);
      expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
      expect(results.filter((r) => r.action === 'deduplicated')).toHaveLength(4);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(await idsContaining(h(), w)).toEqual([results[0].id]);
    });

    it('concurrent upserts of one client id make one row and versions 1…n', async () => {
      const w = uniqueWord();
      const id = `race-${w}`;
      const outs = await Promise.all([0, 1, 2, 3, 4].map((i) => remember(h(), [{ id, content: `${w} racer ${i}` }])));
      const versions = outs.map((o) => o.results[0].version).sort();
      expect(versions).toEqual([1, 2, 3, 4, 5]);
      expect(outs.filter((o) => o.results[0].action === 'created')).toHaveLength(1);
      expect(await idsContaining(h(), w)).toEqual([id]);
      expect((await getOne(h(), id)).version).toBe(5);
    });

    it('concurrent updates with the same expected_version: exactly one wins', async () => {
      const id = await rememberOne(h(), { content: `cas ${uniqueWord()}` });
      const outs = await Promise.all([0, 1, 2, 3].map((i) => update(h(), [{ id, importance: i / 10, expected_version: 1 }])));
      const statuses = outs.map((o) => o.results[0].status);
      expect(statuses.filter((s) => s === 'ok')).toHaveLength(1);
      expect(outs.filter((o) => o.results[0].error?.code === 'VERSION_CONFLICT')).toHaveLength(3);
      expect((await getOne(h(), id)).version).toBe(2);
    });
  });

  describe('expiry and reuse', () => {
    it('after expiry: update and delete report NOT_FOUND, and the client id can be remembered afresh at version 1', async () => {
      const w = uniqueWord();
      const id = `exp-${w}`;
      await rememberOne(h(), { id, content: `${w} soon gone`, ttl_seconds: 1 });
      await sleep(1_150);
      expectItemError(await update(h(), [{ id, importance: 1 }]), 0, 'NOT_FOUND');
      expectItemError(await h().ok('batch_delete', { ids: [id] }), 0, 'NOT_FOUND');
      const out = await remember(h(), [{ id, content: `${w} back again` }]);
      expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created', version: 1, id });
      expect(await idsContaining(h(), w)).toEqual([id]);
    });
  });

  describe('what the full-text index sees', () => {
    it('text search also matches the title and short metadata strings, and follows their updates', async () => {
      const tw = uniqueWord('tt');
      const mw = uniqueWord('mm');
      const id = await rememberOne(h(), { content: `an ordinary sentence ${uniqueWord()}`, title: `${tw} heading`, metadata: { place: `${mw} city` } });
      expect(await searchIds(h(), { query: tw, mode: 'text', limit: 1 })).toEqual([id]);
      expect(await searchIds(h(), { query: mw, mode: 'text', limit: 1 })).toEqual([id]);
      await update(h(), [{ id, title: null, metadata: { place: null } }]);
      expect(await searchIds(h(), { query: tw, mode: 'text', limit: 100 })).not.toContain(id);
      expect(await searchIds(h(), { query: mw, mode: 'text', limit: 100 })).not.toContain(id);
    });
  });

  describe('content without words', () => {
    it('content of only stop words, emoji or punctuation is stored, found by get, and does not break searches', async () => {
      const out = await remember(h(), [{ content: 'it is what it is' }, { content: '🙂🙂🙂' }, { content: '?!...' }, { content: `normal words ${uniqueWord()}` }]);
      expect(out.results.map((r: any) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      const g = await get(h(), out.results.map((r: any) => r.id));
      expect(g.results.map((r: any) => r.memory.content).slice(0, 3)).toEqual(['it is what it is', '🙂🙂🙂', '?!...']);
      for (const mode of ['vector', 'hybrid', 'text']) {
        const s = await search(h(), [{ query: 'normal words', mode }, { query: 'it is what it is', mode }, { query: '🙂', mode }]);
        for (const r of s.results) {
          expect(r.status, `${mode} ${JSON.stringify(r)}`).toBe('ok');
          for (const hit of r.results) {
            expect(Number.isFinite(hit.score)).toBe(true);
            expect(hit.score).toBeGreaterThanOrEqual(0);
            expect(hit.score).toBeLessThanOrEqual(1);
          }
        }
        expect(s.results[0].results[0]?.id, mode).toBe(out.results[3].id);
      }
    });
  });

  describe('metadata round trip', () => {
    it('metadata keeps every JSON type, unicode and odd keys exactly', async () => {
      const metadata = JSON.parse(
        '{"s":"naïve 日本語 \\u2028 \\"q\\"","n":-1.5e3,"i":0,"b":false,"nil":null,"arr":[1,"a",{"x":null}],"o":{"deep":{"er":[true]}},"":"empty key","with space":1,"a.b":2}',
      );
      const id = await rememberOne(h(), { content: `meta types ${uniqueWord()}`, metadata });
      const m = await getOne(h(), id);
      expect(JSON.stringify(m.metadata)).toBe(JSON.stringify(metadata));
      expect(({} as any).polluted).toBeUndefined();
    });

    it('a metadata key "__proto__" on remember is refused with VALIDATION_ERROR naming it, pollutes nothing, and the rest of the call runs', async () => {
      const w = uniqueWord();
      const metadata = JSON.parse('{"__proto__":{"polluted":true},"b":2}');
      const out = await remember(h(), [{ content: `proto remember ${w}`, metadata }, { content: `proto neighbour ${w}`, metadata: { b: 2 } }]);
      expect(({} as any).polluted).toBeUndefined();
      expectItemError(out, 0, 'VALIDATION_ERROR', 'memories[0].metadata.__proto__');
      expect(out.results[1]).toMatchObject({ status: 'ok', action: 'created' });
      expect(await idsContaining(h(), `proto remember ${w}`)).toEqual([]);
    });

    it('a merge patch with a "__proto__" key is refused with VALIDATION_ERROR naming it, and the memory is unchanged', async () => {
      const id = await rememberOne(h(), { content: `proto patch ${uniqueWord()}`, metadata: { a: 1 } });
      const patch = JSON.parse('{"__proto__":{"polluted":true},"b":2}');
      const out = await update(h(), [{ id, metadata: patch }]);
      expect(({} as any).polluted).toBeUndefined();
      expectItemError(out, 0, 'VALIDATION_ERROR', 'updates[0].metadata.__proto__');
      expect(await getOne(h(), id)).toMatchObject({ metadata: { a: 1 }, version: 1 });
    });
  });
});
