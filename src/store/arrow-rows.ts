import type { Table as LanceTable } from '@lancedb/lancedb';
import type { DataType, FixedSizeList as FixedSizeListType, Table as ArrowTable, Vector } from 'apache-arrow';
import type { StoredMemory } from '../model.js';
import { arrow } from './arrow.js';
import { memoriesSchema } from './schema.js';
import { searchText } from './text.js';

const { Float32, RecordBatch, RecordBatchFileWriter, Struct, Table, Utf8, makeData, makeVector } = arrow;

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
  // Each column in its schema field's own type (timestamp unit and zone, list item field).
  const typeOf = (name: string): DataType => schema.fields.find((f) => f.name === name)!.type as DataType;
  const str = (f: (m: StoredMemory) => string | null) => utf8Column(rows.map(f));
  const ts = (name: string, f: (m: StoredMemory) => number | null) => timestampColumn(rows.map(f), typeOf(name));
  const bool = (name: string, f: (m: StoredMemory) => boolean) => boolColumn(rows.map(f), typeOf(name));
  const flat = new Float32Array(n * dim);
  rows.forEach((m, i) => flat.set(m.vector!, i * dim));
  const vectorType = typeOf('vector') as FixedSizeListType;
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
    tags: listOfUtf8Column(rows.map((m) => m.tags), typeOf('tags')),
    metadata: str((m) => JSON.stringify(m.metadata)),
    confidence: makeVector(Float64Array.from(rows, (m) => m.confidence)),
    importance: makeVector(Float64Array.from(rows, (m) => m.importance)),
    source: str((m) => m.source),
    provenance: str((m) => m.provenance),
    pinned: bool('pinned', (m) => m.pinned),
    immutable: bool('immutable', (m) => m.immutable),
    expires_at: ts('expires_at', (m) => m.expires_at),
    created_at: ts('created_at', (m) => m.created_at),
    updated_at: ts('updated_at', (m) => m.updated_at),
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
 * The columns Arrow's `vectorFromArray` would build element by element
 * through its builders (~0.6 ms of a 100-row table's ~1.3 ms in a CPU
 * profile of a stdio ingest, for six small columns), written directly.
 */
function timestampColumn(values: readonly (number | null)[], type: DataType): Vector {
  const n = values.length;
  const data = new BigInt64Array(n);
  const valid = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      valid[i >> 3]! |= 1 << (i & 7);
      data[i] = BigInt(v);
    }
  });
  return makeVector(makeData({ type: type as InstanceType<typeof arrow.TimestampMillisecond>, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : null, data }));
}

function boolColumn(values: readonly boolean[], type: DataType): Vector {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) bits[i >> 3]! |= 1 << (i & 7);
  });
  return makeVector(makeData({ type: type as InstanceType<typeof arrow.Bool>, length: values.length, nullCount: 0, data: bits }));
}

function listOfUtf8Column(lists: readonly (readonly string[])[], type: DataType): Vector {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l.length));
  const child = utf8Column(lists.flat()).data[0]!;
  return makeVector(makeData({ type: type as InstanceType<typeof arrow.List<InstanceType<typeof arrow.Utf8>>>, length: lists.length, nullCount: 0, valueOffsets: offsets, child }));
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

