/**
 * Ranking boosts (batch_search `boost`, off by default): with equal text
 * relevance, recency puts the newer memory first and pinned the pinned one,
 * and a boosted score stays in [0, 1]. Time is moved with a fake Date (the
 * server runs in this process), so "older" really is weeks old.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';

const DAY = 86_400_000;

interface Hit {
  id: string;
  score: number;
  content: string;
}

describe('boosts beyond equal text relevance', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** One memory per session, so no session neighbour lends anything to another. */
  async function rememberAlone(content: string, extra: Record<string, unknown> = {}): Promise<string> {
    const s = await h.app.sessions.create('default', { origin: 'test' });
    const out = await h.ok('batch_remember', { memories: [{ content, ...extra }], session_token: s.token });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    return out.results[0].id;
  }

  async function search(q: Record<string, unknown>): Promise<Hit[]> {
    const out = await h.ok('batch_search', { queries: [q] });
    expect(out.results[0].status).toBe('ok');
    const hits: Hit[] = out.results[0].results;
    for (const x of hits) {
      expect(x.score).toBeGreaterThanOrEqual(0);
      expect(x.score).toBeLessThanOrEqual(1);
    }
    expect(hits.map((x) => x.score)).toEqual(hits.map((x) => x.score).sort((a, b) => b - a));
    return hits;
  }

  it('recency: the newer of two equally relevant memories comes first, even against a slightly better older one', async () => {
    // Two months ago (the fake clock only fakes Date; timers and I/O run normally).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 60 * DAY);
    const old = await rememberAlone('quokka sighting near the ridge trail');
    const olderButBetter = await rememberAlone('quokka quokka sighting near the ridge');
    vi.useRealTimers();
    const fresh = await rememberAlone('quokka sighting near the creek trail');

    const got = await h.ok('batch_get', { ids: [old, fresh] });
    expect(Date.parse(got.results[1].memory.created_at) - Date.parse(got.results[0].memory.created_at)).toBeGreaterThan(59 * DAY);

    const plain = await search({ query: 'quokka sighting trail', mode: 'text', limit: 10 });
    const s = (hits: Hit[], id: string) => hits.find((x) => x.id === id)!.score;
    expect(s(plain, old)).toBe(s(plain, fresh)); // equal text relevance
    const boosted = await search({ query: 'quokka sighting trail', mode: 'text', limit: 10, boost: { recency: 1 } });
    expect(boosted.findIndex((x) => x.id === fresh)).toBeLessThan(boosted.findIndex((x) => x.id === old));
    expect(s(boosted, fresh)).toBeGreaterThan(s(boosted, old));

    // A strong recency weight lifts the fresh memory above a more relevant old one.
    const q2 = { query: 'quokka', mode: 'text', limit: 10 };
    const p2 = await search(q2);
    expect(s(p2, olderButBetter)).toBeGreaterThan(s(p2, fresh));
    const b2 = await search({ ...q2, boost: { recency: 10 } });
    expect(b2[0]!.id).toBe(fresh);

    for (const mode of ['vector', 'hybrid'] as const) {
      const hits = await search({ query: 'quokka sighting trail', mode, limit: 10, boost: { recency: 10, importance: 10, pinned: 10 } });
      expect(hits.length).toBeGreaterThan(0);
    }
  });

  it('pinned: the pinned one of two equally relevant memories comes first; scores stay in [0, 1]', async () => {
    const pinned = await rememberAlone('wombat burrow under the old gum tree', { pinned: true });
    await new Promise((r) => setTimeout(r, 5));
    const unpinned = await rememberAlone('wombat burrow under the old oak tree');

    const plain = await search({ query: 'wombat burrow tree', mode: 'text', limit: 10 });
    const s = (hits: Hit[], id: string) => hits.find((x) => x.id === id)!.score;
    expect(s(plain, pinned)).toBe(s(plain, unpinned));
    // Without a boost the tie goes to the newer, unpinned one …
    expect(plain[0]!.id).toBe(unpinned);
    // … with it, to the pinned one.
    for (const w of [0.01, 1, 10]) {
      const boosted = await search({ query: 'wombat burrow tree', mode: 'text', limit: 10, boost: { pinned: w } });
      expect(boosted[0]!.id, `pinned weight ${w}`).toBe(pinned);
      expect(s(boosted, pinned)).toBeGreaterThan(s(boosted, unpinned));
    }
    // The maximum weights keep every score within [0, 1] (checked in search()).
    await search({ query: 'wombat burrow tree', mode: 'hybrid', limit: 10, boost: { pinned: 10, recency: 10, importance: 10 } });
    // Importance boost works the same way.
    const important = await rememberAlone('wombat burrow under the old elm tree', { importance: 1 });
    const imp = await search({ query: 'wombat burrow tree', mode: 'text', limit: 10, boost: { importance: 1 } });
    expect(imp[0]!.id).toBe(important);
  });
});
