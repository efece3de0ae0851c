import { setMaxListeners } from 'node:events';
import { ProcessorError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { ProcessorObserver } from './observer.js';
import { PartitionOffsetTracker } from './offsets.js';
import type { PartitionScheduler } from './scheduler.js';

/** Everything the processor keeps about one assigned partition. */
export class PartitionState {
  readonly tracker: PartitionOffsetTracker;
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
  /** The partition's high watermark as of the last fetched batch (-1: none fetched yet). */
  highWatermark = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly scheduler: PartitionScheduler,
    onUncommitted?: (before: number, after: number) => void,
  ) {
    this.tracker = new PartitionOffsetTracker(onUncommitted);
    // Every check in flight on this partition listens to the signal (an HTTP request, a DNS
    // query): hundreds at once is normal, not the leak Node warns of past 10 listeners.
    setMaxListeners(0, this.abort.signal);
  }
}

/**
 * Records of the partition a crash now would still have to process: its high watermark as of
 * the last fetch minus the group's committed offset. Records read but waiting in the window, or
 * validated but not yet committed, count (measuring from the last fetched offset would read 0
 * while a paused window holds hundreds). Undefined before the first fetch.
 */
export function partitionLag(st: PartitionState): number | undefined {
  if (st.highWatermark < 0) return undefined;
  const committed = st.tracker.lastCommitted();
  return committed < 0 ? undefined : Math.max(0, st.highWatermark - committed);
}

/** Fetching of one partition, stopped and started: the consumer's pause and resume. */
export interface FetchControl {
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
}

/** The windows: per partition (PARTITION_WINDOW) and for the whole process (GLOBAL_WINDOW). */
export interface WindowLimits {
  partition: number;
  global: number;
}

/**
 * The partitions this member owns, and the windows that bound them.
 *
 * A window counts dispatched records from the last commit, so it bounds both memory and
 * what a crash replays. Two windows apply, and this is the one place their rule lives:
 * - the partition's own, PARTITION_WINDOW;
 * - the process's, GLOBAL_WINDOW, shared fairly by the partitions that have records: each
 *   is guaranteed its share (GLOBAL_WINDOW / partitions, at least one record), and may go
 *   past it only into budget nobody claims (the remainder of the division, partitions
 *   not yet seen). The budget claimed is the sum over partitions of max(uncommitted,
 *   share). A record is dispatched only while that stays within GLOBAL_WINDOW, so the
 *   process never holds more than GLOBAL_WINDOW records (or one per partition, if they
 *   are more), whatever the partition count. When a partition joins, the shares shrink;
 *   until commits bring the others down to theirs, nobody takes more.
 *
 * A partition without room is paused; it is resumed once a commit brought it down to half
 * its window and the budget allows it again (past its share: half a share below the
 * budget; hysteresis, so a full partition does not flap on every completion). One
 * partition's commit can resume another waiting on the budget. Nothing is resumed while
 * draining.
 */
export class PartitionTable {
  private readonly byTopic = new Map<string, Map<number, PartitionState>>();
  readonly window: number;
  readonly globalWindow: number;
  /** Resume a paused partition once its uncommitted offsets fell to this. */
  readonly resumeBelow: number;
  /** What a partition may hold without borrowing from the global budget. */
  private shareValue = 1;
  /** Sum over the partitions of max(uncommitted, share). */
  private claimedValue = 0;
  /** GLOBAL_WINDOW, or one record per partition if they are more. */
  private budget = Number.POSITIVE_INFINITY;
  private readonly pausedOnWindow = new Set<PartitionState>();
  private draining = false;

  constructor(
    /** A number: PARTITION_WINDOW alone (no global budget). */
    window: number | WindowLimits,
    private readonly newScheduler: () => PartitionScheduler,
    private readonly fetch: FetchControl,
    private readonly observer: Pick<ProcessorObserver, 'paused'> = {},
    private readonly log?: Logger,
  ) {
    const limits = typeof window === 'number' ? { partition: window, global: Number.POSITIVE_INFINITY } : window;
    this.window = limits.partition;
    this.globalWindow = limits.global;
    this.resumeBelow = Math.max(1, Math.floor(this.window / 2));
    this.rebalanceBudget();
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
      const created: PartitionState = new PartitionState(topic, partition, this.newScheduler(), (before, after) => {
        // A revoked partition's records left the budget when it was revoked.
        if (!created.revoked) this.onUncommitted(before, after);
      });
      st = created;
      byPartition.set(partition, st);
      this.rebalanceBudget();
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

  /** A partition's fair share of the global window. */
  get share(): number {
    return this.shareValue;
  }

  /** The global budget claimed: held records, and the unused shares kept for their partitions. */
  get claimed(): number {
    return this.claimedValue;
  }

  /** Keeps `claimed` exact as trackers dispatch and commit (called by every tracker of the table). */
  private readonly onUncommitted = (before: number, after: number): void => {
    const share = this.shareValue;
    this.claimedValue += Math.max(after, share) - Math.max(before, share);
  };

  /** The partition count changed: new shares, and the budget claimed under them. */
  private rebalanceBudget(): void {
    let partitions = 0;
    for (const _ of this.owned()) partitions++;
    const fair = Number.isFinite(this.globalWindow)
      ? Math.floor(this.globalWindow / Math.max(1, partitions))
      : this.window;
    this.shareValue = Math.max(1, Math.min(this.window, fair));
    this.budget = Math.max(this.globalWindow, partitions * this.shareValue);
    let claimed = 0;
    for (const st of this.owned()) claimed += Math.max(st.tracker.uncommitted(), this.shareValue);
    this.claimedValue = claimed;
  }

  /** No room: the partition must not take another record until a commit. */
  isFull(st: PartitionState): boolean {
    const held = st.tracker.uncommitted();
    if (held >= this.window) return true;
    // Within its share a dispatch claims nothing new: it waits only while the budget is
    // overdrawn (a partition just joined). Past its share it claims one more record.
    return held < this.shareValue ? this.claimedValue > this.budget : this.claimedValue >= this.budget;
  }

  /**
   * Half the partition's window, or half its share while the global budget is all claimed,
   * waits on a commit that is possible now: worth committing early, so a busy partition
   * rarely pauses.
   */
  wantsCommit(st: PartitionState): boolean {
    const held = st.tracker.uncommitted();
    const enough =
      held >= this.resumeBelow ||
      (held >= Math.ceil(this.shareValue / 2) && this.claimedValue >= this.budget - this.shareValue);
    return enough && st.tracker.committable() !== undefined;
  }

  /** Pauses a partition that has no room. */
  pause(st: PartitionState): void {
    if (st.paused) return;
    st.paused = true;
    this.pausedOnWindow.add(st);
    this.fetch.pause(st.topic, st.partition);
    this.log?.debug(
      {
        topic: st.topic,
        partition: st.partition,
        inFlight: st.tracker.inFlight(),
        share: this.shareValue,
        claimed: this.claimedValue,
      },
      'partition paused: window full',
    );
    this.observer.paused?.(st.topic, st.partition, true);
  }

  /** A commit moved the partition's committed offset: resume what it made room for. */
  committed(st: PartitionState, offset: number): void {
    st.tracker.markCommitted(offset);
    this.resumeWhatFits();
  }

  /** Resumes every partition paused on a window that drained enough (its own, or the global budget). */
  private resumeWhatFits(): void {
    if (this.draining || this.pausedOnWindow.size === 0) return;
    for (const st of this.pausedOnWindow) if (this.mayResume(st)) this.resume(st);
  }

  private mayResume(st: PartitionState): boolean {
    if (st.revoked || this.isFull(st)) return false;
    const held = st.tracker.uncommitted();
    if (held > this.resumeBelow) return false;
    if (held < this.shareValue) return this.claimedValue <= this.budget;
    return this.claimedValue + Math.max(1, Math.floor(this.shareValue / 2)) <= this.budget;
  }

  private resume(st: PartitionState): void {
    st.paused = false;
    this.pausedOnWindow.delete(st);
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
        this.pausedOnWindow.delete(st);
        if (st.dueTimer) clearTimeout(st.dueTimer);
        st.abort.abort(new ProcessorError('VALIDATION_UNKNOWN', 'partition revoked'));
        byPartition.delete(partition);
      }
    }
    // Fewer partitions: larger shares, budget set free; a partition waiting on it may go on.
    this.rebalanceBudget();
    this.resumeWhatFits();
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
