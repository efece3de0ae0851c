import type { Logger } from '../telemetry/logger.js';
import type { ProcessorObserver } from './observer.js';
import { type PartitionState, type PartitionTable, partitionLag } from './partition-table.js';
import type { ConsumedOffset, Decision } from './publish/transactional.js';

/** A partition whose committed offset may move, and where to. */
export interface Committable {
  st: PartitionState;
  offset: number;
}

/**
 * For every partition still owned, the highest contiguous acknowledged offset + 1, where it
 * moved since the last commit. The one place offsets to commit are collected, for consumer
 * commits and for transactions alike.
 */
export function committable(table: PartitionTable): Committable[] {
  const out: Committable[] = [];
  for (const st of table.owned()) {
    const offset = st.tracker.committable();
    if (offset !== undefined) out.push({ st, offset });
  }
  return out;
}

export function consumedOffsets(due: readonly Committable[]): ConsumedOffset[] {
  return due.map(({ st, offset }) => ({ topic: st.topic, partition: st.partition, offset: String(offset) }));
}

/**
 * The group's committed offset moved (a consumer commit or a transaction): the trackers
 * learn it, and a partition paused on its window may resume.
 */
export function applyCommitted(
  table: PartitionTable,
  observer: Pick<ProcessorObserver, 'committed' | 'inFlight' | 'lag'>,
  done: readonly Committable[],
): void {
  for (const { st, offset } of done) {
    if (st.revoked) continue;
    table.committed(st, offset);
    observer.committed?.(st.topic, st.partition, offset);
    observer.inFlight?.(st.topic, st.partition, st.tracker.uncommitted());
    const lag = partitionLag(st);
    if (lag !== undefined) observer.lag?.(st.topic, st.partition, lag);
  }
}

/**
 * Exactly-once: the records about to go into a transaction count as done, and the offsets
 * that makes contiguous are committed in the same transaction. A record goes in only if
 * that commit covers it; one past a gap (a record before it still validating) is held for
 * a later transaction, or its result would be committed while its input is read again
 * after a crash or a rebalance. Records of a partition we lost are left out: its new owner
 * produces them.
 */
export function transactionBatch(
  table: PartitionTable,
  records: readonly Committable[],
): { decisions: Decision[]; offsets: ConsumedOffset[] } {
  for (const r of records) if (!r.st.revoked) r.st.tracker.markDone(r.offset);
  const offsets = consumedOffsets(committable(table));
  const decisions = records.map((r): Decision => {
    if (r.st.revoked) return 'drop';
    const frontier = r.st.tracker.committable() ?? r.st.tracker.lastCommitted();
    return r.offset < frontier ? 'send' : 'hold';
  });
  return { decisions, offsets };
}

/** Exactly-once: a transaction with these input offsets committed. */
export function transactionCommitted(
  table: PartitionTable,
  observer: Pick<ProcessorObserver, 'committed' | 'inFlight' | 'lag'>,
  offsets: readonly ConsumedOffset[],
): void {
  const done: Committable[] = [];
  for (const o of offsets) {
    const st = table.find(o.topic, o.partition);
    if (st) done.push({ st, offset: Number(o.offset) });
  }
  applyCommitted(table, observer, done);
}

/**
 * At-least-once: commits the offsets below which every result is acknowledged. One commit at
 * a time; a request meanwhile is served right after, not dropped. A failed commit is retried
 * by the next request (the commit interval, an early commit, the final one).
 */
export class OffsetCommitter {
  private running: Promise<void> | undefined;
  private again = false;
  private soon = false;

  constructor(
    private readonly table: PartitionTable,
    private readonly send: (offsets: ConsumedOffset[]) => Promise<void>,
    /** Whether the group generation is settled; a commit is pointless during a rebalance. */
    private readonly groupSettled: () => boolean,
    private readonly observer: Pick<ProcessorObserver, 'committed' | 'inFlight' | 'lag'>,
    private readonly log: Logger,
  ) {}

  commit(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (!this.groupSettled()) return Promise.resolve();
    return this.run();
  }

  /**
   * A commit once the code running now is done. A produce acknowledgement settles its
   * records one after another in one go, and the first partition to want a commit would
   * otherwise commit alone, the others following in a second commit right after.
   */
  commitSoon(): void {
    if (this.soon) return;
    this.soon = true;
    queueMicrotask(() => {
      this.soon = false;
      void this.commit();
    });
  }

  /**
   * The last commit of a shutdown, after the group is left behind or the processor failed:
   * safe whatever the group state, because the trackers only count acknowledged results. A
   * commit from a generation that is gone is rejected by the broker, which is the fence we
   * want.
   */
  async commitFinal(): Promise<void> {
    while (this.running) await this.running;
    this.again = false;
    await this.run();
  }

  private run(): Promise<void> {
    const due = committable(this.table);
    if (due.length === 0) return Promise.resolve();
    const offsets = consumedOffsets(due);
    const running = this.send(offsets)
      .then(() => {
        this.log.debug({ committed: offsets }, 'offsets committed');
        applyCommitted(this.table, this.observer, due);
      })
      .catch((err: Error) => {
        // Retried on the next request; a rebalance error means the partitions may be gone.
        this.log.warn({ err: err.message }, 'offset commit failed; will retry');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.commit();
        }
      });
    this.running = running;
    return running;
  }
}
