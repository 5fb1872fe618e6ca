import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { importFile } from '../../src/commands/transfer.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('import embeds what remember embeds (content plus metadata strings), so an imported memory ranks like a remembered one', async () => {
  h = await startHarness();
  const stamp = '2026-11-23T12:00:00.000Z';
  const line = {
    id: 'imported-1',
    content: 'The harbour ferry leaves at dawn',
    type: 'fact',
    title: null,
    tags: [],
    metadata: { place: 'Lisbon harbour' },
    confidence: 0.8,
    importance: 0.5,
    source: 'agent',
    provenance: 'explicit_statement',
    pinned: false,
    immutable: false,
    expires_at: null,
    agent_id: 'default',
    namespace: 'agent:default',
    session_id: 'ses_0123456789abcdef',
    created_at: stamp,
    updated_at: stamp,
    version: 1,
  };
  const file = join(tempDir(), 'one.jsonl');
  writeFileSync(file, `${JSON.stringify(line)}\n`);
  const result = await importFile(h.app, file, undefined, (n, reason) => {
    throw new Error(`line ${n}: ${reason}`);
  });
  expect(result).toEqual({ imported: 1, unchanged: 0, failed: 0 });

  const remembered = await h.ok('batch_remember', {
    memories: [{ id: 'remembered-1', content: 'The harbour ferry leaves at dawn', metadata: { place: 'Lisbon harbour' } }],
    options: { dedupe: false },
  });
  expect(remembered.results[0].status).toBe('ok');

  // The embedded text is the content, then the short metadata strings.
  const out = await h.ok('batch_search', { queries: [{ query: 'The harbour ferry leaves at dawn\nLisbon harbour', mode: 'vector', limit: 2 }] });
  const scores = Object.fromEntries(out.results[0].results.map((r: any) => [r.id, r.score]));
  expect(scores['imported-1']).toBeCloseTo(1, 5);
  expect(scores['imported-1']).toBe(scores['remembered-1']);
});
