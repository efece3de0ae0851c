import type { EachBatchPayload } from 'kafkajs';
import type { RegistrySerdes } from '../schema-registry/serdes.js';
import type { RecordSpans } from '../telemetry/record-spans.js';
import type { ProcessorObserver } from './observer.js';
import type { PartitionState, PartitionTable } from './partition-table.js';
import type { TaskRunner } from './record-task.js';
import { retryDueAt } from './records.js';

/** How long a batch loop waits for its window before leaving the rest for a refetch. */
const WINDOW_WAIT_MS = 250;

/** Records a batch loop dispatches before it lets pending I/O callbacks run. */
const DISPATCH_SLICE = 128;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
const noop = () => {};

export interface BatchLoopDeps {
  inputTopic: string;
  /** Retry topics and their delays, tier by tier: a due time further than its tier's delay is not waited for. */
  retryTopics: readonly string[];
  retryDelaysMs: readonly number[];
  table: PartitionTable;
  tasks: TaskRunner;
  spans: RecordSpans;
  registry: RegistrySerdes | undefined;
  observer: Pick<ProcessorObserver, 'inFlight'>;
  /** A commit that may drain a full window; the loop asks for one before it waits. */
  requestCommit(): void;
  /** Shutting down: take no more records. */
  draining(): boolean;
}

/**
 * One fetched batch of one partition: each record is dispatched as a task while the
 * partition's window has room. KafkaJS runs one such loop per partition of a fetch.
 */
export class BatchLoop {
  constructor(private readonly deps: BatchLoopDeps) {}

  async run({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { deps } = this;
    const { table } = deps;
    if (deps.draining()) return;
    const st = table.get(batch.topic, batch.partition);
    // Writer schemas of new ids are fetched before decoding, which stays synchronous; a
    // registry outage throws here and KafkaJS refetches the batch, nothing is dead-lettered.
    if (deps.registry) await deps.registry.prefetch(batch.messages);
    const fromRetry = batch.topic !== deps.inputTopic;
    const tierDelayMs = deps.retryDelaysMs[deps.retryTopics.indexOf(batch.topic)];
    deps.spans.refresh();
    const live = () => isRunning() && !isStale();
    // KafkaJS turns each resolved offset from a string into a Long: the offset is resolved
    // once, before every await and return, rather than per record. Only an await lets the
    // consumer stop or a seek make the batch stale, so `live()` is asked once per slice.
    let unresolved: string | undefined;
    const resolve = () => {
      if (unresolved !== undefined) resolveOffset(unresolved);
      unresolved = undefined;
    };
    let sinceYield = 0;
    let alive = live();
    for (const message of batch.messages) {
      // Dispatching is synchronous; a long batch would hold back the replies of the checks
      // in flight (provider, DNS, SMTP) and with them the Little's-law rate. Let I/O in.
      if (++sinceYield > DISPATCH_SLICE) {
        sinceYield = 0;
        resolve();
        await yieldToIo();
        alive = live();
      }
      if (!alive || deps.draining() || st.revoked) return resolve();
      // A retry topic has one delay, so its records come due in offset order: the first one
      // not yet due pauses the partition until it is (unresolved, so it is fetched again).
      if (fromRetry) {
        const wait = retryDueAt(message.headers, tierDelayMs) - Date.now();
        if (wait > 0) {
          table.holdUntilDue(st, wait);
          return resolve();
        }
      }
      // A full window pauses the partition and this loop waits a little for the commit that
      // drains it, keeping the batch. A longer wait would hold back every other partition of
      // the broker (KafkaJS fetches again only when all batches of a fetch returned), so
      // after WINDOW_WAIT_MS the loop leaves the rest unresolved and KafkaJS fetches it again
      // after the resume.
      if (table.isFull(st)) {
        table.pause(st);
        deps.requestCommit();
        resolve();
        if (!(await this.waitForWindow(st, heartbeat, live))) return;
      }
      unresolved = message.offset;
      // Already dispatched before a rebalance kept this partition with us: do not run it twice.
      if (!st.tracker.dispatch(Number(message.offset))) continue;
      deps.tasks.start(
        st,
        { topic: batch.topic, partition: batch.partition, offset: message.offset },
        message,
        fromRetry,
      );
    }
    resolve();
    st.tracker.seenThrough(Number(batch.lastOffset()) + 1);
    deps.observer.inFlight?.(st.topic, st.partition, st.tracker.uncommitted());
    await heartbeat();
  }

  /**
   * Waits up to WINDOW_WAIT_MS for the partition to be resumed (its window drained by a
   * commit). True if it was; false if not yet, or if the partition is lost or the processor
   * stops.
   */
  private async waitForWindow(
    st: PartitionState,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<boolean> {
    if (st.paused) {
      await new Promise<void>((resolve) => {
        st.onResume = resolve;
        setTimeout(resolve, WINDOW_WAIT_MS).unref();
      });
      st.onResume = undefined;
      await heartbeat().catch(noop);
    }
    return !st.paused && !this.deps.draining() && !st.revoked && live();
  }
}
