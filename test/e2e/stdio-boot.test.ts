/**
 * The stdio start-up path (src/transport/stdio-boot.ts): `initialize`,
 * `tools/list` and `ping` are answered before the SDK is loaded, from the
 * server's own info and the listing written at build time; everything else
 * is handed to the SDK in order, which must then behave exactly as if it had
 * seen the whole conversation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BATCH } from '../../src/config.js';
import { PROTOCOL_VERSIONS } from '../../src/server-info.js';
import { listingsFor } from '../../src/server.js';
import { ROOT, assertBuilt, cleanup, spawnRaw, tempDir } from './_spawn.js';

const init = (id: unknown, protocolVersion = '2025-06-18') => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

describe('stdio start-up before the SDK is loaded', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  it('the listing written at build time is what the server itself lists, and the protocol versions are the SDK’s', () => {
    const built = JSON.parse(readFileSync(join(ROOT, 'dist', 'src', 'tool-listings.json'), 'utf8'));
    expect(built.maxBatch).toBe(DEFAULT_MAX_BATCH);
    expect(built.tools).toEqual(JSON.parse(JSON.stringify(listingsFor(DEFAULT_MAX_BATCH))));
    expect(PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
    expect(PROTOCOL_VERSIONS[0]).toBe(LATEST_PROTOCOL_VERSION);
  });

  it('a whole conversation written at once is answered in full, and the replayed initialize never reaches stdout', async () => {
    const raw = spawnRaw({ MEMLANE_DB: tempDir(), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    const lines = [
      init(1),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'batch_remember', arguments: { memories: [{ content: 'written in the first breath' }] } } },
      { jsonrpc: '2.0', id: 5, method: 'tools/list' },
    ];
    raw.child.stdin.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const first = await raw.response(1);
    expect(first.result).toMatchObject({ protocolVersion: '2025-06-18', serverInfo: { name: 'memlane' }, capabilities: { tools: {}, logging: {} } });
    expect((await raw.response(2)).result.tools.map((t: { name: string }) => t.name).sort()).toEqual(['batch_delete', 'batch_get', 'batch_remember', 'batch_search', 'batch_update']);
    expect((await raw.response(3)).result).toEqual({});
    expect((await raw.response(4, 30_000)).result.structuredContent.results[0].action).toBe('created');
    expect((await raw.response(5)).result.tools).toHaveLength(5);
    // (Requests in flight together run concurrently: the search goes after the write's answer.)
    raw.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'batch_search', arguments: { queries: [{ query: 'first breath' }] } } });
    const found = await raw.response(6, 30_000);
    expect(found.result.structuredContent.results[0].results[0].content).toBe('written in the first breath');
    // One answer per request: nothing for the replayed initialize, nothing twice.
    const ids = raw.lines().map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    raw.child.stdin.end();
    expect((await raw.exit).code).toBe(0);
  });

  it('an unknown protocol version gets the latest; a malformed first line is the SDK’s to answer, and the server goes on', async () => {
    const raw = spawnRaw({ MEMLANE_DB: tempDir(), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    raw.child.stdin.write('{"this is not json\n');
    raw.send(init(1, '1999-01-01'));
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect((await raw.response(1, 30_000)).result.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
    expect((await raw.response(2, 30_000)).result.tools).toHaveLength(5);
    raw.child.stdin.end();
    await raw.exit;
  });

  it('with another item limit there is no built listing: the SDK answers, with that limit', async () => {
    const raw = spawnRaw({ MEMLANE_DB: tempDir(), MEMLANE_MAINTENANCE_INTERVAL_MS: '0', MEMLANE_MAX_BATCH: '7' });
    raw.send(init(1));
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const tools = (await raw.response(2, 30_000)).result.tools as Array<{ name: string; inputSchema: { properties: Record<string, { maxItems?: number }> } }>;
    expect(tools.find((t) => t.name === 'batch_get')!.inputSchema.properties.ids!.maxItems).toBe(7);
    raw.child.stdin.end();
    await raw.exit;
  });
});
