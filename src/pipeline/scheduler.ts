import pLimit, { type LimitFunction } from 'p-limit';
import type { OrderingMode } from './options.js';

/**
 * Runs the tasks of one partition concurrently under its semaphore and the process-wide one,
 * keeping the order the mode asks for:
 * - `key`: tasks with the same key run one after another, in offset order; other keys run
 *   concurrently. A record without a key has no order to keep and runs like `unordered`.
 * - `unordered`: any task may run.
 * - `partition`: one task at a time (the baseline).
 *
 * The semaphore covers only the task itself; a task waiting for its key predecessor holds
 * no slot, so one hot key cannot starve the partition.
 */
export class PartitionScheduler {
  private readonly limit: LimitFunction;
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private peak = 0;

  constructor(
    private readonly mode: OrderingMode,
    partitionConcurrency: number,
    private readonly global: LimitFunction,
  ) {
    this.limit = pLimit(mode === 'partition' ? 1 : partitionConcurrency);
  }

  /** The returned promise settles when the task has run; it rejects if the task throws. */
  schedule(key: string | null, task: () => Promise<void>): Promise<void> {
    const limited = () => this.limit(() => this.global(() => this.track(task)));
    if (this.mode !== 'key' || key === null) return limited();
    const prev = this.tails.get(key);
    // A failed predecessor must not stop its successors: they run regardless.
    const run = prev ? prev.then(limited, limited) : limited();
    this.tails.set(key, run);
    const forget = () => {
      if (this.tails.get(key) === run) this.tails.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  /**
   * Whether a task that finishes synchronously may run now, outside the semaphores, without
   * breaking the order: `partition` mode only when nothing runs or waits; `key` mode when no
   * task of that key is in flight; `unordered` always. (Such a task holds no slot over time,
   * so it cannot exceed a concurrency limit.)
   */
  canRunNow(key: string | null): boolean {
    if (this.mode === 'partition') return this.limit.activeCount === 0 && this.limit.pendingCount === 0;
    if (this.mode === 'key' && key !== null) return !this.tails.has(key);
    return true;
  }

  /**
   * Nothing runs, waits or holds a key: a task may run now in any mode (`canRunNow` is true
   * for every key), so the caller need not build the key's string to ask.
   */
  idle(): boolean {
    return this.tails.size === 0 && this.limit.activeCount === 0 && this.limit.pendingCount === 0;
  }

  private async track(task: () => Promise<void>): Promise<void> {
    this.running++;
    if (this.running > this.peak) this.peak = this.running;
    try {
      await task();
    } finally {
      this.running--;
    }
  }

  /** Tasks executing now (holding both semaphores). */
  active(): number {
    return this.running;
  }

  /** The most tasks this partition ever ran at once. */
  peakActive(): number {
    return this.peak;
  }

  /** Tasks queued or waiting for a key predecessor. */
  queued(): number {
    return this.limit.pendingCount;
  }
}

export function createGlobalLimit(concurrency: number): LimitFunction {
  return pLimit(concurrency);
}
