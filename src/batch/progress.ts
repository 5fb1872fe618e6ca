/**
 * Progress of one call (contract §6): `notifications/progress` as its items
 * are validated, embedded and written. The scale is the same for every tool:
 * each item passes three stages, so `total` is 3 × items and `progress`
 * counts item-stages done. A stage a tool does not have (nothing to embed,
 * nothing to write) is simply jumped over, which keeps `progress` strictly
 * increasing across the whole call instead of restarting per stage.
 */

/** The stages of an item, in order. `written`, `searched` and `read` are all the last one. */
export type ProgressStage = 'validated' | 'embedded' | 'written' | 'searched' | 'read';

const STAGE_INDEX: Record<ProgressStage, number> = { validated: 0, embedded: 1, written: 2, searched: 2, read: 2 };
const STAGES = 3;

/** What tools call as their items pass a stage. */
export interface Progress {
  /** `count` more of the call's items have passed `stage`. Never throws, never waits. */
  advance(stage: ProgressStage, count: number): void;
  /**
   * The call is waiting before its next stage (a local model loading), `fraction`
   * (0–1) of the way. Reported inside the step to the next item-stage, so that
   * `progress` still only grows. Never throws, never waits.
   */
  wait(message: string, fraction: number): void;
}

/** Where a call's progress goes: the transport's notification for this request. */
export type ProgressSink = (update: { progress: number; total: number; message: string }) => Promise<void>;

export class CallProgress implements Progress {
  private readonly total: number;
  private sent = 0;
  private readonly passed = new Map<number, number>();
  /** The last whole item-stage count sent; waits are reported between it and the next. */
  private base = 0;
  /** Notifications go out one after another, and all before the call's response. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: ProgressSink | undefined,
    private readonly items: number,
  ) {
    this.total = STAGES * items;
  }

  advance(stage: ProgressStage, count: number): void {
    if (!this.sink || count <= 0) return;
    const index = STAGE_INDEX[stage];
    const passed = Math.min(this.items, (this.passed.get(index) ?? 0) + count);
    this.passed.set(index, passed);
    this.send(index * this.items + passed, `${passed}/${this.items} ${stage}`);
  }

  wait(message: string, fraction: number): void {
    if (!this.sink) return;
    // Just under the next whole step (at most 0.99 of it), rounded so that repeats of one fraction are dropped.
    const within = Math.round(Math.min(1, Math.max(0, fraction)) * 99) / 100;
    if (within <= 0) return;
    this.send(this.base + within, message);
  }

  /** The last notification, `progress = total`; resolves when every notification has been handed to the transport. */
  finish(): Promise<void> {
    if (this.sink) this.send(this.total, `${this.items}/${this.items} done`);
    return this.chain;
  }

  private send(progress: number, message: string): void {
    // Strictly increasing: a later stage's count can trail an earlier stage's total.
    if (progress <= this.sent || progress > this.total) return;
    this.sent = progress;
    if (Number.isInteger(progress)) this.base = progress;
    const sink = this.sink!;
    const update = { progress, total: this.total, message };
    // A client that went away must not fail the call: its result is still written.
    this.chain = this.chain.then(() => sink(update)).catch(() => undefined);
  }
}
