/**
 * The built server with MEMLANE_EMBEDDER=transformers, as an MCP client
 * starts it: the handshake and tools/list are answered while the model is
 * still downloading (held half-way by a loopback hub), and `memlane model
 * fetch` / `model info` work without a database.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHub, startFakeHub } from '../helpers/fake-hub.js';
import { testModelDir } from '../helpers/test-model.js';
import { assertBuilt, cleanup, runCli, startMcp, tempDir } from './_spawn.js';

const MODEL = 'Xenova/all-MiniLM-L6-v2';
const ONNX = 'onnx/model_quantized.onnx';
let hub: FakeHub;

beforeAll(async () => {
  assertBuilt();
  hub = await startFakeHub({ model: MODEL, dir: await testModelDir() });
});
afterEach(async () => {
  await cleanup();
  hub.reset();
});
afterAll(async () => {
  await hub?.close();
});

describe('transformers over stdio', () => {
  it('answers initialize and tools/list while the preloaded model is still downloading, then embeds once it is there', { timeout: 40_000 }, async () => {
    hub.hold(ONNX);
    const srv = await startMcp({ MEMLANE_DB: tempDir(), MEMLANE_EMBEDDER: 'transformers', HF_ENDPOINT: hub.url, MEMLANE_EMBED_PRELOAD: '1' });
    await hub.requested(ONNX); // the preload started at start-up and is stuck half-way
    expect((await srv.client.listTools()).tools).toHaveLength(5);
    expect(hub.requests.filter((r) => r.endsWith(ONNX))).toHaveLength(1);
    hub.release();
    const out = await srv.ok('batch_remember', { memories: [{ content: 'I adopted a puppy from the shelter.' }] });
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    const found = await srv.ok('batch_search', { queries: [{ query: 'new dog', mode: 'vector', limit: 1 }] });
    expect(found.results[0].results[0].content).toContain('puppy');
    expect(srv.stderr()).toMatch(/embedding model Xenova\/all-MiniLM-L6-v2 \(384 dimensions\) loaded from .* in \d+ ms/);
    expect(await srv.close()).toMatchObject({ code: 0, signal: null });
  });

  it('memlane model fetch downloads into the data directory once; model info lists the files', { timeout: 40_000 }, async () => {
    const db = tempDir();
    const env = { MEMLANE_DB: db, HF_ENDPOINT: hub.url };
    const before = await runCli(['model', 'info', '--json'], env);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ model: MODEL, dim: 384, present: false, files: [] });

    const fetched = await runCli(['model', 'fetch'], env, 30_000);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stderr).toMatch(/Xenova\/all-MiniLM-L6-v2 \(384 dimensions\) is ready in .*models\/Xenova\/all-MiniLM-L6-v2; it loaded in \d+ ms/);
    expect(fetched.stdout).toBe('');
    const onnxRequests = hub.requests.filter((r) => r.endsWith(ONNX)).length;
    expect(onnxRequests).toBe(1);

    const after = JSON.parse((await runCli(['model', 'info', '--json'], env)).stdout);
    expect(after).toMatchObject({ present: true, folder: `${db}/models/Xenova/all-MiniLM-L6-v2`, source: hub.url });
    expect(after.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', ONNX]));
    expect(after.files.find((f: { path: string }) => f.path === ONNX).bytes).toBeGreaterThan(20_000_000);

    expect((await runCli(['model', 'fetch'], env, 30_000)).code).toBe(0);
    expect(hub.requests.filter((r) => r.endsWith(ONNX))).toHaveLength(onnxRequests); // not fetched again
  });

  it('memlane model fetch against a failing hub exits 1 with what to do', { timeout: 20_000 }, async () => {
    hub.fail(ONNX, 502);
    const run = await runCli(['model', 'fetch'], { MEMLANE_DB: tempDir(), HF_ENDPOINT: hub.url }, 15_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HTTP 502');
    expect(run.stderr).toContain('MEMLANE_MODEL_DIR');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
