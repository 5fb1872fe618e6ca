import type { Table as LanceTable } from '@lancedb/lancedb';
import type { FixedSizeList as FixedSizeListType, Table as ArrowTable, Vector } from 'apache-arrow';
import type { StoredMemory } from '../model.js';
import { arrow } from './arrow.js';
import { memoriesSchema } from './schema.js';
import { searchText } from './text.js';

const { Bool, Field, FixedSizeList, Float32, List, RecordBatch, RecordBatchFileWriter, Struct, Table, TimestampMillisecond, Utf8, makeData, makeVector, vectorFromArray } = arrow;

/**
 * Memories as an Arrow table in the memories schema, built column by column
 * from typed arrays. LanceDB converts plain JS rows element by element through
 * Arrow builders: for 100 rows of 768-d vectors that was most of a write's
 * time (~10 ms of 15 on an idle machine), while the vectors here are one
 * Float32Array handed over as it is.
 */
export function memoriesTable(rows: readonly StoredMemory[], pk: (m: StoredMemory) => string, seq: number, dim: number): ArrowTable {
  const schema = memoriesSchema(dim);
  const n = rows.length;
  const str = (f: (m: StoredMemory) => string | null) => utf8Column(rows.map(f));
  const ts = (f: (m: StoredMemory) => number | null) => vectorFromArray(rows.map(f), new TimestampMillisecond());
  const flat = new Float32Array(n * dim);
  rows.forEach((m, i) => flat.set(m.vector!, i * dim));
  const vectorType = schema.fields.find((f) => f.name === 'vector')!.type as FixedSizeListType;
  const columns: Record<string, Vector> = {
    pk: str(pk),
    id: str((m) => m.id),
    namespace: str((m) => m.namespace),
    agent_id: str((m) => m.agent_id),
    session_id: str((m) => m.session_id),
    ord: makeVector(Int32Array.from(rows, (m) => m.ord)),
    content: str((m) => m.content),
    content_hash: str((m) => m.content_hash),
    search_text: str((m) => searchText(m.content, m.title, m.metadata)),
    type: str((m) => m.type),
    title: str((m) => m.title),
    tags: vectorFromArray(
      rows.map((m) => m.tags),
      new List(new Field('item', new Utf8(), true)),
    ),
    metadata: str((m) => JSON.stringify(m.metadata)),
    confidence: makeVector(Float64Array.from(rows, (m) => m.confidence)),
    importance: makeVector(Float64Array.from(rows, (m) => m.importance)),
    source: str((m) => m.source),
    provenance: str((m) => m.provenance),
    pinned: vectorFromArray(rows.map((m) => m.pinned), new Bool()),
    immutable: vectorFromArray(rows.map((m) => m.immutable), new Bool()),
    expires_at: ts((m) => m.expires_at),
    created_at: ts((m) => m.created_at),
    updated_at: ts((m) => m.updated_at),
    version: makeVector(Int32Array.from(rows, (m) => m.version)),
    vector: makeVector(makeData({ type: vectorType, length: n, nullCount: 0, child: makeData({ type: new Float32(), length: n * dim, data: flat }) })),
    seq: makeVector(new Float64Array(n).fill(seq)),
  };
  const children = schema.fields.map((f) => {
    const column = columns[f.name];
    if (!column) throw new Error(`memoriesTable: no column for ${f.name}`);
    return column.data[0]!;
  });
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}

const encoder = new TextEncoder();

/**
 * A Utf8 column straight from its strings: one buffer, offsets and a null
 * bitmap, instead of Arrow's element-by-element builder (`vectorFromArray`
 * took ~1.5 ms of a 100-row write's ~2 ms here, for a dozen string columns).
 */
function utf8Column(values: readonly (string | null)[]): Vector {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let bytes = new Uint8Array(values.reduce((sum, v) => sum + (v === null ? 0 : v.length * 3), 0));
  const valid = new Uint8Array(Math.ceil(n / 8));
  let at = 0;
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      valid[i >> 3]! |= 1 << (i & 7);
      at += encoder.encodeInto(v, bytes.subarray(at)).written;
    }
    offsets[i + 1] = at;
  });
  bytes = bytes.subarray(0, at);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : null, valueOffsets: offsets, data: bytes }));
}

/**
 * Appends an Arrow table. Through the native table directly: LanceDB's own
 * `Table.add` first reads the table's schema from disk on every call (a
 * round trip, ~0.5–4 ms here) only to convert plain rows, which this data
 * does not need. Falls back to `add` where the native handle is not there
 * (another LanceDB version).
 */
export async function appendArrow(table: LanceTable, data: ArrowTable): Promise<{ version: number }> {
  const inner = (table as unknown as { inner?: { add(buffer: Buffer, mode: string): Promise<{ version: number }> } }).inner;
  if (!inner || typeof inner.add !== 'function') return table.add(data);
  const ipc = await RecordBatchFileWriter.writeAll(data).toUint8Array();
  const buffer = Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength); // a view, not a copy
  return inner.add(buffer, 'append');
}

