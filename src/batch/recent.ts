/**
 * The latest calls of each tool in this process (their wall time and when
 * they ended), for the inspector's latency chart. A ring of fixed size per
 * tool: recording costs no allocation once full and nothing is kept of what a
 * call read or wrote.
 */
export interface RecentCall {
  /** Epoch ms when the call ended. */
  at: number;
  ms: number;
}

const KEEP = 200;
const rings = new Map<string, { calls: RecentCall[]; next: number }>();

/** Records a call that ran (whole-call refusals are not timed: they never reach the store). */
export function recordCall(tool: string, ms: number): void {
  let ring = rings.get(tool);
  if (!ring) rings.set(tool, (ring = { calls: [], next: 0 }));
  const call = { at: Date.now(), ms };
  if (ring.calls.length < KEEP) ring.calls.push(call);
  else ring.calls[ring.next] = call;
  ring.next = (ring.next + 1) % KEEP;
}

/** The recent calls of `tool`, oldest first. */
export function recentCalls(tool: string): RecentCall[] {
  const ring = rings.get(tool);
  if (!ring) return [];
  return ring.calls.length < KEEP ? [...ring.calls] : [...ring.calls.slice(ring.next), ...ring.calls.slice(0, ring.next)];
}

/** The q-quantile (0–1) of `values` by the nearest-rank method; undefined for none. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
