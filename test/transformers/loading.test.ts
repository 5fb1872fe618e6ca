/**
 * Issue 12, "never blocks start-up": the model comes from the hub (a loopback
 * stand-in serving the real test model in the hub's URL layout) into the
 * database's models/ folder, once, in the background; calls that arrive while
 * it downloads wait up to their deadline, then fail per item saying so, with
 * progress notifications of the load; failures say what to do.
 */
import { existsSync, readdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHub, startFakeHub } from '../helpers/fake-hub.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';
import { callToolWithProgress } from '../helpers/progress.js';
import { testModelDir } from '../helpers/test-model.js';

const MODEL = 'Xenova/all-MiniLM-L6-v2';
const ONNX = 'onnx/model_quantized.onnx';
let hub: FakeHub;
let h: Harness | undefined;

beforeAll(async () => {
  hub = await startFakeHub({ model: MODEL, dir: await testModelDir() });
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  hub.reset();
});
afterAll(async () => {
  await hub?.close();
});

const start = (dir?: string) => startHarness({ ...(dir && { dir }), env: { MEMLANE_EMBEDDER: 'transformers', HF_ENDPOINT: hub.url } });
const remember = (content: string, timeout_ms?: number) =>
  h!.call('batch_remember', { memories: [{ content }], ...(timeout_ms && { options: { timeout_ms } }) });
const structured = (res: Awaited<ReturnType<Harness['call']>>) => res.structuredContent as any;
/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

describe('transformers: the model loads in the background', () => {
  it('answers tools/list before anything is downloaded, and downloads only when a call needs a vector', async () => {
    hub.hold(ONNX);
    h = await start();
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('batch_remember');
    expect(hub.requests).toEqual([]);
    // A text-mode search needs no vector: still nothing fetched.
    expect(structured(await h.call('batch_search', { queries: [{ query: 'anything', mode: 'text' }] })).succeeded).toBe(1);
    expect(hub.requests).toEqual([]);
  });

  it('a call during the download fails per item with EMBEDDING_FAILED saying the model is still loading, with progress of the load; tools/list keeps answering', async () => {
    hub.hold(ONNX);
    h = await start();
    const { seen: progress, result: res } = await callToolWithProgress(
      h.client,
      { name: 'batch_remember', arguments: { memories: [{ content: 'waits for the model' }, { content: 'so does this one' }], options: { timeout_ms: 1_500 } } },
      { timeout: 30_000 },
    );
    const out = res.structuredContent as any;
    expect(out.failed).toBe(2);
    for (const r of out.results) {
      expect(r.error.code).toBe('EMBEDDING_FAILED');
      expect(r.error.message).toMatch(/embedding model Xenova\/all-MiniLM-L6-v2 is still loading \(downloading onnx\/model_quantized\.onnx: [\d.]+ of 2\d\.\d MB\); this call waited \d+ ms/);
    }
    // Progress: strictly increasing, the load reported inside the step after validation, the last one = total.
    const values = progress.map((p) => p.progress);
    expect(values.length).toBeGreaterThan(1);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(values.at(-1)).toBe(progress[0]!.total);
    const loading = progress.filter((p) => p.message?.includes('still loading (downloading'));
    expect(loading.length).toBeGreaterThan(0);
    for (const p of loading) {
      expect(p.progress).toBeGreaterThan(2);
      expect(p.progress).toBeLessThan(3);
    }
    // Still downloading, and the server still answers.
    expect((await h.client.listTools()).tools).toHaveLength(5);
    hub.release();
    expect(structured(await remember('now the model is here')).succeeded).toBe(1);
  });

  it('a call that arrives during the download waits for it and succeeds when it finishes in time', async () => {
    hub.hold(ONNX);
    h = await start();
    const pending = remember('I adopted a puppy from the shelter last weekend.', 30_000);
    await hub.requested(ONNX);
    hub.release();
    const out = structured(await pending);
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    const found = structured(await h.call('batch_search', { queries: [{ query: 'did I get a new dog?', mode: 'vector', limit: 1 }] }));
    expect(found.results[0].results[0].content).toContain('puppy');
  });

  it('downloads once into models/ under the data directory: a restart with the hub gone loads from there', async () => {
    const dir = tempDir();
    h = await start(dir);
    expect(structured(await remember('cached model')).succeeded).toBe(1);
    const folder = join(dir, 'models', 'Xenova', 'all-MiniLM-L6-v2');
    expect(existsSync(join(folder, ONNX))).toBe(true);
    expect(existsSync(join(folder, '.memlane-download-q8.json'))).toBe(true);
    expect(allFiles(folder).filter((f) => f.includes('.part-'))).toEqual([]);
    await h.close();
    hub.fail('', 503); // every request now fails
    hub.requests.length = 0;
    h = await start(dir);
    expect(structured(await remember('no network needed')).succeeded).toBe(1);
    expect(hub.requests).toEqual([]);
  });

  it('a download failure says what to do, leaves no partial file, and the next call tries again', async () => {
    hub.fail(ONNX, 500);
    const dir = tempDir();
    h = await start(dir);
    const out = structured(await remember('fails first'));
    const message = out.results[0].error.message as string;
    expect(out.results[0].error.code).toBe('EMBEDDING_FAILED');
    expect(message).toContain(`${hub.url}/${MODEL}/resolve/main/${ONNX} failed: HTTP 500`);
    expect(message).toContain('HTTPS_PROXY');
    expect(message).toContain('memlane model fetch');
    expect(message).toContain('MEMLANE_MODEL_DIR');
    const folder = join(dir, 'models', 'Xenova', 'all-MiniLM-L6-v2');
    expect(existsSync(join(folder, '.memlane-download-q8.json'))).toBe(false);
    expect(allFiles(folder).filter((f) => f.includes('.part-') || f.endsWith('.onnx'))).toEqual([]);
    hub.reset();
    expect(structured(await remember('works the second time')).succeeded).toBe(1);
  });

  it('a model without the ONNX variant asked for says which MEMLANE_EMBED_DTYPE to try; an unreachable hub says how to get the files', async () => {
    h = await startHarness({ env: { MEMLANE_EMBEDDER: 'transformers', HF_ENDPOINT: hub.url, MEMLANE_EMBED_DTYPE: 'fp32' } });
    const noVariant = structured(await remember('x')).results[0].error.message as string;
    expect(noVariant).toContain(`HTTP 404 (model ${MODEL} has no onnx/model.onnx`);
    expect(noVariant).toContain('set MEMLANE_EMBED_DTYPE');
    await h.close();
    const closed = await closedPort();
    h = await startHarness({ env: { MEMLANE_EMBEDDER: 'transformers', HF_ENDPOINT: `http://127.0.0.1:${closed}` } });
    const unreachable = structured(await remember('x')).results[0].error.message as string;
    expect(unreachable).toMatch(/could not download http:\/\/127\.0\.0\.1:\d+\/Xenova\/all-MiniLM-L6-v2\/resolve\/main\/config\.json: .*ECONNREFUSED/);
    expect(unreachable).toContain('set HTTPS_PROXY');
  });
});
