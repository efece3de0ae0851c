/**
 * Which offsets of one partition are safely done, and how far the group may commit.
 *
 * Invariant: `committable()` never exceeds the lowest dispatched offset whose result is not
 * yet acknowledged by the broker. Offsets never dispatched (compacted away, transaction
 * markers) are skipped only when the consumer saw past them (`seenThrough`).
 *
 * `uncommitted()` counts every dispatched offset at or above the last commit: that is what a
 * crash would replay, so the processor bounds it with the partition window.
 */
export class PartitionOffsetTracker {
  /** Dispatched offsets in increasing order. */
  private pending: number[] = [];
  /** Index of the first entry not yet done-and-contiguous. */
  private head = 0;
  /** Index of the first entry at or above the last committed offset. */
  private commitHead = 0;
  private readonly done = new Set<number>();
  /** The offset to commit: every offset below it is done or was never delivered to us. */
  private next = -1;
  private lastDispatched = -1;
  private seenEnd = -1;
  private committed = -1;

  constructor(
    /** Told whenever `uncommitted()` changes (the partition table's process-wide budget). */
    private readonly onUncommitted?: (before: number, after: number) => void,
  ) {}

  /**
   * Records that `offset` was handed to the scheduler. Returns false for an offset already
   * dispatched (a refetch after a rebalance or a resume): the caller must not run it twice.
   */
  dispatch(offset: number): boolean {
    if (offset <= this.lastDispatched) return false;
    if (this.next < 0) {
      // The position we started from needs no commit: nothing below it is ours.
      this.next = offset;
      this.committed = Math.max(this.committed, offset);
    }
    this.lastDispatched = offset;
    this.pending.push(offset);
    if (this.onUncommitted) {
      const after = this.uncommitted();
      this.onUncommitted(after - 1, after);
    }
    return true;
  }

  /** The consumer read everything below `end` (e.g. a batch ended with filtered control records). */
  seenThrough(end: number): void {
    if (end > this.seenEnd) this.seenEnd = end;
    if (this.head === this.pending.length) this.advanceTail();
  }

  /** The result of `offset` is acknowledged by the broker. */
  markDone(offset: number): void {
    if (offset < this.next || offset > this.lastDispatched) return;
    if (this.pending[this.head] !== offset) {
      this.done.add(offset);
      return;
    }
    this.head++;
    while (this.head < this.pending.length && this.done.delete(this.pending[this.head]!)) this.head++;
    if (this.head < this.pending.length) this.next = this.pending[this.head]!;
    else this.advanceTail();
  }

  private advanceTail(): void {
    this.next = Math.max(this.next, this.lastDispatched + 1, this.seenEnd);
  }

  /** Dispatched offsets not yet done-and-contiguous. */
  inFlight(): number {
    return this.pending.length - this.head;
  }

  /** Dispatched offsets at or above the last commit: what a crash now would replay. */
  uncommitted(): number {
    return this.pending.length - this.commitHead;
  }

  /** The offset to commit if it moved since the last commit, else undefined. */
  committable(): number | undefined {
    return this.next > this.committed ? this.next : undefined;
  }

  markCommitted(offset: number): void {
    if (offset <= this.committed) return;
    this.committed = offset;
    const before = this.uncommitted();
    while (this.commitHead < this.head && this.pending[this.commitHead]! < offset) this.commitHead++;
    const after = this.uncommitted();
    if (after !== before) this.onUncommitted?.(before, after);
    // Drop the committed prefix now and then so the array stays as small as the window.
    if (this.commitHead > 1024 && this.commitHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.commitHead);
      this.head -= this.commitHead;
      this.commitHead = 0;
    }
  }

  lastCommitted(): number {
    return this.committed;
  }
}
