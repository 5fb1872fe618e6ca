/**
 * The transformers embedder on a real all-MiniLM-L6-v2 (npm run model:test):
 * its vectors, its profile of model families, and what a missing or damaged
 * model folder says.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingError } from '../../src/embed/embedder.js';
import { TransformersEmbedder, type TransformersOptions } from '../../src/embed/transformers/embedder.js';
import { ModelFilesError } from '../../src/embed/transformers/files.js';
import { familyProfile, folderProfile, knownDim } from '../../src/embed/transformers/profile.js';
import { testModelDir } from '../helpers/test-model.js';

let modelDir: string;
let embedder: TransformersEmbedder;
const scratch: string[] = [];
const options = (o: Partial<TransformersOptions> = {}): TransformersOptions => ({
  model: 'Xenova/all-MiniLM-L6-v2',
  dtype: 'q8',
  modelDir,
  cacheDir: join(tmpdir(), 'memlane-unused-cache'),
  hub: { endpoint: 'http://127.0.0.1:9' },
  threads: 1,
  ...o,
});
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const folderCopy = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'memlane-model-'));
  scratch.push(dir);
  cpSync(modelDir, dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = new TransformersEmbedder(options());
});
afterAll(async () => {
  await embedder?.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('transformers embedder (real all-MiniLM-L6-v2)', () => {
  it('gives 384 finite numbers of unit length per text: the same for the same call, nearly the same in any other batch', async () => {
    const batch = ['The deployment checklist lives in the wiki.', 'short'];
    const [a, b] = await embedder.embed(batch);
    const [again] = await embedder.embed(batch);
    const [alone] = await embedder.embed(['The deployment checklist lives in the wiki.']);
    const [inBigBatch] = await embedder.embed(['The deployment checklist lives in the wiki.', ...Array.from({ length: 40 }, (_, i) => `filler sentence number ${i} about nothing in particular`)]);
    for (const v of [a!, b!, alone!, inBigBatch!]) {
      expect(v).toHaveLength(384);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
    }
    expect(Array.from(again!)).toEqual(Array.from(a!));
    // q8 quantises each inference's activations with one scale for the whole batch (as the hub's
    // model_quantized.onnx does), so other texts in the batch move a vector a little: measured
    // cos 0.986-0.992 between a text alone and in a batch of 64. Never more than that.
    for (const v of [alone!, inBigBatch!]) {
      expect(dot(v, a!)).toBeGreaterThan(0.97);
      expect(dot(v, a!)).toBeGreaterThan(dot(v, b!) + 0.5);
    }
  });

  it('scores similar sentences above unrelated ones', async () => {
    const [cat, feline, stocks, dog, puppy, tax] = await embedder.embed([
      'The cat sat on the mat.',
      'A feline was resting on the rug.',
      'Stock markets fell sharply on Monday.',
      'I adopted a dog from the shelter.',
      'We brought home a rescued puppy.',
      'The tax return is due in April.',
    ]);
    expect(dot(cat!, feline!)).toBeGreaterThan(dot(cat!, stocks!) + 0.2);
    expect(dot(dog!, puppy!)).toBeGreaterThan(dot(dog!, tax!) + 0.2);
    expect(dot(dog!, puppy!)).toBeGreaterThan(dot(dog!, stocks!));
  });

  it('embeds a text repeated in one call once, and gives each input its own array', async () => {
    const out = await embedder.embed(['same words', 'other words', 'same words']);
    expect(out).toHaveLength(3);
    expect(Array.from(out[2]!)).toEqual(Array.from(out[0]!));
    expect(out[2]).not.toBe(out[0]);
  });

  it('knows the families that pool from [CLS] or want query and passage prefixes, and reads sentence-transformers files', () => {
    expect(familyProfile('Xenova/all-MiniLM-L6-v2')).toMatchObject({ pooling: 'mean', queryPrefix: '', passagePrefix: '', maxTokens: 256 });
    expect(familyProfile('Xenova/bge-small-en-v1.5')).toMatchObject({ pooling: 'cls', queryPrefix: 'Represent this sentence for searching relevant passages: ', passagePrefix: '' });
    expect(familyProfile('intfloat/e5-small-v2')).toMatchObject({ pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ' });
    expect(knownDim('Xenova/bge-base-en-v1.5')).toBe(768);
    expect(knownDim('someone/unknown-model')).toBeUndefined();

    const dir = folderCopy();
    writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 'q: ', document: 'd: ' } }));
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true }));
    expect(folderProfile(dir, 'someone/unknown-model')).toMatchObject({ pooling: 'cls', queryPrefix: 'q: ', passagePrefix: 'd: ', maxTokens: 256 });
  });

  it('a missing model folder fails the embedding with a message naming it', async () => {
    const e = new TransformersEmbedder(options({ modelDir: join(tmpdir(), 'memlane-no-such-model-folder'), dim: 384 }));
    const err = await e.embed(['x']).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as Error).message).toMatch(/MEMLANE_MODEL_DIR .*memlane-no-such-model-folder does not exist/);
    await e.close();
  });

  it('a folder without its tokenizer or ONNX file says what is missing and what a folder holds', async () => {
    const dir = folderCopy();
    rmSync(join(dir, 'tokenizer.json'));
    rmSync(join(dir, 'onnx', 'model_quantized.onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), 'not really');
    const e = new TransformersEmbedder(options({ modelDir: dir }));
    const message = String(((await e.embed(['x']).catch((x: unknown) => x)) as Error).message);
    expect(message).toContain('is missing tokenizer.json, onnx/model_quantized.onnx (dtype q8)');
    expect(message).toContain('it has onnx/model.onnx: set MEMLANE_EMBED_DTYPE');
    await e.close();
  });

  it('a damaged ONNX file fails the load with the folder to replace, and the next call tries again', async () => {
    const dir = folderCopy();
    writeFileSync(join(dir, 'onnx', 'model_quantized.onnx'), Buffer.alloc(4096, 7));
    const e = new TransformersEmbedder(options({ modelDir: dir }));
    const first = (await e.embed(['x']).catch((x: unknown) => x)) as Error;
    expect(first).toBeInstanceOf(EmbeddingError);
    expect(first.message).toContain(`model folder ${dir}`);
    expect(first.message).toContain('memlane model fetch');
    expect(e.status.phase).toBe('failed');
    // Mended in place: the next call loads it.
    cpSync(join(modelDir, 'onnx', 'model_quantized.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
    expect((await e.embed(['x']))[0]).toHaveLength(384);
    await e.close();
  });

  it('a model whose vectors are not the expected size is refused when it loads', async () => {
    const e = new TransformersEmbedder(options({ dim: 512 }));
    const err = (await e.embed(['x']).catch((x: unknown) => x)) as Error;
    expect(err.message).toContain('the model gives 384-dimensional vectors, but 512 were expected');
    await e.close();
  });

  it('an unknown model whose size nothing declares is refused before any database is opened', () => {
    expect(() => new TransformersEmbedder(options({ model: 'someone/unknown-model', modelDir: join(tmpdir(), 'memlane-none') }))).toThrow(ModelFilesError);
    expect(() => new TransformersEmbedder(options({ model: '../escape' }))).toThrow(/not a model id/);
  });
});
