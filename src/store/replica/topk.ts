/**
 * The k best (slot, score) pairs seen, best first: a binary min-heap of the
 * current k, so selecting from n candidates costs n·log k, not a sort of n.
 * Ties go to the higher slot (the later write), like the ranking's own
 * tie-break on recency, so results do not depend on arrival order.
 */
export class TopK {
  private readonly slots: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(readonly k: number) {
    this.slots = new Int32Array(Math.max(1, k));
    this.scores = new Float64Array(Math.max(1, k));
  }

  /**
   * The score a candidate must at least have to enter now: -Infinity until k
   * are held, then the k-th best (a tie enters only with a higher slot, see
   * `admits`). A plain number, for a scan's tight loop to compare against.
   */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0]!;
  }

  /** Whether a candidate with this score would enter now (ask before an expensive check of it). */
  admits(slot: number, score: number): boolean {
    return this.size < this.k || score > this.scores[0]! || (score === this.scores[0]! && slot > this.slots[0]!);
  }

  /** Offers a candidate; cheap when it cannot enter. */
  offer(slot: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      this.slots[i] = slot;
      this.scores[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    if (score < this.scores[0]! || (score === this.scores[0]! && slot < this.slots[0]!)) return;
    this.slots[0] = slot;
    this.scores[0] = score;
    this.siftDown(0);
  }

  /** Best first. */
  result(): Array<{ slot: number; score: number }> {
    const out = Array.from({ length: this.size }, (_, i) => ({ slot: this.slots[i]!, score: this.scores[i]! }));
    return out.sort((a, b) => b.score - a.score || b.slot - a.slot);
  }

  private less(a: number, b: number): boolean {
    const sa = this.scores[a]!;
    const sb = this.scores[b]!;
    return sa < sb || (sa === sb && this.slots[a]! < this.slots[b]!);
  }

  private swap(a: number, b: number): void {
    const s = this.slots[a]!;
    this.slots[a] = this.slots[b]!;
    this.slots[b] = s;
    const x = this.scores[a]!;
    this.scores[a] = this.scores[b]!;
    this.scores[b] = x;
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
