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
