import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Harness, type HarnessOptions, startHarness, textOf } from '../helpers/harness.js';

export { textOf };
export type { Harness };

/**
 * One harness for a whole describe block: started in beforeAll, closed in
 * afterAll. Use the returned getter inside tests (`const h = useHarness(); … h()`).
 */
export function useHarness(opts: HarnessOptions = {}): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness(opts);
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => {
    if (!h) throw new Error('harness not started');
    return h;
  };
}

/** A random word nobody else in the suite uses, so searches for it find only what a test wrote. */
export function uniqueWord(prefix = 'zq'): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let s = prefix;
  for (let i = 0; i < 9; i++) s += letters[Math.floor(Math.random() * letters.length)];
  return s;
}

export type Args = Record<string, unknown>;

export const remember = (h: Harness, memories: Args[], extra: Args = {}) => h.ok('batch_remember', { memories, ...extra });
export const update = (h: Harness, updates: Args[], extra: Args = {}) => h.ok('batch_update', { updates, ...extra });
export const del = (h: Harness, ids: string[], extra: Args = {}) => h.ok('batch_delete', { ids, ...extra });
export const get = (h: Harness, ids: string[], extra: Args = {}) => h.ok('batch_get', { ids, ...extra });
export const search = (h: Harness, queries: Args[], extra: Args = {}) => h.ok('batch_search', { queries, ...extra });

/** Remembers one memory and returns its id (fails the test unless it was created). */
export async function rememberOne(h: Harness, item: Args, extra: Args = {}): Promise<string> {
  const out = await remember(h, [item], extra);
  expect(out.results[0], JSON.stringify(out.results[0])).toMatchObject({ status: 'ok', action: 'created' });
  return out.results[0].id as string;
}

/** The stored record of `id`, or undefined when batch_get reports NOT_FOUND. */
export async function getOne(h: Harness, id: string, extra: Args = {}): Promise<any> {
  const out = await get(h, [id], extra);
  const r = out.results[0];
  if (r.status === 'error') {
    expect(r.error.code).toBe('NOT_FOUND');
    return undefined;
  }
  return r.memory;
}

/** The ids one query returns. */
export async function searchIds(h: Harness, query: Args, extra: Args = {}): Promise<string[]> {
  const out = await search(h, [query], extra);
  const r = out.results[0];
  expect(r.status, JSON.stringify(r)).toBe('ok');
  return r.results.map((x: { id: string }) => x.id);
}

/** Asserts a whole-call failure: isError, text starting with the code, no structuredContent. */
export function expectCallError(res: CallToolResult, code: string): string {
  expect(res.isError, JSON.stringify(res)).toBe(true);
  const text = textOf(res);
  expect(text.startsWith(code), text).toBe(true);
  expect(res.structuredContent).toBeUndefined();
  return text;
}

/** Asserts result i is an item error with this code (and field, when given). */
export function expectItemError(out: any, index: number, code: string, field?: string): void {
  const r = out.results[index];
  expect(r, `result ${index}: ${JSON.stringify(r)}`).toMatchObject({ index, status: 'error', error: { code } });
  if (field !== undefined) expect(r.error.field, `result ${index}: ${JSON.stringify(r)}`).toBe(field);
  expect(typeof r.error.message).toBe('string');
  expect(r.error.message.length).toBeGreaterThan(0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const MEM_ID = /^mem_[0-9A-HJKMNP-TV-Z]{26}$/;
export const SESSION_ID = /^ses_[0-9a-f]{16}$/;

/** A unit vector of the database's dimension pointing along axis `k`. */
export function axisVector(dim: number, k = 0): number[] {
  const v = new Array<number>(dim).fill(0);
  v[k % dim] = 1;
  return v;
}

/**
 * Ids of the hits of a search for `word` whose content really contains it
 * (case-insensitive). Searches may also return session neighbours of a match
 * (contract §4: ranking may use a neighbour's text), and vector search returns
 * anything with some similarity, so counting rows by a word needs this.
 */
export async function idsContaining(h: Harness, word: string, mode: 'text' | 'vector' | 'hybrid' = 'text', extra: Args = {}): Promise<string[]> {
  const out = await search(h, [{ query: word, mode, limit: 100 }], extra);
  const r = out.results[0];
  expect(r.status, JSON.stringify(r)).toBe('ok');
  return r.results.filter((x: { content: string }) => x.content.toLowerCase().includes(word.toLowerCase())).map((x: { id: string }) => x.id);
}

/** What the text block leaves out of a search hit when it holds this value (contract §2's defaults). */
const HIT_DEFAULTS: Record<string, unknown> = { type: 'fact', title: null, tags: [], metadata: {}, confidence: 0.8, importance: 0.5, pinned: false, immutable: false, expires_at: null };
/** Hit fields the text block shows only when `fields` asks for them. */
const BOOKKEEPING = ['created_at', 'updated_at', 'session_id', 'version'];

/**
 * The text block's JSON with what it leaves out put back (README "Output"):
 * namespace, zero failed/skipped, validate_only false, and each search hit's
 * default fields; the bookkeeping of a hit (created_at, updated_at, session_id,
 * version) is taken from `structured`, the one thing the text never holds.
 * Equal to structuredContent for every call made without `fields`.
 */
export function fromTextBlock(brief: any, structured?: any): any {
  const results = brief.results.map((r: any, i: number) =>
    Array.isArray(r.results) && r.action === 'searched'
      ? {
          ...r,
          results: r.results.map((hit: any, j: number) => {
            const full = structured?.results[i]?.results[j] ?? {};
            for (const key of BOOKKEEPING) if (key in hit) throw new Error(`the text block shows ${key} unasked`);
            return { ...HIT_DEFAULTS, ...Object.fromEntries(BOOKKEEPING.map((k) => [k, full[k]])), ...hit };
          }),
        }
      : r,
  );
  return { ...brief, namespace: `agent:${brief.agent_id}`, failed: brief.failed ?? 0, skipped: brief.skipped ?? 0, validate_only: brief.validate_only ?? false, results };
}
