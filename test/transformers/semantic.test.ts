/**
 * What the local neural embedder is for: a paraphrase that shares no word
 * with the memory still finds it, where the lexical `local` embedder does
 * not; and the one-embedder-per-database rule between `local` and
 * `transformers`, with `memlane reembed` in both directions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { EmbedderMismatchError } from '../../src/store/db.js';
import { reembedAll } from '../../src/store/reembed.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';
import { testModelDir } from '../helpers/test-model.js';

/** Memories and questions about them in other words (no shared content word). */
const FACTS = [
  { memory: 'I adopted a puppy from the animal shelter last weekend.', query: 'Did I get a new dog recently?' },
  { memory: 'My flight to Lisbon departs early on Friday.', query: 'When do I travel to Portugal?' },
  { memory: 'A plumber comes on Tuesday to fix the leaking kitchen tap.', query: 'When will someone repair the dripping faucet?' },
  { memory: 'Peanuts give me a severe allergic reaction.', query: 'Which food makes me ill?' },
  { memory: 'The standup meeting moved to ten in the morning.', query: 'What time is the daily sync now?' },
  { memory: 'My sister just had a baby boy.', query: 'Am I an aunt or uncle?' },
];
const DISTRACTORS = [
  'The office printer on the third floor is out of toner.',
  'Remember to water the tomato plants on the balcony.',
  'The wifi password for the guest network changed in June.',
  'Our team uses tabs, not spaces, in the Go code base.',
  'The car needs new winter tyres before November.',
  'Invoices are archived in the finance folder every month.',
];

let modelDir: string;
beforeAll(async () => {
  modelDir = await testModelDir();
});

const transformersEnv = () => ({ MEMLANE_EMBEDDER: 'transformers', MEMLANE_MODEL_DIR: modelDir });

/** The two best hits of each question, best first. */
async function topHits(h: Harness, mode: 'vector' | 'hybrid'): Promise<string[][]> {
  await h.ok('batch_remember', { memories: [...FACTS.map((f) => ({ content: f.memory })), ...DISTRACTORS.map((content) => ({ content }))] });
  const out = await h.ok('batch_search', { queries: FACTS.map((f) => ({ query: f.query, mode, limit: 2 })) });
  return out.results.map((r: any) => r.results.map((hit: any) => hit.content));
}

describe('semantic recall with transformers', () => {
  it('a paraphrase finds its memory first with transformers (5 of 6 at least; in vector mode all in the top two), in vector and hybrid mode, where local mostly does not', async () => {
    const local = await startHarness();
    const neural = await startHarness({ env: transformersEnv() });
    try {
      for (const mode of ['vector', 'hybrid'] as const) {
        const byNeural = await topHits(neural, mode);
        const byLocal = await topHits(local, mode);
        // The q8 model's activations are quantised per inference, which nearly ties the weakest
        // pair: "What time is the daily sync now?" scores 0.199 against both the standup memory and
        // "My flight to Lisbon departs early on Friday." (fp32 weights: 0.237 against 0.208), and
        // 0.199 is under hybrid's vector floor (0.2), so hybrid does not return it at all.
        if (mode === 'vector') FACTS.forEach((f, i) => expect(byNeural[i], `${mode}: ${f.query}`).toContain(f.memory));
        const neuralFirst = FACTS.filter((f, i) => byNeural[i]![0] === f.memory).length;
        expect(neuralFirst, `${mode}: transformers found ${neuralFirst} of ${FACTS.length} first`).toBeGreaterThanOrEqual(FACTS.length - 1);
        // No shared word: what local gets right among 12 memories is luck of hashing and neighbours.
        const localRight = FACTS.filter((f, i) => byLocal[i]![0] === f.memory).length;
        expect(localRight, `${mode}: local found ${localRight} of ${FACTS.length}`).toBeLessThanOrEqual(2);
      }
    } finally {
      await local.close();
      await neural.close();
    }
  });
});

describe('one embedder per database: local ↔ transformers', () => {
  it('a local database refuses transformers naming both, and reembed moves it there and back', async () => {
    const dir = tempDir();
    const seeded = await startHarness({ dir });
    const ids = (await seeded.ok('batch_remember', { memories: FACTS.map((f) => ({ content: f.memory })) })).results.map((r: any) => r.id);
    await seeded.close();

    const config = loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...transformersEnv() });
    const refused = await openApp(config, { maintenance: false }).then(
      async (app: App) => {
        await app.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(EmbedderMismatchError);
    expect(String((refused as Error).message)).toMatch(/written by embedder local\/hash-ngram-v1 \(768 dimensions\), but memlane is configured with transformers\/Xenova\/all-MiniLM-L6-v2 \(384 dimensions\).*memlane reembed/);

    const adopt = await openApp(config, { maintenance: false, adopt: true });
    const progress: number[] = [];
    try {
      const result = await reembedAll(adopt.db, adopt.embedder, (p) => progress.push(p.done));
      expect(result).toMatchObject({ memories: FACTS.length, to: { provider: 'transformers', model: 'Xenova/all-MiniLM-L6-v2', dim: 384 } });
    } finally {
      await adopt.close();
    }
    expect(progress.at(-1)).toBe(FACTS.length);

    const neural = await startHarness({ dir, env: transformersEnv() });
    try {
      const out = await neural.ok('batch_search', { queries: FACTS.map((f) => ({ query: f.query, mode: 'vector', limit: 1 })) });
      out.results.forEach((r: any, i: number) => expect(r.results[0].id).toBe(ids[i]));
    } finally {
      await neural.close();
    }

    // And back: local again, every memory kept.
    const back = await openApp(loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0' }), { maintenance: false, adopt: true });
    try {
      expect((await reembedAll(back.db, back.embedder)).to).toMatchObject({ provider: 'local', dim: 768 });
    } finally {
      await back.close();
    }
    const local = await startHarness({ dir });
    try {
      const got = await local.ok('batch_get', { ids });
      expect(got.results.map((r: any) => r.memory.content)).toEqual(FACTS.map((f) => f.memory));
    } finally {
      await local.close();
    }
  });
});

describe('hybrid lends a semantic match to its reply (SEMANTIC_RANKING.hybridLending)', () => {
  it("the answer after a turn that means what the question asks ranks by that turn's similarity, though it shares neither words nor meaning with the question", async () => {
    const h = await startHarness({ env: transformersEnv() });
    try {
      const turns = [
        'A: The weather was lovely at the lake this weekend.',
        'B: We went sailing and had a picnic on the shore.',
        'A: I adopted a puppy from the animal shelter last weekend.',
        'B: Lovely! I hope Biscuit settles in well.',
        'A: Did you finish the report for the quarterly meeting?',
        'B: Almost, I need the sales figures from finance.',
        'A: The bakery on Elm street sells great croissants.',
        'B: Our team uses tabs, not spaces, in the Go code base.',
      ];
      const ids = (await h.ok('batch_remember', { memories: turns.map((content) => ({ content, type: 'episodic' })) })).results.map((r: any) => r.id);
      const out = await h.ok('batch_search', { queries: [{ query: 'Did I get a new dog recently?', mode: 'hybrid', limit: 5, explain: true }] });
      const hits: Array<{ id: string; score: number; explain: { text_evidence: number; vector_similarity: number } }> = out.results[0].results;
      const puppy = hits.find((x) => x.id === ids[2]);
      const reply = hits.find((x) => x.id === ids[3]);
      expect(hits[0]!.id, JSON.stringify(hits)).toBe(ids[2]);
      expect(reply, JSON.stringify(hits)).toBeDefined();
      expect(hits.indexOf(reply!)).toBe(1);
      expect(reply!.explain.text_evidence).toBe(0);
      // Without lending, the score would be its own cosine through hybrid's floor (0.2) and scale (1).
      const alone = Math.max(0, (reply!.explain.vector_similarity - 0.2) / 0.8);
      expect(reply!.score).toBeGreaterThan(alone + 0.05);
      expect(reply!.score).toBeLessThan(puppy!.score);
    } finally {
      await h.close();
    }
  });
});
