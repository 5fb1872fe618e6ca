/**
 * A replica load decodes LanceDB's record batches straight from their Arrow
 * buffers (src/store/replica/columns.ts, AgentReplica.rowsOf). The memories
 * it builds must be the ones LanceDB's own row reader gives (nulls, unicode,
 * empty and non-empty tag lists, booleans past the first byte, timestamps),
 * and a column laid out otherwise (a slice, several chunks) must still read
 * right, by Arrow's own `get`.
 */
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { arrow } from '../../src/store/arrow.js';
import { appendArrow, memoriesTable } from '../../src/store/arrow-rows.js';
import { openOrCreateMemories } from '../../src/store/db.js';
import { booleans, numbers, stringLists, strings } from '../../src/store/replica/columns.js';
import { AgentReplica, REPLICA_COLUMNS } from '../../src/store/replica/replica.js';
import { tempDir } from '../helpers/harness.js';
import { edgeCaseMemories, T0 } from '../helpers/stored-memories.js';

const DIM = 4;
const memories = () => edgeCaseMemories(21);

describe('replica rows from record batches', () => {
  it('are the memories LanceDB holds, value for value', async () => {
    const conn = await lancedb.connect(tempDir());
    const table = await openOrCreateMemories(conn, new Set(), 'memories_a', DIM);
    const input = memories();
    await appendArrow(table, memoriesTable(input, (m) => `${m.namespace}/${m.id}`, 9, DIM));
    const rows = [];
    for await (const batch of table.query().select(REPLICA_COLUMNS)) rows.push(...AgentReplica.rowsOf(batch, DIM));
    rows.sort((a, b) => a.memory.ord - b.memory.ord);
    expect(rows).toHaveLength(input.length);
    rows.forEach((row, i) => {
      const { vector, ...m } = input[i]!;
      expect(row.memory).toEqual(m);
      expect(row.pk).toBe(`agent:a/${m.id}`);
      expect(row.seq).toBe(9);
      expect(Array.from(row.vector)).toEqual(Array.from(vector!));
    });
  });

  it('read columns that are not one plain chunk through Arrow’s own get', () => {
    const { vectorFromArray, Utf8, Int32, Bool, List, Field, TimestampMillisecond, makeVector } = arrow;
    const s = vectorFromArray(['a', null, 'bé', 'dddd', null, 'e'], new Utf8());
    const sliced = s.slice(2);
    expect([0, 1, 2, 3].map(strings(sliced))).toEqual(['bé', 'dddd', null, 'e']);
    const chunked = s.concat(vectorFromArray(['z'], new Utf8()));
    expect([0, 1, 6].map(strings(chunked))).toEqual(['a', null, 'z']);
    expect([0, 1, 2].map(strings(s))).toEqual(['a', null, 'bé']);
    const n = vectorFromArray([1, null, 3, 4], new Int32());
    expect([0, 1, 2].map(numbers(n))).toEqual([1, null, 3]);
    expect([0, 1].map(numbers(n.slice(2)))).toEqual([3, 4]);
    expect([0, 1].map(numbers(makeVector(Float64Array.from([0.25, 1e300]))))).toEqual([0.25, 1e300]);
    const ts = vectorFromArray([T0, null], new TimestampMillisecond());
    expect([0, 1].map(numbers(ts))).toEqual([T0, null]);
    const b = vectorFromArray([true, false, null, true, true, false, false, false, true, true], new Bool());
    expect([0, 1, 2, 8, 9].map(booleans(b))).toEqual([true, false, null, true, true]);
    expect([0, 1].map(booleans(b.slice(8)))).toEqual([true, true]);
    const lists = vectorFromArray([['x', 'yy'], [], null, ['日本']], new List(new Field('item', new Utf8(), true)));
    const upper = (t: string) => t.toUpperCase();
    expect([0, 1, 2, 3].map(stringLists(lists, upper))).toEqual([['X', 'YY'], [], null, ['日本']]);
    expect([0, 1].map(stringLists(lists.slice(2)))).toEqual([null, ['日本']]);
  });
});
