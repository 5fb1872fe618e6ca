import { TimeoutError } from '../errors.js';

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

  /**
   * Resolves (or rejects) like `work`, or rejects with TimeoutError when the
   * budget runs out first. For reads only: abandoned work must have no effects.
   */
  async race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined); // an abandoned read's late failure is nobody's business
    if (this.signal.aborted) throw this.signal.reason;
    let onAbort!: () => void;
    const expired = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
