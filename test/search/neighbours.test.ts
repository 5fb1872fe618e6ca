/**
 * Session neighbours (contract §4): memories keep their write order within a
 * session; `context` returns the neighbours of each hit in that order, and
 * ranking may lend a matching memory's score to its neighbours — but only
 * between turns of a conversation (type episodic, turn, message, …), only
 * within one session, and only in hybrid and vector mode: text mode returns
 * memories that hold the query's words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';

interface Hit {
  id: string;
  score: number;
  content: string;
  session_id: string;
  context?: Array<{ id: string; content: string; created_at: string }>;
}

async function query(h: Harness, q: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Hit[]> {
  const out = await h.ok('batch_search', { queries: [q], ...extra });
  const r = out.results[0];
  expect(r.status, JSON.stringify(r)).toBe('ok');
  return r.results;
}

const QUESTION = "A: What's the name of your dog?";
const ANSWER = 'B: Her name is Biscuit.';

describe('neighbour ranking and context within one session', () => {
  let h: Harness;
  const id: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
    const out = await h.ok('batch_remember', {
      memories: [
        { content: 'A: The weather was lovely at the lake this weekend.', type: 'episodic' },
        { content: 'B: We went sailing and had a picnic on the shore.', type: 'episodic' },
        { content: QUESTION, type: 'episodic' },
        { content: ANSWER, type: 'episodic' },
        { content: 'A: Did you finish the report for the quarterly meeting?', type: 'episodic' },
        { content: 'B: Almost, I need the sales figures from finance.', type: 'episodic' },
        { content: 'A: My cousin adopted a cat from the shelter last month.', type: 'episodic' },
        { content: 'B: The bakery on Elm street sells great croissants.', type: 'episodic' },
      ],
    });
    expect(out.failed).toBe(0);
    ['lake', 'sailing', 'question', 'answer', 'report', 'figures', 'cat', 'bakery'].forEach((k, i) => (id[k] = out.results[i].id));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a text query "dog name" returns the question and its answer', async () => {
    const hits = await query(h, { query: 'dog name', mode: 'text', limit: 10 });
    const got = hits.map((x) => x.id);
    expect(got).toContain(id.question!);
    expect(got).toContain(id.answer!);
    expect(got.indexOf(id.question!)).toBeLessThan(2);
    expect(got.indexOf(id.answer!)).toBeLessThan(2);
  });

  it('context: 1 returns each hit\'s neighbours in write order, without the hit itself', async () => {
    const hits = await query(h, { query: 'dog name', mode: 'text', limit: 10, context: 1 });
    const q = hits.find((x) => x.id === id.question)!;
    const a = hits.find((x) => x.id === id.answer)!;
    expect(q.context!.map((c) => c.id)).toEqual([id.sailing, id.answer]);
    expect(a.context!.map((c) => c.id)).toEqual([id.question, id.report]);
    expect(a.context![0]!.content).toBe(QUESTION);
    for (const c of [...q.context!, ...a.context!]) expect(c.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const wide = await query(h, { query: 'dog name', mode: 'text', limit: 1, context: 3 });
    expect(wide).toHaveLength(1);
    const all = [id.lake, id.sailing, id.question, id.answer, id.report, id.figures, id.cat, id.bakery];
    const at = all.indexOf(wide[0]!.id);
    const expected = all.slice(Math.max(0, at - 3), at + 4).filter((x) => x !== wide[0]!.id);
    expect(wide[0]!.context!.map((c) => c.id)).toEqual(expected);
  });

  it('text mode returns only the turns that hold the query\'s words', async () => {
    const hits = await query(h, { query: 'dog', mode: 'text', limit: 10 });
    expect(hits.map((x) => x.id)).toEqual([id.question]);
  });

  it('in hybrid, a turn that does not match the query can rank because its neighbour matches', async () => {
    expect(ANSWER.toLowerCase()).not.toContain('dog');
    const hits = await query(h, { query: 'dog', mode: 'hybrid', limit: 10 });
    const got = hits.map((x) => x.id);
    expect(got[0]).toBe(id.question);
    expect(got).toContain(id.answer!);
    // The reply to the question gets more than the turn before it.
    const score = (k: string) => hits.find((x) => x.id === id[k])?.score ?? 0;
    expect(score('answer')).toBeGreaterThan(0);
    expect(score('answer')).toBeLessThan(score('question'));
    expect(score('answer')).toBeGreaterThan(score('sailing'));
    // Far away memories get nothing from it.
    expect(got).not.toContain(id.bakery!);
    expect(got).not.toContain(id.cat!);
  });

  it('neighbours are lent score in hybrid mode too', async () => {
    const hits = await query(h, { query: 'dog', mode: 'hybrid', limit: 10 });
    const got = hits.map((x) => x.id);
    expect(got[0]).toBe(id.question);
    expect(got.indexOf(id.answer!)).toBeGreaterThan(0);
    expect(got.indexOf(id.answer!)).toBeLessThan(3);
  });
});

describe('different sessions of one agent do not lend each other neighbour scores or context', () => {
  let h: Harness;
  let s1: { token: string; session_id: string };
  let s2: { token: string; session_id: string };
  const id: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
    s1 = await h.app.sessions.create('default', { origin: 'test' });
    s2 = await h.app.sessions.create('default', { origin: 'test' });
    // Interleaved writes: each session's write order is its own.
    const w = async (token: string, key: string, content: string) => {
      const out = await h.ok('batch_remember', { memories: [{ content, type: 'turn' }], session_token: token });
      expect(out.results[0].status).toBe('ok');
      id[key] = out.results[0].id;
    };
    await w(s1.token, 'q1', QUESTION); // s1 ord 1
    await w(s2.token, 'other2', 'B: Her name is Biscuit, the hamster.'); // s2 ord 1
    await w(s2.token, 'after2', 'A: The hamster sleeps all day.'); // s2 ord 2
    await w(s1.token, 'a1', 'B: We never settled on one, honestly.'); // s1 ord 2
    await w(s1.token, 'x1', 'A: Let us talk about the garden instead.'); // s1 ord 3
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the other session\'s memories written right after the question get no score from it', async () => {
    const hits = await query(h, { query: 'dog', mode: 'hybrid', limit: 10 });
    const got = hits.map((x) => x.id);
    expect(got[0]).toBe(id.q1);
    expect(got).toContain(id.a1!);
    expect(got).not.toContain(id.other2!);
    expect(got).not.toContain(id.after2!);
    for (const x of hits) expect(x.session_id).toBe(s1.session_id);
  });

  it('context stays within the hit\'s session', async () => {
    const hits = await query(h, { query: 'dog', mode: 'text', limit: 10, context: 2 });
    const q = hits.find((x) => x.id === id.q1)!;
    expect(q.context!.map((c) => c.id)).toEqual([id.a1, id.x1]);
    const hamster = await query(h, { query: 'hamster', mode: 'text', limit: 10, context: 5 });
    expect(hamster.map((x) => x.id).sort()).toEqual([id.other2!, id.after2!].sort());
    // Each hamster memory's context is the other one of its session, and nothing of s1's.
    expect(hamster.find((x) => x.id === id.other2)!.context!.map((c) => c.id)).toEqual([id.after2]);
    expect(hamster.find((x) => x.id === id.after2)!.context!.map((c) => c.id)).toEqual([id.other2]);
    for (const x of hamster) {
      expect(x.session_id).toBe(s2.session_id);
      for (const c of x.context ?? []) expect([id.other2, id.after2]).toContain(c.id);
    }
  });

  it('session scope and a session_id filter see only that session, neighbours included', async () => {
    // s2 holds no "dog", and s1's dog question lends nothing across: empty, though the same query finds s2's own words.
    const inS2 = await query(h, { query: 'dog', mode: 'hybrid', limit: 10, scope: 'session', context: 2 }, { session_token: s2.token });
    expect(inS2).toEqual([]);
    const hamsterInS2 = await query(h, { query: 'hamster', mode: 'text', limit: 10, scope: 'session' }, { session_token: s2.token });
    expect(hamsterInS2.map((x) => x.id).sort()).toEqual([id.other2!, id.after2!].sort());
    const filtered = await query(h, { query: 'dog', mode: 'hybrid', limit: 10, filter: { session_id: s2.session_id } });
    expect(filtered).toEqual([]);
    const filteredS1 = await query(h, { query: 'dog', mode: 'hybrid', limit: 10, filter: { session_id: s1.session_id } });
    expect(filteredS1.map((x) => x.id)).toEqual(expect.arrayContaining([id.q1, id.a1]));
    const inS1 = await query(h, { query: 'dog', mode: 'hybrid', limit: 10, scope: 'session' }, { session_token: s1.token });
    expect(inS1.map((x) => x.id)).toEqual(expect.arrayContaining([id.q1, id.a1]));
  });
});
