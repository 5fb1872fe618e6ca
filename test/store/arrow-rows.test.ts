/**
 * The Arrow table a write hands LanceDB (src/store/arrow-rows.ts), its
 * columns written directly rather than through Arrow's builders: every value
 * must arrive as the row holds it (nulls, empty and non-ASCII lists, bits
 * past the first byte, timestamps), and LanceDB must take it as a table of
 * the memories schema and give the same values back.
 */
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import type { StoredMemory } from '../../src/model.js';
import { appendArrow, memoriesTable } from '../../src/store/arrow-rows.js';
import { openOrCreateMemories } from '../../src/store/db.js';
import { tempDir } from '../helpers/harness.js';
import { edgeCaseMemories } from '../helpers/stored-memories.js';

const DIM = 4;
const rows = () => edgeCaseMemories(13);

const pk = (m: StoredMemory) => `${m.namespace}/${m.id}`;

function expectColumns(read: (name: string, i: number) => unknown, input: StoredMemory[], seq: number): void {
  input.forEach((m, i) => {
    expect(read('pk', i)).toBe(pk(m));
    for (const k of ['id', 'namespace', 'agent_id', 'session_id', 'ord', 'content', 'content_hash', 'type', 'title', 'confidence', 'importance', 'source', 'provenance', 'pinned', 'immutable', 'version'] as const) {
      expect(read(k, i), `${k} of row ${i}`).toEqual(m[k]);
    }
    expect(read('tags', i), `tags of row ${i}`).toEqual(m.tags);
    expect(JSON.parse(read('metadata', i) as string)).toEqual(m.metadata);
    for (const k of ['expires_at', 'created_at', 'updated_at'] as const) {
      const v = read(k, i);
      expect(v === null || v === undefined ? null : Number(v instanceof Date ? v.getTime() : v), `${k} of row ${i}`).toBe(m[k]);
    }
    expect(Array.from(read('vector', i) as ArrayLike<number>)).toEqual(Array.from(m.vector!));
    expect(read('seq', i)).toBe(seq);
  });
}

describe('the Arrow table of a write', () => {
  it('holds every value as the rows do', () => {
    const input = rows();
    const table = memoriesTable(input, pk, 42, DIM);
    expect(table.numRows).toBe(input.length);
    expectColumns((name, i) => {
      const v = table.getChild(name)!.get(i);
      return v !== null && typeof v === 'object' && 'toArray' in v ? [...(v as { toArray(): unknown[] }).toArray()] : v;
    }, input, 42);
  });

  it('is taken by LanceDB as a table of the memories schema, which gives the same values back', async () => {
    const conn = await lancedb.connect(tempDir());
    const table = await openOrCreateMemories(conn, new Set(), 'memories_a', DIM);
    const input = rows();
    await appendArrow(table, memoriesTable(input, pk, 7, DIM));
    const back = (await table.query().toArray()).sort((a, b) => (a.ord as number) - (b.ord as number));
    expect(back).toHaveLength(input.length);
    expectColumns((name, i) => {
      const v = back[i]![name];
      return v !== null && typeof v === 'object' && 'toArray' in v ? [...(v as { toArray(): unknown[] }).toArray()] : v;
    }, input, 7);
    // Filters see the same values: the bits and the nulls.
    expect(await table.countRows('pinned = true')).toBe(input.filter((m) => m.pinned).length);
    expect(await table.countRows('expires_at IS NULL')).toBe(input.filter((m) => m.expires_at === null).length);
    expect(await table.countRows("array_has(tags, '日本語')")).toBe(1);
  });
});
