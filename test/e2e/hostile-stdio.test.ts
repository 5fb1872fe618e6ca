/**
 * The same hostile inputs as test/tools/hostile-input.test.ts, as raw JSON
 * text over stdio to the built server: the JSON-RPC layer must hand them to
 * memlane, and memlane must answer with per-item and whole-call errors, and
 * stay up.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, spawnRaw, tempDir } from './_spawn.js';

const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };

describe('hostile input over stdio', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  it('5,000-level metadata fails its item; "arguments": "notanobject" is a whole-call error result; the server keeps answering', async () => {
    const raw = spawnRaw({ MEMLANE_DB: tempDir(), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    raw.send(init);
    await raw.response(1);
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    const deep = `${'{"k":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const call = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"batch_remember","arguments":{"memories":[{"content":"fine"},{"content":"deep","metadata":${deep}}]}}}`;
    raw.child.stdin.write(`${call}\n`);
    const res = await raw.response(2, 20_000);
    const out = res.result.structuredContent;
    expect(out.results[0]).toMatchObject({ status: 'ok', action: 'created' });
    expect(out.results[1]).toMatchObject({ status: 'error', error: { code: 'VALIDATION_ERROR', field: 'memories[1].metadata' } });

    raw.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'batch_get', arguments: 'notanobject' } });
    const bad = await raw.response(3);
    expect(bad.error).toBeUndefined();
    expect(bad.result.isError).toBe(true);
    expect(bad.result.content[0].text).toBe('VALIDATION_ERROR: arguments must be a JSON object');

    raw.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'batch_get', arguments: { ids: [out.results[0].id] } } });
    const after = await raw.response(4);
    expect(after.result.structuredContent.results[0].status).toBe('ok');
    raw.child.stdin.end();
    await raw.exit;
  });
});
