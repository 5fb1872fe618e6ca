/**
 * Hands every item of `source` to `onItem`, in order, having already asked
 * for the next one: LanceDB decodes the next record batch on its own threads
 * while this thread indexes the current one. A `for await` loop asks only
 * after the work is done, and at 100,000 memories the main thread then sat
 * idle for 2.4 of a replica load's 7.8 s (a CPU profile under --cpu-prof; the
 * load itself went from 5.2–5.5 to 4.1–4.5 s, bench/RESULTS.md's fourth pass).
 * One request is outstanding at a time, as with `for await`.
 */
export async function readAhead<T>(source: AsyncIterable<T>, onItem: (item: T) => void): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  let current = await it.next();
  while (!current.done) {
    const pending = it.next();
    try {
      onItem(current.value);
    } catch (err) {
      // The read already asked for is not wanted any more; its failure is not this one's.
      pending.catch(() => undefined);
      await it.return?.().catch(() => undefined);
      throw err;
    }
    current = await pending;
  }
}
