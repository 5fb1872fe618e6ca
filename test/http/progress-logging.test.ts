import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startMcp, tempDir } from '../e2e/_spawn.js';
import { callToolWithProgress } from '../helpers/progress.js';
import { uniqueWord } from '../tools/_helpers.js';
import { type HttpClient, useHttpHarness } from './_http.js';

/** Calls a tool with a progress token, recording the notifications that arrived before the result. */
async function withProgress(client: HttpClient['client'], name: string, args: Record<string, unknown>) {
  const { seen, result } = await callToolWithProgress(client, { name, arguments: args });
  return { seen, result: result as any };
}

function expectWellFormed(seen: Progress[], items: number, atLeast = 3) {
  expect(seen.length).toBeGreaterThanOrEqual(atLeast);
  const values = seen.map((p) => p.progress);
  for (let i = 1; i < values.length; i++) expect(values[i]!, `progress ${values.join(',')}`).toBeGreaterThan(values[i - 1]!);
  expect(new Set(seen.map((p) => p.total))).toEqual(new Set([3 * items]));
  expect(values.at(-1)).toBe(3 * items);
}

describe('progress over Streamable HTTP (SSE responses)', () => {
  const h = useHttpHarness();

  it('a call of 100 items gets several progress notifications, strictly increasing, the last equal to total, all before the result', async () => {
    const c = await h().client(await h().token('alice'));
    const w = uniqueWord();
    const { seen, result } = await withProgress(c.client, 'batch_remember', {
      memories: Array.from({ length: 100 }, (_, i) => ({ content: `${w} fact number ${i}` })),
    });
    expect(result.structuredContent.succeeded).toBe(100);
    expectWellFormed(seen, 100);
    expect(seen.map((p) => p.message)).toEqual(expect.arrayContaining(['100/100 validated', '100/100 embedded', '100/100 written']));
  });

  it('every tool reports progress, and failed items still count towards total', async () => {
    const c = await h().client(await h().token('alice'));
    const w = uniqueWord();
    const ids = (await c.ok('batch_remember', { memories: [0, 1, 2].map((i) => ({ content: `${w} p ${i}` })) })).results.map((r: any) => r.id);
    const calls: Array<[string, Record<string, unknown>, number]> = [
      ['batch_remember', { memories: [{ content: `${w} new` }, { content: '' }] }, 2],
      ['batch_update', { updates: [{ id: ids[0], content: `${w} changed` }, { id: 'missing', content: 'x' }] }, 2],
      ['batch_search', { queries: [{ query: w }, { query: `${w} p`, mode: 'text' }, { query: 'x', mode: 'bogus' }] }, 3],
      ['batch_get', { ids: [...ids, 'missing'] }, 4],
      ['batch_delete', { ids: [ids[1], 'missing'] }, 2],
    ];
    for (const [name, args, items] of calls) {
      const { seen, result } = await withProgress(c.client, name, args);
      expect(result.isError, name).toBeFalsy();
      expectWellFormed(seen, items, 2);
    }
  });

  it('no progress token, no progress notifications', async () => {
    const c = await h().client(await h().token('alice'));
    let count = 0;
    c.client.setNotificationHandler((await import('@modelcontextprotocol/sdk/types.js')).ProgressNotificationSchema, () => void count++);
    await c.ok('batch_remember', { memories: [{ content: `${uniqueWord()} quiet` }] });
    expect(count).toBe(0);
  });
});

describe('client-visible logging and logging/setLevel', () => {
  // Every call is "slow" here, so every call logs a warning: behaviour, not timing.
  const h = useHttpHarness({ MEMLANE_SLOW_CALL_MS: '0' });

  it('a call sends its warnings with its own response; logging/setLevel("error") silences them from the next call on', async () => {
    const c = await h().client(await h().token('alice'));
    await c.ok('batch_get', { ids: ['nope'] });
    expect(c.logs.some((l) => l.level === 'warning' && /batch_get took \d+ ms/.test(String(l.data)))).toBe(true);

    await c.client.setLoggingLevel('error');
    const before = c.logs.length;
    await c.ok('batch_get', { ids: ['nope'] });
    await c.call('batch_get', { ids: ['x'], agent_id: 'bob' });
    expect(c.logs.length).toBe(before);

    await c.client.setLoggingLevel('warning');
    await c.ok('batch_get', { ids: ['nope'] });
    expect(c.logs.length).toBe(before + 1);
  });

  it('a refused call is logged as a warning naming the problem', async () => {
    const c = await h().client(await h().token('alice'));
    const res = await c.call('batch_get', { ids: ['x'], agent_id: 'bob' });
    expect(res.isError).toBe(true);
    expect(c.logs.map((l) => String(l.data))).toEqual(expect.arrayContaining([expect.stringMatching(/^batch_get refused: UNAUTHORIZED/)]));
  });

  it('maintenance results reach connected clients as info messages on their GET stream', async () => {
    const c = await h().client(await h().token('alice'));
    const report = [{ table: 'memories_x', fragmentsRemoved: 7, fragmentsAdded: 1, versionsRemoved: 3, bytesRemoved: 100 }];
    // The client opens its GET stream on its own after initialize; a message sent before it is up is dropped (by design), so repeat.
    await expect
      .poll(
        () => {
          h().app.maintainer.onReport?.(report);
          return c.logs.map((l) => `${l.level} ${String(l.data)}`).join('\n');
        },
        { timeout: 10_000 },
      )
      .toMatch(/info maintenance: compacted 1 table\(s\), 7 fragment/);
  });
});

describe('progress and logging over stdio', () => {
  afterEach(cleanup);

  it('a 100-item call on a spawned stdio server gets progress ending at total, and setLevel filters its log messages', async () => {
    const m = await startMcp({ MEMLANE_DB: tempDir(), MEMLANE_SLOW_CALL_MS: '0', MEMLANE_MAINTENANCE_INTERVAL_MS: '0' });
    const logs: string[] = [];
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    m.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    const w = uniqueWord();
    const { seen, result } = await withProgress(m.client, 'batch_remember', { memories: Array.from({ length: 100 }, (_, i) => ({ content: `${w} stdio ${i}` })) });
    expect(result.structuredContent.succeeded).toBe(100);
    expectWellFormed(seen, 100);
    expect(logs.some((l) => /batch_remember took/.test(l))).toBe(true);
    await m.client.setLoggingLevel('error');
    const before = logs.length;
    await m.ok('batch_get', { ids: ['nope'] });
    expect(logs.length).toBe(before);
    await m.close();
  });
});
