import type { ItemError } from '../errors.js';

/** What a tool decided for one item, before the call's options are applied. */
export type Outcome =
  | { status: 'ok'; id?: string; action: string; reason?: string; extra?: Record<string, unknown> }
  | { status: 'error'; id?: string; error: ItemError };

export type Result = {
  index: number;
  id?: string;
  status: 'ok' | 'error' | 'skipped';
  action?: string;
  reason?: string;
  error?: ItemError;
} & Record<string, unknown>;

export interface PolicyOptions {
  continue_on_error: boolean;
  atomic: boolean;
  validate_only: boolean;
}

/**
 * Applies contract §3's options to every item's outcome, in input order:
 * `validate_only` writes nothing; `atomic` writes nothing if anything failed;
 * `continue_on_error: false` skips everything after the first failure.
 * Returns the results and the indices whose writes may be committed.
 */
export function applyPolicy(outcomes: readonly Outcome[], opts: PolicyOptions): { results: Result[]; writable: Set<number> } {
  const firstFailure = outcomes.findIndex((o) => o.status === 'error');
  const writable = new Set<number>();
  const results = outcomes.map((o, index): Result => {
    const id = o.id === undefined ? {} : { id: o.id };
    // A skipped creation names no id: that memory was never written (and the id will never exist).
    const skippedId = o.status === 'ok' && o.action === 'created' ? {} : id;
    if (firstFailure >= 0 && !opts.continue_on_error && index > firstFailure) {
      return { index, ...skippedId, status: 'skipped', reason: `item ${firstFailure} failed and continue_on_error is false` };
    }
    if (o.status === 'error') return { index, ...id, status: 'error', error: o.error };
    if (firstFailure >= 0 && opts.atomic) {
      return { index, ...skippedId, status: 'skipped', reason: `nothing written: the call is atomic and item ${firstFailure} failed` };
    }
    if (opts.validate_only) {
      return { index, ...id, status: 'ok', action: 'validated', reason: `would be ${o.action}`, ...o.extra };
    }
    writable.add(index);
    return { index, ...id, status: 'ok', action: o.action, ...(o.reason !== undefined && { reason: o.reason }), ...o.extra };
  });
  return { results, writable };
}
