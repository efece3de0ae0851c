import { setMaxListeners } from 'node:events';
import { ProcessorError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { ProcessorObserver } from './observer.js';
import { PartitionOffsetTracker } from './offsets.js';
import type { PartitionScheduler } from './scheduler.js';

/** Everything the processor keeps about one assigned partition. */
export class PartitionState {
  readonly tracker = new PartitionOffsetTracker();
  /** Aborted when the partition is revoked: its validations stop, their results are not wanted. */
  readonly abort = new AbortController();
  /** Records dispatched whose result is not yet acknowledged (or abandoned). */
  tasks = 0;
  /** Paused because the window is full. */
  paused = false;
  revoked = false;
  /** Wakes the batch loop waiting for this partition's window. */
  onResume: (() => void) | undefined;
  /** A retry topic's partition waits, paused, until its next record is due. */
  dueTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly scheduler: PartitionScheduler,
  ) {
    // Every check in flight on this partition listens to the signal (an HTTP request, a DNS
    // query): hundreds at once is normal, not the leak Node warns of past 10 listeners.
    setMaxListeners(0, this.abort.signal);
  }
}

/** Fetching of one partition, stopped and started: the consumer's pause and resume. */
export interface FetchControl {
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
}

/**
 * The partitions this member owns, and the window that bounds each of them.
 *
 * The window counts dispatched records from the last commit, so it bounds both memory and
 * what a crash replays. A partition whose window is full is paused; it is resumed once a
 * commit brought it down to half the window (hysteresis: a full partition does not flap
 * between paused and running on every completion). Nothing is resumed while draining.
 */
export class PartitionTable {
  private readonly byTopic = new Map<string, Map<number, PartitionState>>();
  /** Resume a paused partition once its uncommitted offsets fell to this. */
  readonly resumeBelow: number;
  private draining = false;

  constructor(
    /** Dispatched, uncommitted records a partition may hold (PARTITION_WINDOW). */
    readonly window: number,
    private readonly newScheduler: () => PartitionScheduler,
    private readonly fetch: FetchControl,
    private readonly observer: Pick<ProcessorObserver, 'paused'> = {},
    private readonly log?: Logger,
  ) {
    this.resumeBelow = Math.max(1, Math.floor(window / 2));
  }

  /** The state of a partition, created on its first batch. */
  get(topic: string, partition: number): PartitionState {
    let byPartition = this.byTopic.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.byTopic.set(topic, byPartition);
    }
    let st = byPartition.get(partition);
    if (!st) {
      st = new PartitionState(topic, partition, this.newScheduler());
      byPartition.set(partition, st);
    }
    return st;
  }

  find(topic: string, partition: number): PartitionState | undefined {
    return this.byTopic.get(topic)?.get(partition);
  }

  /** Every partition still owned. */
  *owned(): Generator<PartitionState> {
    for (const byPartition of this.byTopic.values()) {
      for (const st of byPartition.values()) if (!st.revoked) yield st;
    }
  }

  /** The window is full: the partition must not take another record until a commit. */
  isFull(st: PartitionState): boolean {
    return st.tracker.uncommitted() >= this.window;
  }

  /** Half the window waits on a commit that is possible now: worth committing early, so a busy partition rarely pauses. */
  wantsCommit(st: PartitionState): boolean {
    return st.tracker.uncommitted() >= this.resumeBelow && st.tracker.committable() !== undefined;
  }

  /** Pauses a partition whose window is full. */
  pause(st: PartitionState): void {
    if (st.paused) return;
    st.paused = true;
    this.fetch.pause(st.topic, st.partition);
    this.log?.debug(
      { topic: st.topic, partition: st.partition, inFlight: st.tracker.inFlight() },
      'partition paused: window full',
    );
    this.observer.paused?.(st.topic, st.partition, true);
  }

  /** A commit moved the partition's committed offset: resume it if its window drained enough. */
  committed(st: PartitionState, offset: number): void {
    st.tracker.markCommitted(offset);
    if (st.paused && !this.draining && !st.revoked && st.tracker.uncommitted() <= this.resumeBelow) this.resume(st);
  }

  private resume(st: PartitionState): void {
    st.paused = false;
    this.fetch.resume(st.topic, st.partition);
    st.onResume?.();
    this.log?.debug({ topic: st.topic, partition: st.partition }, 'partition resumed');
    this.observer.paused?.(st.topic, st.partition, false);
  }

  /** A retry topic's partition: paused until its next record is due, then fetched again. */
  holdUntilDue(st: PartitionState, waitMs: number): void {
    if (st.dueTimer) return;
    this.fetch.pause(st.topic, st.partition);
    st.dueTimer = setTimeout(() => {
      st.dueTimer = undefined;
      if (!st.revoked && !this.draining && !st.paused) this.fetch.resume(st.topic, st.partition);
    }, waitMs);
    st.dueTimer.unref();
  }

  /** Shutdown: nothing is resumed any more. */
  stopResuming(): void {
    this.draining = true;
  }

  /**
   * A new assignment: partitions kept stay (their window pauses re-applied, in case the join
   * reset them); lost ones are revoked: never committed for again, their work stopped. Their
   * next owner replays from the last commit (duplicates at most the window, nothing lost).
   */
  reassign(assignment: Record<string, number[]>): void {
    for (const [topic, byPartition] of this.byTopic) {
      const kept = new Set(assignment[topic] ?? []);
      for (const [partition, st] of byPartition) {
        if (kept.has(partition)) {
          if (st.paused) this.fetch.pause(topic, partition);
          continue;
        }
        st.revoked = true;
        if (st.dueTimer) clearTimeout(st.dueTimer);
        st.abort.abort(new ProcessorError('VALIDATION_UNKNOWN', 'partition revoked'));
        byPartition.delete(partition);
      }
    }
  }

  /** Records dispatched and not yet finished, over every partition. */
  inFlightTasks(): number {
    let n = 0;
    for (const byPartition of this.byTopic.values()) for (const st of byPartition.values()) n += st.tasks;
    return n;
  }

  /** Per-partition counters, for debug logs and operators. */
  stats(): PartitionStats[] {
    const out: PartitionStats[] = [];
    for (const st of this.owned()) {
      out.push({
        topic: st.topic,
        partition: st.partition,
        tasks: st.tasks,
        uncommitted: st.tracker.uncommitted(),
        paused: st.paused || st.dueTimer !== undefined,
        committed: st.tracker.lastCommitted(),
      });
    }
    return out;
  }
}

export interface PartitionStats {
  topic: string;
  partition: number;
  tasks: number;
  uncommitted: number;
  paused: boolean;
  committed: number;
}
