import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Where one call's time goes, stage by stage: validation, scope, embedding,
 * waiting for the write lock, catching up with other processes, the LanceDB
 * commit, retrieval, ranking, building the answer. Carried by async context,
 * so each layer marks its own stages without passing a timer down; with
 * MEMLANE_LOG_LEVEL=debug the runner logs one line per call on stderr.
 * Stages may overlap (queries of a batch run concurrently), so they can add
 * up to more than the call's wall time.
 */
export class CallTimer {
  private readonly started = performance.now();
  private readonly stages = new Map<string, { ms: number; count: number }>();

  add(stage: string, ms: number): void {
    const s = this.stages.get(stage);
    if (s) {
      s.ms += ms;
      s.count++;
    } else this.stages.set(stage, { ms, count: 1 });
  }

  get elapsed(): number {
    return performance.now() - this.started;
  }

  /** `validate 0.41, scope 0.22, embed 3.10 (1×) …, total 9.8 ms` */
  summary(): string {
    const parts = [...this.stages].map(([name, { ms, count }]) => `${name} ${ms.toFixed(2)}${count > 1 ? ` (${count}×)` : ''}`);
    return `${parts.join(', ')}; total ${this.elapsed.toFixed(2)} ms`;
  }
}

const current = new AsyncLocalStorage<CallTimer>();

/** Runs `fn` with `timer` as the current call's timer. */
export function withTimer<T>(timer: CallTimer, fn: () => Promise<T>): Promise<T> {
  return current.run(timer, fn);
}

/** The current call's timer, if any. */
export function currentTimer(): CallTimer | undefined {
  return current.getStore();
}

/**
 * Identifies the tool call running now (undefined outside one): one object per
 * call, shared by its items. Lets the store check once per call what must be
 * checked at every call (another process's writes), instead of once per item.
 */
export function currentCall(): object | undefined {
  return current.getStore();
}

/** Times `fn` as `stage` of the current call (if any). */
export async function timed<T>(stage: string, fn: () => Promise<T>): Promise<T> {
  const timer = current.getStore();
  if (!timer) return fn();
  const t = performance.now();
  try {
    return await fn();
  } finally {
    timer.add(stage, performance.now() - t);
  }
}

/** Times synchronous `fn` as `stage` of the current call (if any). */
export function timedSync<T>(stage: string, fn: () => T): T {
  const timer = current.getStore();
  if (!timer) return fn();
  const t = performance.now();
  try {
    return fn();
  } finally {
    timer.add(stage, performance.now() - t);
  }
}
