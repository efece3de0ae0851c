import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, Partitioners } from 'kafkajs';
import type { Config } from '../config.js';
import { type ErrorCode, ProcessorError } from '../errors.js';
import { topicMessageLimits } from '../kafka/message-limits.js';
import { retryTopics as retryTopicNames } from '../kafka/topics.js';
import { RegistrySerdes } from '../schema-registry/serdes.js';
import type { SignupEvent } from '../schemas.js';
import type { Logger } from '../telemetry/logger.js';
import { hashMessageKey } from '../telemetry/message-key.js';
import { extractContext, injectContext } from '../telemetry/propagation.js';
import type { Validator, Verdict } from '../validation/types.js';
import { PROCESSOR_VERSION } from '../version.js';
import { decodeSignup } from './decode.js';
import { PartitionOffsetTracker } from './offsets.js';
import { BatchPublisher, type OutgoingRecord } from './publish.js';
import {
  type Destination,
  deadLetterRecord,
  destinationOf,
  type RetryState,
  resultRecord,
  retryDueAt,
  retryHeaderCheck,
  retryRecord,
  retryStateOf,
  type SourceCoordinates,
} from './route.js';
import { createGlobalLimit, PartitionScheduler } from './scheduler.js';
import { type ConsumedOffset, TransactionalPublisher } from './transactions.js';

/** Hooks for metrics; every one is optional and called on the hot path, so keep them cheap. */
export interface ProcessorObserver {
  routed?(destination: Destination, verdict: Verdict | null, errorCode: ErrorCode | null, durationMs: number): void;
  inFlight?(topic: string, partition: number, count: number): void;
  committed?(topic: string, partition: number, offset: number): void;
  paused?(topic: string, partition: number, paused: boolean): void;
  rebalanced?(assigned: Record<string, number[]>): void;
  lag?(topic: string, partition: number, lag: number): void;
  publishBatch?(records: number, durationMs: number, error?: Error): void;
  state?(state: ProcessorState): void;
}

export type ProcessorState = 'idle' | 'starting' | 'running' | 'rebalancing' | 'draining' | 'stopped' | 'failed';

export interface ProcessorDeps {
  kafka: Kafka;
  validator: Validator;
  logger: Logger;
  observer?: ProcessorObserver;
  tracer?: Tracer;
}

/** Everything the processor keeps about one assigned partition. */
class PartitionState {
  readonly tracker = new PartitionOffsetTracker();
  readonly scheduler: PartitionScheduler;
  /** Aborted when the partition is revoked: its validations stop, their results are not wanted. */
  readonly abort = new AbortController();
  /** Records dispatched whose result is not yet acknowledged (or abandoned). */
  tasks = 0;
  paused = false;
  revoked = false;
  /** Wakes the batch loop waiting for this partition's window. */
  onResume: (() => void) | undefined;
  /** A retry topic's partition waits, paused, until its next record is due. */
  dueTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    scheduler: PartitionScheduler,
  ) {
    this.scheduler = scheduler;
    // Every check in flight on this partition listens to the signal (an HTTP request, a DNS
    // query): hundreds at once is normal, not the leak Node warns of past 10 listeners.
    setMaxListeners(0, this.abort.signal);
  }
}

const noop = () => {};

/**
 * The span of every event while no tracing SDK is registered: one shared no-op instead of two
 * spans and a context per event. The input's W3C context is still carried to the output.
 */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether spans can be recorded: a tracer was given, or an SDK registered a provider. */
function tracingRegistered(explicit: Tracer | undefined): boolean {
  if (explicit) return true;
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('email-flow-validator') !== undefined;
}

/** What the transactional publisher needs to know of a record to commit its offset. */
interface InFlightRecord {
  st: PartitionState;
  offset: number;
}

function transactionalIdOf(config: Config): string {
  return config.kafka.transactionalId || `${config.kafka.groupId}-${hostname()}`;
}

/** How long a batch loop waits for its window before leaving the rest for a refetch. */
const WINDOW_WAIT_MS = 250;

/** Records a batch loop dispatches before it lets pending I/O callbacks run. */
const DISPATCH_SLICE = 128;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

const DEADLINE_PASSED = new ProcessorError('VALIDATION_UNKNOWN', 'validation deadline passed');

/** How often validations past VALIDATION_TIMEOUT_MS are answered; the timeout's resolution. */
const DEADLINE_SWEEP_MS = 25;

/**
 * consume → decode → schedule (per-partition semaphore, key order) → validate → route →
 * publish → commit. See ARCHITECTURE.md, "Processing model".
 */
export class Processor {
  private readonly consumer: Consumer;
  /** At-least-once: acknowledged results, then commits. Exactly-once: both in one transaction. */
  private readonly publisher: BatchPublisher | TransactionalPublisher<InFlightRecord>;
  private readonly exactlyOnce: boolean;
  private readonly log: Logger;
  private readonly tracer: Tracer;
  private readonly observer: ProcessorObserver;
  private readonly global;
  private readonly partitions = new Map<string, Map<number, PartitionState>>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private statsTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Pending validations' deadlines, keyed by the function that answers them with a timeout. */
  private readonly deadlines = new Map<(v: null) => void, number>();
  private stateValue: ProcessorState = 'idle';
  private draining = false;
  private stopping: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private fatalError: Error | undefined;
  /** Resume a paused partition once its uncommitted offsets fell to this. */
  private readonly resumeBelow: number;
  private readonly window: number;
  private readonly decodeOptions;
  /** Whether events get spans (see NO_SPAN). */
  private spans = false;
  /** Set when SCHEMA_REGISTRY_URL is: wire-format input, registered result schema. */
  private readonly registry: RegistrySerdes | undefined;
  private joined = false;
  /** Retry topic of each delay tier, in order; empty when retries are off. */
  private readonly retryTopics: string[];
  private readonly retryDelaysMs: number[];
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
    this.tracer = deps.tracer ?? trace.getTracer('email-flow-validator', PROCESSOR_VERSION);
    this.observer = deps.observer ?? {};
    this.global = createGlobalLimit(p.globalConcurrency);
    this.window = p.partitionWindow;
    // Hysteresis: resume only when half the window drained, so a full partition does not
    // flap between paused and running on every completion.
    this.resumeBelow = Math.max(1, Math.floor(p.partitionWindow / 2));
    this.registry = RegistrySerdes.fromConfig(config);
    this.decodeOptions = {
      format: p.inputFormat,
      maxMessageBytes: p.maxMessageBytes,
      retryHeaders: retryHeaderCheck(
        config.topics.input,
        retryTopicNames(config.topics, p.retryDelays),
        p.retryDelays.map((d) => d.ms),
      ),
      ...(this.registry ? { registry: this.registry } : {}),
    };
    this.retryTopics = retryTopicNames(config.topics, p.retryDelays);
    this.retryDelaysMs = p.retryDelays.map((d) => d.ms);
    this.consumer = deps.kafka.consumer({
      groupId: config.kafka.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: p.fetchMaxBytesPerPartition,
      // KafkaJS's default total (10 MB) would let one fetch hold far more than the windows.
      maxBytes: Math.max(1_048_576, Math.min(10_485_760, p.fetchMaxBytesPerPartition * 16)),
      // read_committed: records of aborted producer transactions are never judged.
      readUncommitted: false,
    });
    this.exactlyOnce = p.delivery === 'exactly-once';
    const makeProducer = () =>
      deps.kafka.producer({
        // Transactions need the idempotent producer. At-least-once does not: KafkaJS 2.2.4's
        // idempotent producer was seen to acknowledge records that a leader failover then
        // lost, and to stall on OUT_OF_ORDER_SEQUENCE_NUMBER. acks=all with one request in
        // flight per broker keeps order; a retry may duplicate a result, never lose one.
        idempotent: this.exactlyOnce,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        ...(this.exactlyOnce ? { transactionalId: transactionalIdOf(config) } : {}),
        // Same key → same partition as Java clients (murmur2), so downstream joins line up.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded: the publisher retries a failed batch itself, with a new producer.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
      });
    const publisherLog = deps.logger.child({ component: 'publisher' });
    this.publisher = this.exactlyOnce
      ? new TransactionalPublisher<InFlightRecord>(
          makeProducer(),
          config.kafka.groupId,
          // A transaction costs several round trips: make each carry more.
          {
            batchSize: p.publishBatchSize,
            lingerMs: Math.max(p.publishLingerMs, 50),
            deadLetterTopic: config.topics.deadLetter,
            compression: config.kafka.producerCompression,
          },
          {
            prepare: (metas) => this.prepareTransaction(metas),
            committed: (offsets) => this.transactionCommitted(offsets),
          },
          publisherLog,
          this.observer.publishBatch?.bind(this.observer),
        )
      : new BatchPublisher(
          makeProducer,
          {
            batchSize: p.publishBatchSize,
            lingerMs: p.publishLingerMs,
            deadLetterTopic: config.topics.deadLetter,
            compression: config.kafka.producerCompression,
          },
          publisherLog,
          this.observer.publishBatch?.bind(this.observer),
        );
  }

  /**
   * Exactly-once: the records about to go into a transaction count as done, and the offsets
   * that makes contiguous are committed in the same transaction. Records of a partition we
   * lost are left out: its new owner produces them.
   */
  private prepareTransaction(metas: InFlightRecord[]): { keep: boolean[]; offsets: ConsumedOffset[] } {
    const keep = metas.map((m) => {
      if (m.st.revoked) return false;
      m.st.tracker.markDone(m.offset);
      return true;
    });
    const offsets: ConsumedOffset[] = [];
    for (const byPartition of this.partitions.values()) {
      for (const st of byPartition.values()) {
        const next = st.tracker.committable();
        if (next !== undefined && !st.revoked)
          offsets.push({ topic: st.topic, partition: st.partition, offset: String(next) });
      }
    }
    return { keep, offsets };
  }

  private transactionCommitted(offsets: ConsumedOffset[]): void {
    for (const o of offsets) {
      const st = this.partitions.get(o.topic)?.get(o.partition);
      if (!st) continue;
      st.tracker.markCommitted(Number(o.offset));
      this.observer.committed?.(o.topic, o.partition, Number(o.offset));
      if (st.paused && !this.draining && !st.revoked && st.tracker.uncommitted() <= this.resumeBelow) this.resume(st);
    }
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
    this.consumer.on(events.GROUP_JOIN, (e) => this.onGroupJoin(e.payload.memberAssignment));
    this.consumer.on(events.REBALANCING, () => this.onRebalancing());
    this.consumer.on(events.CRASH, (e) => {
      const { error, restart } = e.payload;
      // KafkaJS restarts the consumer itself after a retriable crash (a coordinator still
      // loading, a broker gone): worth a warning, not an error.
      if (restart) {
        this.log.warn({ err: error.message }, 'consumer restarting after a retriable error');
        return;
      }
      this.log.error({ err: error.message }, 'consumer crashed');
      this.fail(error);
    });
    this.consumer.on(events.END_BATCH_PROCESS, (e) => {
      this.observer.lag?.(e.payload.topic, e.payload.partition, Number(e.payload.offsetLag));
    });
    await this.publisher.connect();
    this.publisher.setPartitionCounts(await this.outputPartitionCounts());
    // Records are kept under the output topics' max.message.bytes (see MessageSizeGuard).
    const out = this.config.topics;
    this.publisher.setMessageLimits(
      await topicMessageLimits(this.deps.kafka, [out.valid, out.invalid, out.deadLetter, ...this.retryTopics], (err) =>
        this.log.warn(
          { err: err.message },
          'max.message.bytes of the output topics unknown; assuming the broker default',
        ),
      ),
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
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.commitTimer = setInterval(() => void this.commit(), this.config.pipeline.commitIntervalMs);
    this.commitTimer.unref();
    this.deadlineTimer = setInterval(() => this.sweepDeadlines(), DEADLINE_SWEEP_MS);
    this.deadlineTimer.unref();
    this.statsTimer = setInterval(() => this.log.debug({ partitions: this.stats() }, 'partition stats'), 5000);
    this.statsTimer.unref();
  }

  /** Partition counts of every topic this processor writes to. */
  private async outputPartitionCounts(): Promise<Map<string, number>> {
    const t = this.config.topics;
    const admin = this.deps.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({
        topics: [t.valid, t.invalid, t.deadLetter, ...this.retryTopics],
      });
      return new Map(topics.map((m) => [m.name, m.partitions.length]));
    } finally {
      await admin.disconnect();
    }
  }

  private partitionState(topic: string, partition: number): PartitionState {
    let byPartition = this.partitions.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.partitions.set(topic, byPartition);
    }
    let st = byPartition.get(partition);
    if (!st) {
      const p = this.config.pipeline;
      st = new PartitionState(
        topic,
        partition,
        new PartitionScheduler(p.ordering, p.partitionConcurrency, this.global),
      );
      byPartition.set(partition, st);
    }
    return st;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.draining) return;
    const st = this.partitionState(batch.topic, batch.partition);
    // Writer schemas of new ids are fetched before decoding, which stays synchronous; a
    // registry outage throws here and KafkaJS refetches the batch, nothing is dead-lettered.
    if (this.registry) await this.registry.prefetch(batch.messages);
    const fromRetry = batch.topic !== this.config.topics.input;
    const tierDelayMs = this.retryDelaysMs[this.retryTopics.indexOf(batch.topic)];
    // Checked per batch: an SDK registered after start (tests) is picked up.
    this.spans = tracingRegistered(this.deps.tracer);
    const src: SourceCoordinates = { topic: batch.topic, partition: batch.partition, offset: '' };
    let sinceYield = 0;
    for (const message of batch.messages) {
      // Dispatching is synchronous; a long batch would hold back the replies of the checks
      // in flight (provider, DNS, SMTP) and with them the Little's-law rate. Let I/O in.
      if (++sinceYield > DISPATCH_SLICE) {
        sinceYield = 0;
        await yieldToIo();
      }
      if (!isRunning() || isStale() || this.draining || st.revoked) return;
      // A retry topic has one delay, so its records come due in offset order: the first one
      // not yet due pauses the partition until it is (unresolved, so it is fetched again).
      if (fromRetry) {
        const wait = retryDueAt(message.headers, tierDelayMs) - Date.now();
        if (wait > 0) {
          this.waitUntilDue(st, wait);
          return;
        }
      }
      // The window counts from the last commit, so it bounds both memory and what a crash
      // replays. When it is full the partition is paused and this loop waits a little for
      // the commit that drains it, keeping the batch. A longer wait would hold back every
      // other partition of the broker (KafkaJS fetches again only when all batches of a
      // fetch returned), so after WINDOW_WAIT_MS the loop leaves the rest unresolved and
      // KafkaJS fetches it again after the resume.
      if (st.tracker.uncommitted() >= this.window) {
        this.pause(st);
        void this.commit();
        if (!(await this.waitForWindow(st, heartbeat, () => isRunning() && !isStale()))) return;
      }
      const offset = Number(message.offset);
      resolveOffset(message.offset);
      // Already dispatched before a rebalance kept this partition with us: do not run it twice.
      if (!st.tracker.dispatch(offset)) continue;
      this.dispatch(st, { ...src, offset: message.offset }, message, fromRetry);
    }
    st.tracker.seenThrough(Number(batch.lastOffset()) + 1);
    this.observer.inFlight?.(st.topic, st.partition, st.tracker.uncommitted());
    await heartbeat();
  }

  /**
   * Waits up to WINDOW_WAIT_MS for the partition to be resumed (its window drained by a
   * commit). Resolves true if it was; false if not yet, or if the partition is lost or the
   * processor stops.
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
    return !st.paused && !this.draining && !st.revoked && live();
  }

  private waitUntilDue(st: PartitionState, waitMs: number): void {
    if (st.dueTimer) return;
    this.consumer.pause([{ topic: st.topic, partitions: [st.partition] }]);
    st.dueTimer = setTimeout(() => {
      st.dueTimer = undefined;
      if (!st.revoked && !this.draining && !st.paused) {
        this.consumer.resume([{ topic: st.topic, partitions: [st.partition] }]);
      }
    }, waitMs);
    st.dueTimer.unref();
  }

  private dispatch(st: PartitionState, src: SourceCoordinates, message: KafkaMessage, fromRetry: boolean): void {
    st.tasks++;
    // Results and dead letters name the original input record, also after retries.
    const retry = fromRetry ? retryStateOf(message.headers, src) : null;
    const origin = retry ? retry.origin : src;
    const started = performance.now();
    const parent = extractContext(message.headers);
    if (!this.spans) {
      this.dispatchEvent(st, src, message, retry, origin, started, parent, NO_SPAN);
      return;
    }
    const span = this.tracer.startSpan(
      `${src.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': src.topic,
          'messaging.destination.partition.id': String(src.partition),
          'messaging.kafka.offset': Number(src.offset),
          'messaging.consumer.group.name': this.config.kafka.groupId,
        },
      },
      parent,
    );
    if (message.key && span.isRecording())
      span.setAttribute('messaging.kafka.message.key', hashMessageKey(message.key));
    this.dispatchEvent(st, src, message, retry, origin, started, trace.setSpan(parent, span), span);
  }

  /** Decodes, schedules, validates and routes one record, under its span (or NO_SPAN). */
  private dispatchEvent(
    st: PartitionState,
    src: SourceCoordinates,
    message: KafkaMessage,
    retry: RetryState | null,
    origin: SourceCoordinates,
    started: number,
    ctx: Context,
    span: Span,
  ): void {
    const decoded = decodeSignup(
      message.value,
      message.headers,
      { ...src, key: message.key, timestamp: message.timestamp },
      this.decodeOptions,
    );
    if (!decoded.ok) {
      span.setAttribute('efv.error.code', decoded.error.code);
      // Forged retry headers name no origin worth trusting: the dead letter names the record itself.
      const at = decoded.error.code === 'RETRY_HEADERS_INVALID' ? src : origin;
      const record = deadLetterRecord(message, at, decoded.error, this.config.topics.deadLetter, { retry });
      this.emit(st, src, record, ctx, span, 'deadLetter', null, decoded.error.code, started);
      return;
    }
    const event = decoded.value;
    // Latin-1 maps bytes one to one, so the string is a faithful, cheap key identity.
    const key = message.key ? message.key.toString('latin1') : null;
    // A verdict that needs no I/O (local checks only, a cached DNS answer) takes no time, so
    // it needs no semaphore slot or deadline: it is routed now, when the ordering allows.
    if (this.deps.validator.validateNow && st.scheduler.canRunNow(key)) {
      const now = this.validateNow(event.email, ctx);
      if (now !== undefined) {
        this.route(st, src, message, event, now, retry, origin, ctx, span, started);
        return;
      }
    }
    st.scheduler
      .schedule(key, async () => {
        if (st.revoked) return this.abandon(st, span);
        const verdictOrError = await this.validate(st, event.email, ctx);
        if (st.revoked) return this.abandon(st, span);
        this.route(st, src, message, event, verdictOrError, retry, origin, ctx, span, started);
      })
      .catch((err: unknown) => this.fail(err as Error));
  }

  /** The verdict without I/O, or undefined when it needs I/O (or the validator failed: then it runs scheduled). */
  private validateNow(email: string, ctx: Context): Verdict | undefined {
    const validator = this.deps.validator;
    try {
      return this.spans ? context.with(ctx, () => validator.validateNow?.(email)) : validator.validateNow?.(email);
    } catch {
      return undefined;
    }
  }

  /** Turns a verdict (or a validation failure) into its result, retry or dead-letter record and publishes it. */
  private route(
    st: PartitionState,
    src: SourceCoordinates,
    message: KafkaMessage,
    event: SignupEvent,
    verdictOrError: Verdict | ProcessorError,
    retry: RetryState | null,
    origin: SourceCoordinates,
    ctx: Context,
    span: Span,
    started: number,
  ): void {
    const durationMs = performance.now() - started;
    if (verdictOrError instanceof ProcessorError) {
      const record = deadLetterRecord(message, origin, verdictOrError, this.config.topics.deadLetter, { retry });
      this.emit(st, src, record, ctx, span, 'deadLetter', null, verdictOrError.code, started);
      return;
    }
    const verdict = verdictOrError;
    span.setAttribute('efv.verdict', verdict.verdict);
    if (verdict.reason) span.setAttribute('efv.reason', verdict.reason);
    const judged = destinationOf(verdict, this.config.pipeline.riskyRoute);
    let dest: Destination = judged;
    let record: OutgoingRecord;
    let errorCode: ErrorCode | null = null;
    if (judged !== 'deadLetter') {
      try {
        record = resultRecord(
          event,
          verdict,
          origin,
          message.key,
          Math.round(durationMs * 1000),
          this.config.topics[judged],
          this.registry?.encodeResult,
        );
      } catch (err) {
        // A result that cannot be encoded is this record's problem, not a reason to stop.
        const error = new ProcessorError('VALIDATION_ERROR', `result could not be encoded: ${(err as Error).message}`, {
          cause: err,
        });
        record = deadLetterRecord(message, origin, error, this.config.topics.deadLetter, { retry });
        dest = 'deadLetter';
        errorCode = 'VALIDATION_ERROR';
      }
    } else {
      // Every unknown reason is transient (timeouts, unavailable dependencies): try again
      // later from a retry topic, so the input partition never waits for a dependency.
      const attempt = (retry?.attempts ?? 0) + 1;
      const reason = verdict.reason ?? 'unknown';
      if (attempt <= this.retryTopics.length) {
        dest = 'retry';
        record = retryRecord(
          message,
          retry ?? { attempts: 0, firstFailureAt: null, history: '', origin },
          reason,
          this.retryTopics[attempt - 1]!,
          this.retryDelaysMs[attempt - 1]!,
        );
      } else {
        errorCode = 'VALIDATION_UNKNOWN';
        const why = attempt > 1 ? `no verdict after ${attempt} attempts: ${reason}` : `no verdict: ${reason}`;
        record = deadLetterRecord(
          message,
          origin,
          new ProcessorError('VALIDATION_UNKNOWN', why),
          this.config.topics.deadLetter,
          { retry, verdictReason: reason },
        );
      }
    }
    this.emit(st, src, record, ctx, span, dest, verdict, errorCode, started);
  }

  /**
   * Runs the validator under the deadline; a throw becomes a VALIDATION_ERROR, never a crash.
   * The deadline is an entry in one insertion-ordered map swept every DEADLINE_SWEEP_MS, not
   * a timer per record. Only validations that need I/O come here (validateNow answers the
   * rest), and each gets an AbortController: a validation past its deadline is answered
   * `unknown/timeout` at once and its checks are aborted (queued provider requests never
   * start).
   */
  private async validate(st: PartitionState, email: string, ctx: Context): Promise<Verdict | ProcessorError> {
    let expire!: (v: null) => void;
    // The deadline also aborts the event's I/O (queued and in-flight provider requests, DNS,
    // SMTP): no request starts, and none is paid for, after the event was answered.
    const deadline = new AbortController();
    const expired = new Promise<null>((resolve) => {
      expire = (v) => {
        resolve(v);
        deadline.abort(DEADLINE_PASSED);
      };
    });
    this.deadlines.set(expire, performance.now() + this.config.pipeline.validationTimeoutMs);
    const signal = AbortSignal.any([st.abort.signal, deadline.signal]);
    try {
      // Check spans (dns, provider, smtp) become children of this event's process span.
      const run = context.with(ctx, () => this.deps.validator.validate(email, { signal }));
      return (await Promise.race([run, expired])) ?? timeoutVerdict(email);
    } catch (err) {
      if (st.revoked) return timeoutVerdict(email);
      return new ProcessorError('VALIDATION_ERROR', `validator failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.deadlines.delete(expire);
    }
  }

  /** Answers every validation past its deadline; all share one timeout, so the map is in deadline order. */
  private sweepDeadlines(): void {
    const now = performance.now();
    for (const [expire, at] of this.deadlines) {
      if (at > now) break;
      this.deadlines.delete(expire);
      expire(null);
    }
  }

  private emit(
    st: PartitionState,
    src: SourceCoordinates,
    record: OutgoingRecord,
    ctx: Context,
    span: Span,
    dest: Destination,
    verdict: Verdict | null,
    errorCode: ErrorCode | null,
    started: number,
  ): void {
    let publishSpan = NO_SPAN;
    if (span === NO_SPAN) {
      // No SDK: the input's trace context (if any) goes on unchanged.
      if (ctx !== ROOT_CONTEXT) injectContext(ctx, record.headers);
    } else {
      publishSpan = this.tracer.startSpan(
        `${record.topic} publish`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'publish',
            'messaging.destination.name': record.topic,
          },
        },
        ctx,
      );
      // The output record continues the producer's trace, so a downstream consumer does too.
      injectContext(trace.setSpan(ctx, publishSpan), record.headers);
      if (errorCode) span.setAttribute('efv.error.code', errorCode);
      span.setAttribute('efv.destination', dest);
    }
    this.publisher.publish(record, { st, offset: Number(src.offset) }).then(
      () => {
        publishSpan.end();
        span.end();
        this.observer.routed?.(dest, verdict, errorCode, performance.now() - started);
        this.complete(st, Number(src.offset));
      },
      (err: Error) => {
        publishSpan.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        publishSpan.end();
        span.end();
        // The offset stays uncommitted: after the restart this record is read again.
        this.fail(
          new ProcessorError('PUBLISH_FAILED', `result could not be published: ${err.message}`, { cause: err }),
        );
      },
    );
  }

  /** The partition was revoked while this record was in flight: its new owner reads it again. */
  private abandon(st: PartitionState, span: Span): void {
    span.setAttribute('efv.abandoned', true);
    span.end();
    st.tasks--;
    this.checkDrained();
  }

  private complete(st: PartitionState, offset: number): void {
    st.tasks--;
    // Exactly-once marked it done when it joined its transaction.
    if (!st.revoked && !this.exactlyOnce) {
      st.tracker.markDone(offset);
      // Commit early when half the window waits on it, so a busy partition rarely pauses.
      if (st.tracker.uncommitted() >= this.resumeBelow && st.tracker.committable() !== undefined) void this.commit();
    }
    this.checkDrained();
  }

  private pause(st: PartitionState): void {
    if (st.paused) return;
    st.paused = true;
    this.consumer.pause([{ topic: st.topic, partitions: [st.partition] }]);
    this.log.debug(
      { topic: st.topic, partition: st.partition, inFlight: st.tracker.inFlight() },
      'partition paused: window full',
    );
    this.observer.paused?.(st.topic, st.partition, true);
  }

  private resume(st: PartitionState): void {
    st.paused = false;
    this.consumer.resume([{ topic: st.topic, partitions: [st.partition] }]);
    st.onResume?.();
    this.log.debug({ topic: st.topic, partition: st.partition }, 'partition resumed');
    this.observer.paused?.(st.topic, st.partition, false);
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
    for (const [topic, byPartition] of this.partitions) {
      const kept = new Set(assignment[topic] ?? []);
      for (const [partition, st] of byPartition) {
        if (kept.has(partition)) {
          // KafkaJS refetches from the committed offset; the tracker skips what is already
          // in flight. Re-apply a pause, in case the join reset it.
          if (st.paused) this.consumer.pause([{ topic, partitions: [partition] }]);
          continue;
        }
        // Lost: never commit for it again, stop its work; its next owner replays from the
        // last commit (duplicates at most the window, nothing lost).
        st.revoked = true;
        if (st.dueTimer) clearTimeout(st.dueTimer);
        st.abort.abort(new ProcessorError('VALIDATION_UNKNOWN', 'partition revoked'));
        byPartition.delete(partition);
      }
    }
    this.joined = true;
    const summary = Object.fromEntries(Object.entries(assignment).map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]));
    this.log.info({ assignment: summary }, 'joined consumer group');
    this.observer.rebalanced?.(summary);
    if (!this.draining) this.setState('running');
  }

  /** Commits, for every partition still owned, the highest contiguous acknowledged offset + 1. */
  commit(): Promise<void> {
    // Exactly-once commits offsets only inside its transactions.
    if (this.exactlyOnce) return Promise.resolve();
    if (this.committing) {
      // One commit at a time; a request meanwhile is served right after, not dropped.
      this.commitAgain = true;
      return this.committing;
    }
    if (this.stateValue === 'rebalancing' || !this.joined) return Promise.resolve();
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    const states: [PartitionState, number][] = [];
    for (const byPartition of this.partitions.values()) {
      for (const st of byPartition.values()) {
        const next = st.tracker.committable();
        if (next === undefined || st.revoked) continue;
        offsets.push({ topic: st.topic, partition: st.partition, offset: String(next) });
        states.push([st, next]);
      }
    }
    if (offsets.length === 0) return Promise.resolve();
    this.committing = this.consumer
      .commitOffsets(offsets)
      .then(() => {
        this.log.debug({ committed: offsets }, 'offsets committed');
        for (const [st, next] of states) {
          st.tracker.markCommitted(next);
          this.observer.committed?.(st.topic, st.partition, next);
          this.observer.inFlight?.(st.topic, st.partition, st.tracker.uncommitted());
          if (st.paused && !this.draining && !st.revoked && st.tracker.uncommitted() <= this.resumeBelow)
            this.resume(st);
        }
      })
      .catch((err: Error) => {
        // Retried on the next tick; a rebalance error means the partitions may be gone.
        this.log.warn({ err: err.message }, 'offset commit failed; will retry');
      })
      .finally(() => {
        this.committing = undefined;
        if (this.commitAgain) {
          this.commitAgain = false;
          void this.commit();
        }
      });
    return this.committing;
  }

  /** Per-partition counters, for debug logs and operators. */
  stats(): {
    topic: string;
    partition: number;
    tasks: number;
    uncommitted: number;
    paused: boolean;
    committed: number;
  }[] {
    const out = [];
    for (const byPartition of this.partitions.values()) {
      for (const st of byPartition.values()) {
        out.push({
          topic: st.topic,
          partition: st.partition,
          tasks: st.tasks,
          uncommitted: st.tracker.uncommitted(),
          paused: st.paused || st.dueTimer !== undefined,
          committed: st.tracker.lastCommitted(),
        });
      }
    }
    return out;
  }

  private inFlightTasks(): number {
    let n = 0;
    for (const byPartition of this.partitions.values()) for (const st of byPartition.values()) n += st.tasks;
    return n;
  }

  private checkDrained(): void {
    if (this.drained && this.inFlightTasks() === 0) this.drained();
  }

  private fail(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.log.error({ err: err.message, code: (err as ProcessorError).code }, 'fatal processor error; stopping');
    void this.stop();
  }

  /** The first fatal error, if the processor stopped because of one. */
  get failure(): Error | undefined {
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
        { inFlight: this.inFlightTasks(), deadlineMs: deadline },
        'shutdown deadline reached; unfinished records will be replayed',
      );
    }
    await Promise.race([this.publisher.flush(), new Promise((r) => setTimeout(r, 5000))]);
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.deadlineTimer) clearInterval(this.deadlineTimer);
    // Safe even after a fatal error: the trackers only count acknowledged results.
    this.joined = true;
    await this.commit();
    this.joined = false;
    await this.consumer.disconnect().catch(noop);
    await this.publisher.close().catch(noop);
    await this.deps.validator.close?.().catch(noop);
    this.setState(this.fatalError ? 'failed' : 'stopped');
    this.markStopped();
  }
}

function timeoutVerdict(email: string): Verdict {
  return {
    verdict: 'unknown',
    reason: 'timeout',
    flags: [],
    normalized: email.trim(),
    suggestion: null,
    checks: [],
  };
}
