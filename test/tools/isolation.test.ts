import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/commands/transfer.js';
import { WALL_VARIANTS } from '../helpers/walls.js';
import { del, expectItemError, get, getOne, remember, search, uniqueWord, update, useHarness } from './_helpers.js';

describe.each(WALL_VARIANTS)('isolation between agents: $name', ({ removeWall }) => {
  const h = useHarness({ ...(removeWall && { removeWall }) });
  const W = uniqueWord('iso');
  let bob: { session_token: string };
  const ids = [`shared-${W}-1`, `shared-${W}-2`];
  let aliceOnly: string;

  beforeAll(async () => {
    bob = { session_token: (await h().app.sessions.create('bob')).token };
    const a = await remember(h(), [
      { id: ids[0], content: `${W} the vault code is alice` },
      { id: ids[1], content: `${W} shared words in both`, tags: ['t'], metadata: { owner: 'x' } },
    ]);
    expect(a.results.map((r: any) => r.action)).toEqual(['created', 'created']);
    const b = await remember(h(), [
      { id: ids[0], content: `${W} the vault code is bob` },
      { id: ids[1], content: `${W} shared words in both`, tags: ['t'], metadata: { owner: 'x' } },
    ], bob);
    expect(b.agent_id).toBe('bob');
    expect(b.namespace).toBe('agent:bob');
    // Same ids and even the same content: both created, dedupe does not cross namespaces.
    expect(b.results.map((r: any) => r.action)).toEqual(['created', 'created']);
    aliceOnly = (await remember(h(), [{ id: `alice-only-${W}`, content: `${W} only alice has this` }])).results[0].id;
  });

  it('each agent sees only its own memory under the same client id', async () => {
    const a = await get(h(), ids);
    const b = await get(h(), ids, bob);
    expect(a.results[0].memory).toMatchObject({ content: `${W} the vault code is alice`, agent_id: 'default', namespace: 'agent:default' });
    expect(b.results[0].memory).toMatchObject({ content: `${W} the vault code is bob`, agent_id: 'bob', namespace: 'agent:bob' });
    expect(b.results[1].memory.session_id).not.toBe(a.results[1].memory.session_id);
  });

  it("bob's get, update and delete of an id only alice has are NOT_FOUND, worded like a truly missing id", async () => {
    const missing = `never-existed-${W}`;
    const g = await get(h(), [aliceOnly, missing], bob);
    expectItemError(g, 0, 'NOT_FOUND', 'ids[0]');
    expectItemError(g, 1, 'NOT_FOUND', 'ids[1]');
    expect(g.results[0].error.message.replace(aliceOnly, 'ID')).toBe(g.results[1].error.message.replace(missing, 'ID'));
    expect(Object.keys(g.results[0]).sort()).toEqual(Object.keys(g.results[1]).sort());

    const u = await update(h(), [{ id: aliceOnly, content: 'hijacked' }, { id: missing, content: 'hijacked' }], bob);
    expectItemError(u, 0, 'NOT_FOUND', 'updates[0].id');
    expectItemError(u, 1, 'NOT_FOUND', 'updates[1].id');
    expect(u.results[0].error.message.replace(aliceOnly, 'ID')).toBe(u.results[1].error.message.replace(missing, 'ID'));

    const d = await del(h(), [aliceOnly, missing], { ...bob, options: { force: true } });
    expectItemError(d, 0, 'NOT_FOUND', 'ids[0]');
    expectItemError(d, 1, 'NOT_FOUND', 'ids[1]');
    expect(d.results[0].error.message.replace(aliceOnly, 'ID')).toBe(d.results[1].error.message.replace(missing, 'ID'));

    expect(await getOne(h(), aliceOnly)).toMatchObject({ content: `${W} only alice has this`, version: 1 });
  });

  it("an immutable memory of alice's is NOT_FOUND (not IMMUTABLE) for bob", async () => {
    const id = `alice-frozen-${W}`;
    await remember(h(), [{ id, content: `${W} frozen alice`, immutable: true }]);
    expectItemError(await update(h(), [{ id, importance: 1 }], bob), 0, 'NOT_FOUND');
    expectItemError(await del(h(), [id], bob), 0, 'NOT_FOUND');
  });

  it("bob's update and delete of a shared client id touch only bob's memory", async () => {
    const id = `shared-upd-${W}`;
    await remember(h(), [{ id, content: `${W} alice version of shared upd` }]);
    await remember(h(), [{ id, content: `${W} bob version of shared upd` }], bob);
    const u = await update(h(), [{ id, importance: 0.99 }], bob);
    expect(u.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 2 });
    expect(await getOne(h(), id)).toMatchObject({ importance: 0.5, version: 1, content: `${W} alice version of shared upd` });
    expect((await del(h(), [id], bob)).results[0]).toMatchObject({ status: 'ok', action: 'deleted' });
    expect(await getOne(h(), id)).toMatchObject({ content: `${W} alice version of shared upd` });
    expect(await getOne(h(), id, bob)).toBeUndefined();
  });

  it("bob's upsert of alice's id creates bob's own memory and leaves alice's alone", async () => {
    const out = await remember(h(), [{ id: aliceOnly, content: `${W} bob took the same id` }], bob);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created', version: 1, id: aliceOnly });
    expect(await getOne(h(), aliceOnly)).toMatchObject({ content: `${W} only alice has this`, version: 1 });
    await del(h(), [aliceOnly], bob);
  });

  it("search never returns the other agent's memories, in any mode, scope or filter", async () => {
    const queries = ['text', 'vector', 'hybrid'].flatMap((mode) => [
      { query: `${W} vault code`, mode, limit: 100 },
      { query: `${W} shared words in both`, mode, limit: 100, filter: { tags_any: ['t'], metadata: { owner: 'x' } } },
      { query: `${W} vault code`, mode, limit: 100, scope: 'session' },
      { query: `${W} vault code`, mode, limit: 100, context: 5 },
    ]);
    const a = await search(h(), queries);
    const b = await search(h(), queries, bob);
    // Every query finds the caller's own memory with these words (so the checks below look at real hits),
    // and nothing of the other agent's, in the hits or in their context.
    const check = (out: any, own: string, foreign: RegExp, who: string) => {
      out.results.forEach((r: any, i: number) => {
        const label = `${who}, query ${JSON.stringify(queries[i])}`;
        expect(r.status, label).toBe('ok');
        const contents = r.results.map((x: any) => x.content);
        expect(contents, label).toContain(queries[i]!.query.includes('shared') ? `${W} shared words in both` : own);
        for (const hit of r.results) {
          expect(hit.content, label).not.toMatch(foreign);
          for (const c of hit.context ?? []) expect(c.content, label).not.toMatch(foreign);
        }
      });
    };
    check(a, `${W} the vault code is alice`, /\bbob\b/, 'alice');
    check(b, `${W} the vault code is bob`, /alice/, 'bob');
    // The context queries really returned context (alice's vault memory has session neighbours), all of it alice's.
    const withContext = a.results.filter((_: any, i: number) => (queries[i] as { context?: number }).context === 5);
    for (const r of withContext) {
      const vault = r.results.find((x: any) => x.content === `${W} the vault code is alice`);
      expect(vault.context.length).toBeGreaterThan(0);
    }
    // The shared-content memory exists for both agents with the same tags and metadata: each sees exactly its own.
    const sessionOf = async (extra: Record<string, unknown>) => (await get(h(), [ids[1]!], extra)).results[0].memory.session_id;
    const sharedA = a.results[1].results.filter((x: any) => x.content === `${W} shared words in both`);
    const sharedB = b.results[1].results.filter((x: any) => x.content === `${W} shared words in both`);
    expect(sharedA.map((x: any) => x.session_id)).toEqual([await sessionOf({})]);
    expect(sharedB.map((x: any) => x.session_id)).toEqual([await sessionOf(bob)]);
  });

  it("a filter on alice's session_id returns nothing to bob, and alice's memories to alice", async () => {
    const aliceSession = (await getOne(h(), ids[0]!)).session_id;
    const forAlice = await search(h(), [{ query: W, mode: 'text', limit: 100, filter: { session_id: aliceSession } }]);
    expect(forAlice.results[0].results.map((x: any) => x.content)).toContain(`${W} the vault code is alice`);
    const out = await search(h(), [{ query: W, mode: 'text', limit: 100, filter: { session_id: aliceSession } }], bob);
    expect(out.results[0]).toMatchObject({ status: 'ok', total: 0, results: [] });
  });

  it("another agent's many better-matching memories never crowd the caller's own out of its results", async () => {
    const X = uniqueWord('crowd');
    for (const part of [0, 1]) {
      const out = await remember(h(), Array.from({ length: 75 }, (_, i) => ({ content: `${X} ${X} ${X} bob ${part * 75 + i}` })), bob);
      expect(out.succeeded).toBe(75);
    }
    const own = await remember(h(), [{ content: `${X} is written once here, in a much longer sentence that alice keeps about other things too` }]);
    for (const mode of ['text', 'vector', 'hybrid']) {
      const out = await search(h(), [{ query: X, mode, limit: 10 }]);
      const hits = out.results[0].results;
      // First: its own match (session neighbours of it may follow); nothing of bob's.
      expect(hits[0]?.id, mode).toBe(own.results[0].id);
      for (const x of hits) expect(x.content, mode).not.toMatch(/ bob \d+$/);
    }
  });

  it("export of one agent holds that agent's memories only", async () => {
    const file = join(h().dir, `export-bob-${W}.jsonl`);
    const code = await exportCommand.run(h().app, { agent: 'bob', out: file, vectors: false });
    expect(code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.content)).toContain(`${W} the vault code is bob`);
    for (const l of lines) expect(l, JSON.stringify(l)).toMatchObject({ agent_id: 'bob', namespace: 'agent:bob' });
  });

  it('dedupe does not cross namespaces: the same content for two agents is created twice', async () => {
    const content = `${W} identical fact for everyone ${uniqueWord()}`;
    const a = await remember(h(), [{ content }]);
    const b = await remember(h(), [{ content }], bob);
    expect(a.results[0].action).toBe('created');
    expect(b.results[0].action).toBe('created');
    expect(b.results[0].id).not.toBe(a.results[0].id);
    // …and each agent then deduplicates against its own copy.
    expect((await remember(h(), [{ content }], bob)).results[0]).toMatchObject({ action: 'deduplicated', id: b.results[0].id });
    expect((await remember(h(), [{ content }])).results[0]).toMatchObject({ action: 'deduplicated', id: a.results[0].id });
  });
});
