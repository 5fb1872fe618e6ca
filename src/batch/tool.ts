import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { Embedder } from '../embed/embedder.js';
import type { Scope } from '../scope/sessions.js';
import type { MemoryStore } from '../store/memories.js';
import type { Searcher } from '../store/search.js';
import type { Deadline } from './deadline.js';
import type { CommonOptions } from './options.js';
import type { Outcome, Result } from './policy.js';
import type { Progress } from './progress.js';

export type { Outcome };

/** What a tool's items may use. The store and embedder never know about MCP. */
export interface Services {
  store: MemoryStore;
  searcher: Searcher;
  embedder: Embedder;
}

export interface RunContext<Options> {
  scope: Scope;
  options: CommonOptions & Options;
  services: Services;
  /** When the call started (epoch ms): one "now" for expiry checks and timestamps. */
  now: number;
  deadline: Deadline;
  /** Tools report here as their items are embedded and written (or searched, read). */
  progress: Progress;
  /**
   * Applies the call's options to every item's outcome and returns the indices
   * that may be written. Write tools call it under the write lock, just before
   * committing; read tools need not call it.
   */
  settle(outcomes: ReadonlyMap<number, Outcome>): Set<number>;
}

/** One validated item with its position in the input. */
export interface Indexed<Item> {
  index: number;
  item: Item;
}

/**
 * A batch tool is one value: its contract row (names, descriptions, schemas)
 * and a `run` that turns validated items into per-item outcomes.
 */
export interface BatchTool<Item = any, Options = any> {
  name: string;
  title: string;
  /** For the model. `{max}` in it (and in itemsDescription) is replaced by the configured item limit. */
  description: string;
  annotations: ToolAnnotations;
  /** The input array's name: memories, updates, ids or queries. */
  itemsKey: string;
  itemsDescription: string;
  itemSchema: z.ZodType<Item, any>;
  /** Tool-specific options beside the common ones (dedupe, force, max_retries). */
  options: z.ZodRawShape;
  /** Extra per-result fields in the output schema (memory, results, version …). */
  resultShape: z.ZodRawShape;
  /** The id an item targets, for DUPLICATE_ID; undefined when it names none. */
  idOf?: (item: Item) => string | undefined;
  run(items: Indexed<Item>[], ctx: RunContext<Options>): Promise<Map<number, Outcome>>;
  /**
   * An ok result as the text block shows it (structuredContent stays whole):
   * e.g. search hits without the fields that hold their default. `item` is the
   * validated item.
   */
  brief?(result: Result, item: Item | undefined): Record<string, unknown>;
}

export const defineTool = <Item, Options>(tool: BatchTool<Item, Options>): BatchTool<Item, Options> => tool;
