/**
 * readAhead (src/store/replica/read-ahead.ts): the replica load asks LanceDB
 * for the next record batch before indexing the current one, so decoding and
 * indexing overlap. These checks hold it to that order, to one request in
 * flight, and to releasing the reader when indexing fails.
 */
import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/store/replica/read-ahead.js';

/** An async iterable over `items` that writes down every next(), return() and handled item, in order. */
function recording(items: number[], failAt?: number) {
  const events: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let index = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const i = index++;
        events.push(`next ${i}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        if (i === failAt) throw new Error(`read ${i} failed`);
        return i < items.length ? { done: false, value: items[i]! } : { done: true, value: undefined };
      },
      return: async () => {
        events.push('return');
        return { done: true, value: undefined };
      },
    }),
  };
  return { source, events, maxInFlight: () => maxInFlight };
}

describe('readAhead', () => {
  it('asks for the next item before handling the current one, and hands every item over in order', async () => {
    const { source, events, maxInFlight } = recording([10, 20, 30]);
    const seen: number[] = [];
    await readAhead(source, (item) => {
      events.push(`handle ${item}`);
      seen.push(item);
    });
    expect(seen).toEqual([10, 20, 30]);
    expect(events).toEqual(['next 0', 'next 1', 'handle 10', 'next 2', 'handle 20', 'next 3', 'handle 30']);
    expect(maxInFlight()).toBe(1);
  });

  it('handles nothing for an empty source', async () => {
    const { source, events } = recording([]);
    let calls = 0;
    await readAhead(source, () => calls++);
    expect(calls).toBe(0);
    expect(events).toEqual(['next 0']);
  });

  it('when handling fails: releases the reader, drops the read already asked for, and throws that failure', async () => {
    // The read asked for ahead fails too: that must not surface as an unhandled rejection or replace the real error.
    const { source, events } = recording([1, 2, 3], 1);
    await expect(
      readAhead(source, (item) => {
        throw new Error(`indexing ${item} failed`);
      }),
    ).rejects.toThrow('indexing 1 failed');
    expect(events).toEqual(['next 0', 'next 1', 'return']);
  });

  it('passes a failed read on as it is', async () => {
    const { source } = recording([1, 2, 3], 2);
    const seen: number[] = [];
    await expect(readAhead(source, (item) => seen.push(item))).rejects.toThrow('read 2 failed');
    expect(seen).toEqual([1, 2]);
  });
});
