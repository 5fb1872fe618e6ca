/**
 * Friendlier inputs (issue 10, point 7): plain dates as search bounds, "object"
 * where zod says "record", no ids of memories never written, and imports of
 * lines in batch_remember's shape. Through the real MCP client.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importFile } from '../../src/commands/transfer.js';
import { startHarness, tempDir, type Harness } from '../helpers/harness.js';
import { expectItemError, get, getOne, remember, search, update, uniqueWord } from './_helpers.js';

let harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses) await h.close();
  harnesses = [];
});
const fresh = async () => {
  const h = await startHarness();
  harnesses.push(h);
  return h;
};

/** Imports these lines (objects, or raw text) into the harness's database; returns the counts and the reported lines. */
async function importLines(h: Harness, lines: unknown[], agent?: string) {
  const file = join(tempDir(), 'in.jsonl');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  const reported: Array<[number, string]> = [];
  const result = await importFile(h.app, file, agent, (line, reason) => reported.push([line, reason]));
  return { ...result, reported };
}

describe('search time bounds take plain dates', () => {
  const times = ['2026-12-01T23:59:59.999Z', '2026-12-02T00:00:00.000Z', '2026-12-02T12:00:00.000Z', '2026-12-02T23:59:59.999Z', '2026-12-03T00:00:00.000Z'];

  async function seeded() {
    const h = await fresh();
    const w = uniqueWord();
    const session = h.app.config.defaultAgent;
    const sessionId = (await h.ok('batch_remember', { memories: [{ content: `${w} anchor` }] })).session_id;
    const lines = times.map((t, i) => ({
      id: `t${i}`, content: `${w} at ${t}`, type: 'fact', title: null, tags: [], metadata: {}, confidence: 0.8, importance: 0.5, source: 'agent',
      provenance: 'explicit_statement', pinned: false, immutable: false, expires_at: null, agent_id: session, namespace: `agent:${session}`,
      session_id: sessionId, created_at: t, updated_at: t, version: 1,
    }));
    expect((await importLines(h, lines)).imported).toBe(5);
    const ids = async (filter: Record<string, unknown>) =>
      (await search(h, [{ query: w, mode: 'text', limit: 20, filter }])).results[0].results.map((r: any) => r.id).filter((id: string) => id.startsWith('t')).sort();
    return { h, ids };
  }

  it('a plain date names a whole UTC day, included at both ends; both bounds together give that day', async () => {
    const { ids } = await seeded();
    expect(await ids({ created_after: '2026-12-02', created_before: '2026-12-02' })).toEqual(['t1', 't2', 't3']);
    expect(await ids({ created_after: '2026-12-02' })).toEqual(['t1', 't2', 't3', 't4']);
    expect(await ids({ created_before: '2026-12-02' })).toEqual(['t0', 't1', 't2', 't3']);
    expect(await ids({ created_after: '2026-12-03', created_before: '2026-12-01' })).toEqual([]);
  });

  it('a date-time bound stays strict, with or without an offset', async () => {
    const { ids } = await seeded();
    expect(await ids({ created_after: '2026-12-02T00:00:00.000Z', created_before: '2026-12-02T23:59:59.999Z' })).toEqual(['t2']);
    expect(await ids({ created_after: '2026-12-02T13:00:00+01:00' })).toEqual(['t3', 't4']);
  });

  it('a malformed or impossible date fails that query alone, naming the field and both accepted forms', async () => {
    const h = await fresh();
    const out = await search(h, [
      { query: 'x', filter: { created_after: '2026-02-30' } },
      { query: 'x', filter: { created_before: '2026-12-2' } },
      { query: 'x', filter: { created_after: '12/02/2026' } },
      { query: 'x', filter: { created_before: '2026-12-02T25:00:00Z' } },
      { query: 'x', filter: { created_after: 20261202 } },
      { query: 'x', filter: { created_after: '2026-12-02' } },
    ]);
    expectItemError(out, 0, 'VALIDATION_ERROR', 'queries[0].filter.created_after');
    expect(out.results[0].error.message).toBe('queries[0].filter.created_after: must be a date (2026-12-02) or an ISO-8601 date-time (2026-12-02T09:30:00Z)');
    expectItemError(out, 1, 'VALIDATION_ERROR', 'queries[1].filter.created_before');
    expectItemError(out, 2, 'VALIDATION_ERROR', 'queries[2].filter.created_after');
    expectItemError(out, 3, 'VALIDATION_ERROR', 'queries[3].filter.created_before');
    expectItemError(out, 4, 'VALIDATION_ERROR', 'queries[4].filter.created_after');
    expect(out.results[5].status).toBe('ok');
  });
});

describe('error messages say "object" where zod says "record"', () => {
  it('metadata and a metadata filter that are not objects', async () => {
    const h = await fresh();
    const r = await remember(h, [{ content: 'm', metadata: 'not an object' }, { content: 'n', metadata: [1] }]);
    for (const i of [0, 1]) {
      expectItemError(r, i, 'VALIDATION_ERROR', `memories[${i}].metadata`);
      expect(r.results[i].error.message).toMatch(/expected object/);
      expect(r.results[i].error.message).not.toMatch(/record/);
    }
    const u = await update(h, [{ id: 'x', metadata: 7 }]);
    expect(u.results[0].error.message).toMatch(/expected object, received number/);
    const s = await search(h, [{ query: 'x', filter: { metadata: 'p' } }]);
    expect(s.results[0].error.message).toMatch(/filter\.metadata: .*expected object/);
    expect(s.results[0].error.message).not.toMatch(/record/);
  });
});

describe('items that are never written report no ids', () => {
  it('atomic: skipped creations carry no id (server-made or the caller\'s), and nothing is written', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const out = await remember(h, [{ content: `${w} a` }, { id: `own-${w}`, content: `${w} b` }, { content: '' }], { options: { atomic: true } });
    expect(out.results.map((r: any) => r.status)).toEqual(['skipped', 'skipped', 'error']);
    expect(out.results[0].id).toBeUndefined();
    expect(out.results[1].id).toBeUndefined();
    expect(await getOne(h, `own-${w}`)).toBeUndefined();
    expect((await search(h, [{ query: w, mode: 'text' }])).results[0].results.filter((x: any) => x.content.startsWith(w))).toEqual([]);
  });

  it('atomic: a skipped update, upsert or dedupe names the memory it would have touched, which exists', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const first = await remember(h, [{ id: `keep-${w}`, content: `${w} kept` }]);
    expect(first.results[0].action).toBe('created');
    const out = await remember(h, [{ id: `keep-${w}`, content: `${w} kept`, pinned: true }, { content: `${w} kept` }, { content: '' }], { options: { atomic: true } });
    expect(out.results.map((r: any) => [r.status, r.id])).toEqual([['skipped', `keep-${w}`], ['skipped', `keep-${w}`], ['error', undefined]]);
    const u = await update(h, [{ id: `keep-${w}`, pinned: true }, { id: 'missing-one', pinned: true }], { options: { atomic: true } });
    expect(u.results.map((r: any) => [r.status, r.id])).toEqual([['skipped', `keep-${w}`], ['error', 'missing-one']]);
    expect((await getOne(h, `keep-${w}`)).content).toBe(`${w} kept`);
  });

  it('continue_on_error false: creations skipped after the failure carry no id either; those before it are written with theirs', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const out = await remember(h, [{ content: `${w} 1` }, { content: '' }, { content: `${w} 3` }], { options: { continue_on_error: false } });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect((await get(h, [out.results[0].id])).results[0].status).toBe('ok');
    expect(out.results[2].status).toBe('skipped');
    expect(out.results[2].id).toBeUndefined();
  });
});

describe('memlane import takes batch_remember items as well as exported lines', () => {
  it('only content required, the same defaults, dedupe and upsert by id; bad lines named by number', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const res = await importLines(h, [
      { content: `${w} plain` },
      { content: `${w} tagged`, tags: ['t'], importance: 0.9, type: 'preference' },
      { id: `mine-${w}`, content: `${w} with my id`, ttl_seconds: 3600 },
      { content: '' },
      { contnet: `${w} misspelt` },
      { content: `${w} plain` },
      'not json',
      '[1, 2]',
      { content: `${w} bad confidence`, confidence: 7 },
    ]);
    expect(res).toMatchObject({ imported: 3, unchanged: 1, failed: 5 });
    expect(res.reported.map(([line]) => line).sort((a, b) => a - b)).toEqual([4, 5, 7, 8, 9]);
    const byLine = new Map(res.reported);
    expect(byLine.get(4)).toMatch(/^VALIDATION_ERROR: content: content must not be empty \(field: content\)$/);
    expect(byLine.get(5)).toMatch(/unknown field "contnet"/);
    expect(byLine.get(7)).toMatch(/not JSON/);
    expect(byLine.get(8)).toMatch(/must be a JSON object/);
    expect(byLine.get(9)).toMatch(/confidence/);

    const hits = (await search(h, [{ query: w, mode: 'text', limit: 10 }])).results[0].results.filter((x: any) => x.content.startsWith(w));
    expect(hits.map((x: any) => x.content).sort()).toEqual([`${w} plain`, `${w} tagged`, `${w} with my id`]);
    const plain = await getOne(h, hits.find((x: any) => x.content === `${w} plain`).id);
    expect(plain).toMatchObject({ type: 'fact', tags: [], metadata: {}, confidence: 0.8, importance: 0.5, source: 'agent', provenance: 'explicit_statement', pinned: false, immutable: false, expires_at: null, version: 1, agent_id: 'default' });
    expect(plain.id).toMatch(/^mem_/);
    expect(await getOne(h, hits.find((x: any) => x.content === `${w} tagged`).id)).toMatchObject({ tags: ['t'], importance: 0.9, type: 'preference' });
    const mine = await getOne(h, `mine-${w}`);
    expect(Date.parse(mine.expires_at) - Date.parse(mine.created_at)).toBe(3_600_000);
    // Its own session, ended when the import ended: no live token is left behind.
    const sessions = await h.app.sessions.list('default');
    const imported = sessions.find((s) => s.session_id === plain.session_id)!;
    expect(imported).toMatchObject({ origin: 'import' });
    expect(imported.revoked_at).not.toBeNull();
  });

  it('importing the same batch_remember lines twice changes nothing', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const lines = [{ content: `${w} one` }, { id: `fixed-${w}`, content: `${w} two`, tags: ['a'] }];
    expect(await importLines(h, lines)).toMatchObject({ imported: 2, unchanged: 0, failed: 0 });
    expect(await importLines(h, lines)).toMatchObject({ imported: 0, unchanged: 2, failed: 0 });
    expect((await getOne(h, `fixed-${w}`)).version).toBe(1);
    // A changed line with the same id is an upsert, as in batch_remember.
    expect(await importLines(h, [{ id: `fixed-${w}`, content: `${w} two, changed` }])).toMatchObject({ imported: 1 });
    expect(await getOne(h, `fixed-${w}`)).toMatchObject({ version: 2, content: `${w} two, changed`, tags: [] });
  });

  it('--agent puts batch_remember lines into that agent; both kinds of line in one file', async () => {
    const h = await fresh();
    const w = uniqueWord();
    const exported = (await h.ok('batch_remember', { memories: [{ content: `${w} exported` }] })).results[0].id;
    const line = { ...(await getOne(h, exported)), ord: 1 };
    const res = await importLines(h, [{ content: `${w} for bob` }, line], 'bob');
    expect(res).toMatchObject({ imported: 2, failed: 0 });
    const bob = await h.app.sessions.create('bob');
    const found = (await search(h, [{ query: w, mode: 'text' }], { session_token: bob.token })).results[0].results.map((x: any) => x.content).sort();
    expect(found).toEqual([`${w} exported`, `${w} for bob`]);
  });
});
