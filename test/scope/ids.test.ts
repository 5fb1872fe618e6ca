/**
 * Memory and batch ids (src/scope/ids.ts): ULIDs, monotonic within a
 * millisecond, their random part drawn from a pooled buffer of system
 * randomness rather than one system call per character.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newBatchId, newMemoryId } from '../../src/scope/ids.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

afterEach(() => vi.restoreAllMocks());

describe('memory ids', () => {
  it('are mem_ + a ULID, unique and in creation order, within a millisecond and across many', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      ids.push(newMemoryId());
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 2)); // new milliseconds: new random parts
    }
    for (const id of ids) expect(id.slice(4)).toMatch(ULID);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(newBatchId()).toMatch(/^bat_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('draw their randomness from a pool, not one system call per character', async () => {
    const perCall = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      ids.add(newMemoryId());
      await new Promise((r) => setTimeout(r, 1)); // each id in a new millisecond: a fresh random part
    }
    expect(ids.size).toBe(50);
    expect(perCall).not.toHaveBeenCalled();
  });

  it('random parts minted in different milliseconds differ (the pool is not reused)', async () => {
    const parts = new Set<string>();
    for (let i = 0; i < 300; i++) {
      parts.add(newMemoryId().slice(14)); // after mem_ and the 10-character time
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(parts.size).toBe(300);
  });
});
