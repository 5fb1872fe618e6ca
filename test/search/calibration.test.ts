/**
 * What a score means (issue 10, points 1–3), asserted exactly through the
 * real MCP client, with an agent's ordinary facts written in one session:
 *
 * 1. `text` returns only memories that hold the query's words; in `hybrid` a
 *    memory holding none of them never ranks above one that holds some (the
 *    offline embedder is lexical: it is no evidence of its own).
 * 2. A memory holding every word of a short query scores ≥ 0.5 and one holding
 *    none < 0.2 (RECOMMENDED_MIN_SCORE), with 5 memories and with 50,000.
 * 3. Japanese, Chinese, Korean and emoji are found by what they contain.
 *
 * "Holds a word" is decided by the full-text index's own analysis (stemming,
 * case folding, stop words, character pairs for CJK), applied here to each
 * hit's content.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldWords, loadFacts } from '../../bench/facts-quality.js';
import { memoryAt } from '../../bench/speed/corpus.js';
import { RECOMMENDED_MIN_SCORE } from '../../src/store/search.js';
import { type Harness, startHarness } from '../helpers/harness.js';

interface Hit {
  id: string;
  score: number;
  content: string;
}

/** The five memories of the report in issue 10, one session, default type (fact). */
const FIVE = ['Falcon deploys happen on Tuesdays', 'Project Falcon uses PostgreSQL 16', 'The user likes espresso.', 'The user is allergic to peanuts.', 'Standup is at 09:30.'];

const SHORT_QUERIES = ['falcon', 'falcon database', 'project falcon', 'falcon deploys', 'espresso', 'coffee', 'peanuts', 'allergic peanuts', 'standup', 'postgresql', 'tuesdays deploys', 'user'];

async function search(h: Harness, token: string, q: Record<string, unknown>): Promise<Hit[]> {
  const out = await h.ok('batch_search', { queries: [{ limit: 100, ...q }], session_token: token });
  expect(out.results[0].status, JSON.stringify(out.results[0])).toBe('ok');
  return out.results[0].results;
}

/** Properties 1 and 2 for one query's hits. */
function checkScores(query: string, mode: string, hits: Hit[]): void {
  let seenNone = false;
  for (const hit of hits) {
    const { held, of } = heldWords(query, hit.content);
    const where = `${mode} "${query}" → "${hit.content}" scored ${hit.score}`;
    if (mode === 'text') expect(held, `${where}: text mode returned a memory holding none of the words`).toBeGreaterThan(0);
    if (held === of) expect(hit.score, `${where}: holds every word`).toBeGreaterThanOrEqual(0.5);
    if (held === 0) {
      expect(hit.score, `${where}: holds none of the words`).toBeLessThan(RECOMMENDED_MIN_SCORE);
      seenNone = true;
    } else {
      expect(seenNone, `${where}: ranked below a memory holding none of the words`).toBe(false);
    }
  }
}

async function rememberAll(h: Harness, token: string, memories: Array<Record<string, unknown>>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < memories.length; i += 100) {
    const out = await h.ok('batch_remember', { memories: memories.slice(i, i + 100), session_token: token, options: { dedupe: false } });
    expect(out.failed).toBe(0);
    ids.push(...out.results.map((r: { id: string }) => r.id));
  }
  return ids;
}

describe('scores mean the same with 5 memories and with 50,000', () => {
  let h: Harness;
  let small: string;
  let large: string;
  beforeAll(async () => {
    h = await startHarness();
    small = (await h.app.sessions.create('five', { origin: 'test' })).token;
    await rememberAll(h, small, FIVE.map((content) => ({ content })));
    // 49,995 memories of a busy agent (the speed benchmark's seeded corpus) in other sessions, then the five in one.
    for (let start = 0; start < 49_995; start += 10_000) {
      const filler = (await h.app.sessions.create('busy', { origin: 'test' })).token;
      const n = Math.min(10_000, 49_995 - start);
      await rememberAll(h, filler, Array.from({ length: n }, (_, i) => {
        const m = memoryAt(11, start + i);
        return { content: m.content, type: m.type, tags: m.tags };
      }));
    }
    large = (await h.app.sessions.create('busy', { origin: 'test' })).token;
    await rememberAll(h, large, FIVE.map((content) => ({ content })));
  }, 300_000);
  afterAll(async () => {
    await h?.close();
  });

  it('the large agent really holds 50,000 memories', async () => {
    const table = await h.app.store.tableFor('agent:busy');
    expect(await table!.countRows()).toBe(50_000);
  });

  for (const size of ['small', 'large'] as const) {
    for (const mode of ['text', 'hybrid'] as const) {
      it(`${size}, ${mode}: all words ≥ 0.5, none < ${RECOMMENDED_MIN_SCORE}, and no memory without the words above one with them`, async () => {
        const token = size === 'small' ? small : large;
        for (const query of SHORT_QUERIES) {
          const hits = await search(h, token, { query, mode });
          checkScores(query, mode, hits);
          // Every one of the five that holds every word is found.
          for (const content of FIVE) {
            const { held, of } = heldWords(query, content);
            if (held === of) expect(hits.map((x) => x.content), `${size} ${mode} "${query}"`).toContain(content);
          }
        }
      });
    }
  }

  it('the report in issue 10: "falcon" in text returns the two Falcon memories only, scored ≥ 0.5', async () => {
    for (const token of [small, large]) {
      const hits = await search(h, token, { query: 'falcon', mode: 'text', filter: {} });
      const mine = hits.filter((x) => FIVE.includes(x.content));
      expect(mine.map((x) => x.content).sort()).toEqual(['Falcon deploys happen on Tuesdays', 'Project Falcon uses PostgreSQL 16']);
      for (const x of mine) expect(x.score).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('"falcon database": nothing without "falcon" ranks above "Project Falcon uses PostgreSQL 16"', async () => {
    for (const token of [small, large]) {
      for (const mode of ['text', 'hybrid']) {
        const hits = await search(h, token, { query: 'falcon database', mode });
        const at = hits.findIndex((x) => x.content === 'Project Falcon uses PostgreSQL 16');
        expect(at).toBeGreaterThanOrEqual(0);
        for (const x of hits.slice(0, at)) expect(heldWords('falcon database', x.content).held).toBeGreaterThan(0);
      }
    }
  });

  it('"coffee" with min_score 0.1 keeps nothing: none of the five says coffee', async () => {
    expect(await search(h, small, { query: 'coffee', min_score: 0.1 })).toEqual([]);
    expect((await search(h, large, { query: 'coffee', min_score: 0.1 })).filter((x) => FIVE.includes(x.content))).toEqual([]);
  });
});

describe('any language, emoji included, with the offline embedder', () => {
  let h: Harness;
  let token: string;
  const MEMORIES = [
    'ユーザーは東京のラーメン屋が好きです。',
    'The user ❤️ 🍣 sushi',
    '用户每天早上喝绿茶。',
    '사용자는 김치찌개를 좋아한다.',
    'Der Nutzer wohnt in München und fährt gern Fahrrad.',
    'The user is allergic to peanuts.',
    'Standup is at 09:30.',
    'El usuario prefiere el café sin azúcar.',
  ];
  beforeAll(async () => {
    h = await startHarness();
    token = (await h.app.sessions.create('polyglot', { origin: 'test' })).token;
    await rememberAll(h, token, MEMORIES.map((content) => ({ content })));
  });
  afterAll(async () => {
    await h?.close();
  });

  const CASES: Array<[string, string]> = [
    ['ラーメン', MEMORIES[0]!],
    ['東京', MEMORIES[0]!],
    ['🍣', MEMORIES[1]!],
    ['sushi 🍣', MEMORIES[1]!],
    ['绿茶', MEMORIES[2]!],
    ['김치찌개', MEMORIES[3]!],
    ['munchen fahrrad', MEMORIES[4]!],
    ['cafe azucar', MEMORIES[7]!],
  ];
  for (const mode of ['text', 'hybrid'] as const) {
    it(`${mode}: each script is found first by the words or characters it contains, scored ≥ 0.5, nothing unrelated above ${RECOMMENDED_MIN_SCORE}`, async () => {
      for (const [query, want] of CASES) {
        const hits = await search(h, token, { query, mode });
        expect(hits[0]?.content, `${mode} "${query}"`).toBe(want);
        expect(hits[0]!.score, `${mode} "${query}"`).toBeGreaterThanOrEqual(0.5);
        for (const x of hits.slice(1)) expect(x.score, `${mode} "${query}" → "${x.content}"`).toBeLessThan(RECOMMENDED_MIN_SCORE);
      }
    });
  }
});

describe('the fact-memory set (bench/facts), all 205 facts and 191 queries', () => {
  let h: Harness;
  let token: string;
  const { facts, queries } = loadFacts();
  beforeAll(async () => {
    h = await startHarness();
    token = (await h.app.sessions.create('assistant', { origin: 'test' })).token;
    await rememberAll(h, token, facts.map((f) => ({ id: f.id, content: f.content, type: f.type })));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is what the bench says: at least 200 facts, 150 queries, no-answer queries, 3+ languages, every label a fact', () => {
    expect(facts.length).toBeGreaterThanOrEqual(200);
    expect(queries.length).toBeGreaterThanOrEqual(150);
    expect(queries.filter((q) => q.relevant.length === 0).length).toBeGreaterThanOrEqual(10);
    expect(new Set(queries.map((q) => q.lang)).size).toBeGreaterThanOrEqual(4);
    const ids = new Set(facts.map((f) => f.id));
    for (const q of queries) for (const id of q.relevant) expect(ids.has(id), `${q.query} → ${id}`).toBe(true);
  });

  for (const mode of ['text', 'hybrid'] as const) {
    it(`${mode}: properties 1 and 2 hold for every query`, async () => {
      for (let i = 0; i < queries.length; i += 100) {
        const chunk = queries.slice(i, i + 100);
        const out = await h.ok('batch_search', { queries: chunk.map((q) => ({ query: q.query, mode, limit: 100 })), session_token: token });
        out.results.forEach((r: { results: Hit[] }, j: number) => checkScores(chunk[j]!.query, mode, r.results));
      }
    });
  }
});
