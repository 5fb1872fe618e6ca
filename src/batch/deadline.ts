/** Raised at a safe point (never mid-commit) once a call's `timeout_ms` has passed. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** A call's time budget: checked between stages, and an AbortSignal for providers. */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly at: number;

  constructor(readonly timeoutMs: number) {
    this.at = Date.now() + timeoutMs;
    this.timer = setTimeout(() => this.controller.abort(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return Date.now() >= this.at;
  }

  /** Throws TimeoutError when the budget is spent; call before starting a stage that writes. */
  check(stage: string): void {
    if (this.expired) throw new TimeoutError(`timed out after ${this.timeoutMs} ms (before ${stage})`);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
