/**
 * The processor's lifecycle: wiring, start, group membership (joins, rebalances), commits on
 * a timer, failure and shutdown. A record's journey is elsewhere, one file per stage:
 * batch-loop.ts (fetched batches, window) → record-task.ts (decode, schedule, validate,
 * publish) → routing.ts (outcome → record) → commits.ts; the publisher of each delivery mode
 * is built in publish/delivery.ts, and what it learns of its topics at start in output-topics.ts.
 * See ARCHITECTURE.md, "Processing model".
 */
import type { Tracer } from '@opentelemetry/api';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { asProcessorError, ProcessorError } from '../errors.js';
import { processorConsumerConfig } from '../kafka/clients.js';
import { retryTopics as retryTopicNames } from '../kafka/topics.js';
import { RegistrySerdes } from '../schema-registry/serdes.js';
import type { Logger } from '../telemetry/logger.js';
import { RecordSpans } from '../telemetry/record-spans.js';
import type { Validator } from '../validation/types.js';
import { BatchLoop } from './batch-loop.js';
import type { OffsetCommitter } from './commits.js';
import { Deadlines } from './deadlines.js';
import type { ProcessorObserver, ProcessorState } from './observer.js';
import { learnOutputTopics } from './output-topics.js';
import { type PartitionStats, PartitionTable, partitionLag } from './partition-table.js';
import { createDelivery } from './publish/delivery.js';
import type { Publisher } from './publish/publisher.js';
import { type RecordTask, TaskRunner } from './record-task.js';
import { retryHeaderCheck } from './records.js';
import type { RoutingPolicy } from './routing.js';
import { createGlobalLimit, PartitionScheduler } from './scheduler.js';

export type { ProcessorObserver, ProcessorState };

export interface ProcessorDeps {
  kafka: Kafka;
  validator: Validator;
  logger: Logger;
  observer?: ProcessorObserver;
  tracer?: Tracer;
}

const noop = () => {};

/** How often validations past VALIDATION_TIMEOUT_MS are answered; the timeout's resolution. */
const DEADLINE_SWEEP_MS = 25;

/** consume → decode → schedule → validate → route → publish → commit. */
export class Processor {
  private readonly consumer: Consumer;
  /** At-least-once: acknowledged results, then commits. Exactly-once: both in one transaction. */
  private readonly publisher: Publisher;
  /** At-least-once only: exactly-once commits offsets inside its transactions. */
  private readonly committer: OffsetCommitter | undefined;
  private readonly log: Logger;
  private readonly observer: ProcessorObserver;
  private readonly table: PartitionTable;
  private readonly deadlines: Deadlines;
  private readonly batches: BatchLoop;
  private commitTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private stateValue: ProcessorState = 'idle';
  private draining = false;
  /** A member of the current group generation (between a join and the next rebalance or shutdown). */
  private joined = false;
  private stopping: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private fatalError: ProcessorError | undefined;
  /** Set when SCHEMA_REGISTRY_URL is: wire-format input, registered result schema. */
  private readonly registry: RegistrySerdes | undefined;
  /** Retry topic of each delay tier, in order; empty when retries are off. */
  private readonly retryTopics: string[];
  private markStopped: () => void = noop;
  /** Resolves once the processor has stopped, whatever stopped it (signal, fatal error, stop()). */
  readonly stopped: Promise<void> = new Promise((resolve) => {
    this.markStopped = resolve;
  });

  constructor(
    private readonly config: Config,
    private readonly deps: ProcessorDeps,
  ) {
    const p = config.pipeline;
    this.log = deps.logger.child({ component: 'processor' });
    this.observer = deps.observer ?? {};
    this.registry = RegistrySerdes.fromConfig(config);
    this.retryTopics = retryTopicNames(config.topics, p.retryDelays);
    this.consumer = deps.kafka.consumer(processorConsumerConfig(config.kafka, p));
    const consumer = this.consumer;
    const global = createGlobalLimit(p.globalConcurrency);
    this.table = new PartitionTable(
      { partition: p.partitionWindow, global: p.globalWindow },
      () => new PartitionScheduler(p.ordering, p.partitionConcurrency, global),
      {
        pause: (topic, partition) => consumer.pause([{ topic, partitions: [partition] }]),
        resume: (topic, partition) => consumer.resume([{ topic, partitions: [partition] }]),
      },
      this.observer,
      this.log,
    );
    this.deadlines = new Deadlines(p.validationTimeoutMs);
    ({ publisher: this.publisher, committer: this.committer } = createDelivery(config, {
      kafka: deps.kafka,
      table: this.table,
      observer: this.observer,
      logger: deps.logger,
      log: this.log,
      commitOffsets: (offsets) => this.consumer.commitOffsets(offsets),
      groupSettled: () => this.joined && this.stateValue !== 'rebalancing',
    }));

    const policy: RoutingPolicy = {
      topics: config.topics,
      riskyRoute: p.riskyRoute,
      retryTopics: this.retryTopics,
      retryDelaysMs: p.retryDelays.map((d) => d.ms),
      encodeResult: this.registry?.encodeResult,
    };
    const spans = new RecordSpans(deps.tracer, config.kafka.groupId, config.telemetry.traceKeySecret);
    const tasks = new TaskRunner({
      validator: deps.validator,
      decodeOptions: {
        format: p.inputFormat,
        maxMessageBytes: p.maxMessageBytes,
        retryHeaders: retryHeaderCheck(
          config.topics.input,
          this.retryTopics,
          p.retryDelays.map((d) => d.ms),
        ),
        ...(this.registry ? { registry: this.registry } : {}),
      },
      policy,
      deadlines: this.deadlines,
      publisher: this.publisher,
      spans,
      observer: this.observer,
      done: (task) => this.taskDone(task),
      abandoned: (task) => this.taskEnded(task),
      failed: (err) => this.fail(err),
    });
    this.batches = new BatchLoop({
      inputTopic: config.topics.input,
      retryTopics: this.retryTopics,
      retryDelaysMs: p.retryDelays.map((d) => d.ms),
      table: this.table,
      tasks,
      spans,
      registry: this.registry,
      observer: this.observer,
      requestCommit: () => void this.commit(),
      draining: () => this.draining,
    });
  }

  /** A record's output is acknowledged. */
  private taskDone(task: RecordTask): void {
    const { st } = task;
    // Exactly-once marked it done when it joined its transaction.
    if (this.committer && !st.revoked) {
      st.tracker.markDone(task.offset);
      if (this.table.wantsCommit(st)) this.committer.commitSoon();
    }
    this.taskEnded(task);
  }

  private taskEnded(task: RecordTask): void {
    task.st.tasks--;
    this.checkDrained();
  }

  get state(): ProcessorState {
    return this.stateValue;
  }

  /** Joined the group, connected, and not shutting down: what /readyz reports. */
  isReady(): boolean {
    return this.joined && this.stateValue === 'running';
  }

  private setState(s: ProcessorState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.log.info({ state: s }, `processor ${s}`);
    this.observer.state?.(s);
  }

  async start(): Promise<void> {
    this.setState('starting');
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (e) => {
      // Exactly-once commits offsets under the generation whose assignment it just applied.
      this.publisher.groupJoined?.(e.payload.memberId);
      this.onGroupJoin(e.payload.memberAssignment);
    });
    this.consumer.on(events.REBALANCING, () => this.onRebalancing());
    this.consumer.on(events.CRASH, (e) => {
      const { error, restart } = e.payload;
      // KafkaJS restarts the consumer itself after a retriable crash (a coordinator still
      // loading, a broker gone): worth a warning, not an error.
      if (restart) {
        this.log.warn({ err: error.message }, 'consumer restarting after a retriable error');
        return;
      }
      this.fail(new ProcessorError('CONSUMER_CRASHED', `consumer crashed: ${error.message}`, { cause: error }));
    });
    this.consumer.on(events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, highWatermark, offsetLag } = e.payload;
      const st = this.table.find(topic, partition);
      if (st) st.highWatermark = Number(highWatermark);
      this.observer.lag?.(topic, partition, (st && partitionLag(st)) ?? Number(offsetLag));
    });
    await this.publisher.connect();
    const out = this.config.topics;
    await learnOutputTopics(
      this.deps.kafka,
      this.publisher,
      [out.valid, out.invalid, out.deadLetter, ...this.retryTopics],
      this.log,
    );
    await this.consumer.connect();
    await this.consumer.subscribe({
      // Retry topics are consumed by the same group: a retried event comes back here when due.
      topics: [this.config.topics.input, ...this.retryTopics],
      fromBeginning: this.config.kafka.startFrom === 'earliest',
    });
    await this.registry?.start([this.config.topics.valid, this.config.topics.invalid]);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every assigned partition's batch loop runs at once; a loop waiting for its window
      // must not hold back the others.
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.batches.run(payload),
    });
    if (this.committer) {
      this.commitTimer = setInterval(() => void this.commit(), this.config.pipeline.commitIntervalMs);
      this.commitTimer.unref();
    }
    this.deadlines.start(DEADLINE_SWEEP_MS);
    this.statsTimer = setInterval(() => this.log.debug({ partitions: this.stats() }, 'partition stats'), 5000);
    this.statsTimer.unref();
  }

  private onRebalancing(): void {
    // Commit what is contiguous while the old generation may still do so; a commit that
    // arrives after the generation changed is rejected by the broker (ILLEGAL_GENERATION),
    // which is exactly the fence we want.
    void this.commit();
    this.joined = false;
    if (!this.draining) this.setState('rebalancing');
  }

  private onGroupJoin(assignment: Record<string, number[]>): void {
    // KafkaJS refetches a kept partition from the committed offset; its tracker skips what
    // is already in flight.
    this.table.reassign(assignment);
    this.joined = true;
    const summary = Object.fromEntries(Object.entries(assignment).map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]));
    this.log.info({ assignment: summary }, 'joined consumer group');
    this.observer.rebalanced?.(summary);
    if (!this.draining) this.setState('running');
  }

  /** Commits, for every partition still owned, the highest contiguous acknowledged offset + 1. */
  commit(): Promise<void> {
    return this.committer?.commit() ?? Promise.resolve();
  }

  /** Per-partition counters, for debug logs and operators. */
  stats(): PartitionStats[] {
    return this.table.stats();
  }

  private checkDrained(): void {
    if (this.drained && this.table.inFlightTasks() === 0) this.drained();
  }

  private fail(err: Error): void {
    if (this.fatalError) return;
    // PUBLISH_FAILED, CONSUMER_CRASHED; an error without a code is a bug (INTERNAL).
    this.fatalError = asProcessorError(err);
    this.log.error({ err: err.message, code: this.fatalError.code }, 'fatal processor error; stopping');
    void this.stop();
  }

  /** The first fatal error, if the processor stopped because of one. */
  get failure(): ProcessorError | undefined {
    return this.fatalError;
  }

  /**
   * Stops fetching, lets in-flight work finish within SHUTDOWN_TIMEOUT_MS, publishes,
   * commits what is contiguous, leaves the group and disconnects.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.draining = true;
    this.table.stopResuming();
    this.setState('draining');
    this.joined = false;
    const deadline = this.config.pipeline.shutdownTimeoutMs;
    try {
      this.consumer.pause([{ topic: this.config.topics.input }]);
    } catch {
      // Not running yet: nothing to pause.
    }
    const drained = new Promise<boolean>((resolve) => {
      this.drained = () => resolve(true);
      this.checkDrained();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadline);
    });
    const clean = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!clean) {
      this.log.warn(
        { inFlight: this.table.inFlightTasks(), deadlineMs: deadline },
        'shutdown deadline reached; unfinished records will be replayed',
      );
    }
    await Promise.race([this.publisher.flush(), new Promise((r) => setTimeout(r, 5000))]);
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.deadlines.stop();
    // Safe even after a fatal error: the trackers only count acknowledged results.
    await this.committer?.commitFinal();
    await this.consumer.disconnect().catch(noop);
    await this.publisher.close().catch(noop);
    await this.deps.validator.close?.().catch(noop);
    this.setState(this.fatalError ? 'failed' : 'stopped');
    this.markStopped();
  }
}
