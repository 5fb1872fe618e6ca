import type { Data, Vector } from 'apache-arrow';
import { arrow } from '../arrow.js';

const { Type } = arrow;

/**
 * Readers of one Arrow column, value by index, straight from its buffers.
 *
 * Why: Arrow's `Vector.get` goes through a type visitor and decodes each
 * string with a TextDecoder; reading the 22 columns of 100,000 memories that
 * way was ~1 s of a replica load's ~4.5 s (CPU profile). A column laid out
 * another way (several chunks, a slice, another type) falls back to `get`, so
 * a reader is always right and usually fast. LanceDB's record batches are
 * one chunk each, at offset 0.
 */
export type Reader<T> = (i: number) => T;

/** The column's one chunk, if it is one chunk at offset 0 of one of these types. */
function plain(v: Vector, ...typeIds: number[]): Data | undefined {
  const d = v.data.length === 1 ? (v.data[0] as Data) : undefined;
  return d && d.offset === 0 && typeIds.includes(d.type.typeId) ? d : undefined;
}

/** Validity of row i (nulls only where the column has any). */
function validity(d: Data): (i: number) => boolean {
  const bits = d.nullBitmap;
  if (!d.nullCount || !bits || bits.length === 0) return () => true;
  return (i) => (bits[i >> 3]! & (1 << (i & 7))) !== 0;
}

export function strings(v: Vector): Reader<string | null> {
  const d = plain(v, Type.Utf8);
  if (!d) return (i) => (v.get(i) as string | null) ?? null;
  const offsets = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const valid = validity(d);
  return (i) => (valid(i) ? buf.toString('utf8', offsets[i]!, offsets[i + 1]!) : null);
}

/** Int32, Float64 and millisecond-timestamp columns as numbers. */
export function numbers(v: Vector): Reader<number | null> {
  const d = plain(v, Type.Int, Type.Float, Type.Timestamp);
  const values = d?.values as unknown;
  if (!d || !(values instanceof Int32Array || values instanceof Float64Array || values instanceof BigInt64Array)) {
    return (i) => {
      const x = v.get(i) as number | bigint | null;
      return x === null ? null : Number(x);
    };
  }
  const valid = validity(d);
  if (values instanceof BigInt64Array) return (i) => (valid(i) ? Number(values[i]!) : null);
  return (i) => (valid(i) ? values[i]! : null);
}

export function booleans(v: Vector): Reader<boolean | null> {
  const d = plain(v, Type.Bool);
  if (!d) {
    return (i) => {
      const x = v.get(i) as boolean | null;
      return x === null ? null : Boolean(x);
    };
  }
  const bits = d.values as Uint8Array;
  const valid = validity(d);
  return (i) => (valid(i) ? (bits[i >> 3]! & (1 << (i & 7))) !== 0 : null);
}

/** A List<Utf8> column as arrays of strings. */
export function stringLists(v: Vector, each: (s: string) => string = (s) => s): Reader<string[] | null> {
  const d = plain(v, Type.List);
  const child = d?.children[0];
  if (!d || !child || child.offset !== 0 || child.type.typeId !== Type.Utf8) {
    return (i) => {
      const list = v.get(i) as Iterable<string> | null;
      return list === null ? null : Array.from(list, each);
    };
  }
  const offsets = d.valueOffsets as Int32Array;
  const bytes = child.values as Uint8Array;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const childOffsets = child.valueOffsets as Int32Array;
  const valid = validity(d);
  const childValid = validity(child);
  return (i) => {
    if (!valid(i)) return null;
    const from = offsets[i]!;
    // Sized up front: an array grown by push keeps room for 16 (13 MB over 100,000 memories' tags).
    const out = new Array<string>(offsets[i + 1]! - from);
    for (let k = 0; k < out.length; k++) {
      const at = from + k;
      out[k] = childValid(at) ? each(buf.toString('utf8', childOffsets[at]!, childOffsets[at + 1]!)) : (null as unknown as string);
    }
    return out;
  };
}
