/**
 * Contract §6: on stdio, stdout carries nothing but protocol messages and logs
 * go to stderr. Looked at on the raw pipes of the built server, then the
 * server is stopped with a signal and must exit 0.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES, assertBuilt, cleanup, exitWithin, spawnRaw, tempDir } from './_spawn.js';

describe('stdout hygiene of the stdio server', () => {
  beforeAll(() => assertBuilt());
  afterEach(async () => cleanup());

  it.each(['SIGTERM', 'SIGINT'] as const)('only JSON-RPC on stdout, logs on stderr, and exit 0 on %s', { timeout: 15_000 }, async (signal) => {
    const dir = tempDir();
    const srv = spawnRaw({ MEMLANE_DB: dir });

    srv.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-e2e', version: '0.0.0' } },
    });
    const init = await srv.response(1);
    expect(init.result.serverInfo).toBeDefined();
    expect(init.result.capabilities.tools).toBeDefined();
    srv.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    srv.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    const list = await srv.response(2);
    expect(list.result.tools.map((t: { name: string }) => t.name).sort()).toEqual(TOOL_NAMES);

    srv.send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: {
        name: 'batch_remember',
        arguments: {
          memories: [
            { content: `stdout hygiene probe ${signal}`, tags: ['e2e'] },
            { content: 'second item', confidence: 7 }, // a bad item: must be reported in the result, not logged to stdout
          ],
        },
      },
    });
    const call = await srv.response(3);
    expect(call.result.isError).toBeFalsy();
    expect(call.result.structuredContent).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(call.result.structuredContent.results[1].error.code).toBe('VALIDATION_ERROR');

    srv.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'batch_search', arguments: { queries: [{ query: 'hygiene probe' }] } } });
    const search = await srv.response(4);
    expect(search.result.structuredContent.results[0].results[0].content).toBe(`stdout hygiene probe ${signal}`);

    srv.child.kill(signal);
    const exit = await exitWithin(srv.exit, 8_000, `memlane after ${signal}`);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });

    // Every stdout line is a JSON-RPC message; there is no trailing partial line either.
    const out = srv.stdout();
    expect(out.endsWith('\n')).toBe(true);
    const lines = srv.lines();
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      let msg: { jsonrpc?: unknown } | undefined;
      expect(() => (msg = JSON.parse(line) as { jsonrpc?: unknown }), `stdout line is not JSON: ${line}`).not.toThrow();
      expect(msg?.jsonrpc, `stdout line is not JSON-RPC 2.0: ${line}`).toBe('2.0');
    }
    // No log line leaked into the protocol stream (checked per line, so a failure names the line).
    for (const line of lines) expect(/^memlane: (debug|info|warn|error):/.test(line), `log line on stdout: ${line}`).toBe(false);

    // The log lines went to stderr instead.
    const err = srv.stderr();
    expect(err).toMatch(/^memlane: info: memlane ready on stdio/m);
    expect(err).toMatch(/^memlane: info: open local session ses_[0-9a-f]{16} for agent "default"/m);
    expect(err).toContain(`memlane: info: shutting down (${signal})`);
    // The session token of the open default is never logged.
    expect(err).not.toMatch(/mlt_[A-Za-z0-9_-]{43}/);
  });
});
