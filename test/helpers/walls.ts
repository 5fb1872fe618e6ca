import type { WallRemovedForTests } from '../../src/store/memories.js';

/**
 * Agents are kept apart by two walls: one LanceDB table per agent, and a
 * namespace predicate on every read. With both in place, removing either one
 * changes nothing a test can see, so a regression in one wall would go
 * unnoticed. The isolation, injection and filter suites therefore run three
 * times: against the product, against a store whose agents share one table
 * (the predicate alone must hold), and against one whose reads drop the
 * predicate (the per-agent tables alone must hold).
 */
export interface WallVariant {
  name: string;
  removeWall?: WallRemovedForTests;
}

export const WALL_VARIANTS: readonly WallVariant[] = [
  { name: 'both walls (the product)' },
  { name: 'one table shared by all agents, namespace predicate only', removeWall: 'per-agent-table' },
  { name: 'per-agent tables only, reads without the namespace predicate', removeWall: 'namespace-predicate' },
];
