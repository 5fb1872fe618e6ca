/** Typed arrays that grow by doubling: postings and per-slot columns appended to one slot at a time. */
type TypedArray = Int32Array | Uint16Array | Int16Array | Float32Array | Float64Array | Uint8Array;

export function grown<T extends TypedArray>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  let capacity = Math.max(8, array.length);
  while (capacity < needed) capacity *= 2;
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  return next;
}

/** A copy of `array` with room for exactly `length` elements (at least its own). */
export function resized<T extends TypedArray>(array: T, length: number): T {
  if (length <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array);
  return next;
}

/**
 * `array` cut down to `used` elements plus an eighth of headroom, when that
 * saves at least a quarter of it: a replica built by appending holds up to
 * twice what it needs (doubling), and the headroom keeps the next writes from
 * growing every array again at once. The same array when trimming would not pay.
 */
export function trimmed<T extends TypedArray>(array: T, used: number): T {
  const keep = Math.max(8, used + (used >> 3));
  if (keep > array.length * 0.75) return array;
  return array.slice(0, keep) as T;
}
