/**
 * One consumed record's journey, as one object: decode → schedule (key order, semaphores) →
 * validate under its deadline → route → publish → done. The task carries everything the
 * stages need (partition state, coordinates, retry state, start time, span), so no stage
 * takes a list of positional values.
 */
import { type Context, context, ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import type { SignupEvent } from '../contract/schemas.js';
import { type ErrorCode, ProcessorError } from '../errors.js';
import { releaseRecord } from '../kafka/record-reader.js';
import { NO_SPAN, type RecordSpans, type TracedRecord } from '../telemetry/record-spans.js';
import type { Validator, Verdict } from '../validation/types.js';
import type { Deadlines } from './deadlines.js';
import { type DecodeOptions, decodeRecord } from './decode.js';
import type { ProcessorObserver } from './observer.js';
import type { PartitionState } from './partition-table.js';
import { type OutgoingRecord, type RetryState, retryStateOf, type SourceCoordinates } from './records.js';
import {
  type Destination,
  type Routed,
  type RoutedInput,
  type RoutingPolicy,
  routeFailure,
  routeVerdict,
} from './routing.js';

/**
 * The task is also its own entry in the publisher's queue: the publisher calls `resolve` or
 * `reject` when the broker answered, so a record costs no promise and no closures.
 */
export class RecordTask implements RoutedInput, TracedRecord {
  /** The original input record: itself, or the origin a retry record names. */
  readonly origin: SourceCoordinates;
  readonly started = performance.now();
  event: SignupEvent | null = null;
  span: Span = NO_SPAN;
  ctx: Context = ROOT_CONTEXT;
  /** Set when routed: the record published, where it went and why, and its send span. */
  record: OutgoingRecord | null = null;
  destination: Destination = 'deadLetter';
  /** The verdict's kind and reason (shared objects: the verdict itself is not kept while the record waits). */
  verdict: VerdictSummary | null = null;
  code: ErrorCode | null = null;
  sendSpan: Span = NO_SPAN;

  constructor(
    private readonly runner: TaskRunner,
    readonly st: PartitionState,
    readonly source: SourceCoordinates,
    /** The consumed record; released (RELEASED_MESSAGE) once routed, while the result waits for the broker. */
    public message: KafkaMessage,
    /** Null for an input record; read from the headers of a retry record. */
    readonly retry: RetryState | null,
  ) {
    this.origin = retry ? retry.origin : source;
  }

  get offset(): number {
    return Number(this.source.offset);
  }

  /** The transactional publisher's name for what it carries with a record. */
  get meta(): RecordTask {
    return this;
  }

  /** The broker acknowledged the record. */
  resolve(): void {
    this.runner.published(this);
  }

  /** The record could not be published. */
  reject(err: Error): void {
    this.runner.publishFailed(this, err);
  }
}

/** Hands a routed task's record to Kafka; the task is settled with the broker's answer. */
export interface RecordPublisher {
  submit(task: RecordTask & { record: OutgoingRecord }): void;
}

export interface TaskRunnerDeps {
  validator: Validator;
  decodeOptions: DecodeOptions;
  policy: RoutingPolicy;
  deadlines: Deadlines;
  publisher: RecordPublisher;
  spans: RecordSpans;
  observer: ProcessorObserver;
  /** The record's output is acknowledged. */
  done(task: RecordTask): void;
  /** The partition was revoked while the record was in flight: its new owner reads it again. */
  abandoned(task: RecordTask): void;
  /** A failure the processor cannot route past (an output that could not be published). */
  failed(err: Error): void;
}

export class TaskRunner {
  constructor(private readonly deps: TaskRunnerDeps) {}

  /** Starts a consumed record on its way; it counts in `st.tasks` until done or abandoned. */
  start(st: PartitionState, source: SourceCoordinates, message: KafkaMessage, fromRetry: boolean): void {
    st.tasks++;
    // Results and dead letters name the original input record, also after retries.
    const task = new RecordTask(this, st, source, message, fromRetry ? retryStateOf(message.headers, source) : null);
    const { deps } = this;
    deps.spans.process(task, source.topic, source.partition, task.offset, message);
    const decoded = decodeRecord(message, source, deps.decodeOptions);
    if (decoded instanceof ProcessorError) {
      this.notJudged(task, decoded);
      return;
    }
    task.event = decoded;
    const { scheduler } = st;
    // A verdict that needs no I/O (local checks only, a cached DNS answer) takes no time, so
    // it needs no semaphore slot or deadline: it is routed now, when the ordering allows. An
    // idle partition allows it for any key, so the key's string is built only when needed,
    // and once.
    const idle = scheduler.idle();
    const key = idle && deps.validator.validateNow ? undefined : keyOf(message);
    if (deps.validator.validateNow && (idle || scheduler.canRunNow(key ?? null))) {
      const now = this.validateNow(task);
      if (now !== undefined) {
        this.judged(task, now);
        return;
      }
    }
    scheduler
      .schedule(key === undefined ? keyOf(message) : key, () => this.run(task))
      .catch((err: unknown) => deps.failed(err as Error));
  }

  private async run(task: RecordTask): Promise<void> {
    if (task.st.revoked) return this.abandon(task);
    const outcome = await this.validate(task);
    if (task.st.revoked) return this.abandon(task);
    if (outcome instanceof ProcessorError) this.notJudged(task, outcome);
    else this.judged(task, outcome);
  }

  /** The verdict without I/O, or undefined when it needs I/O (or the validator failed: then it runs scheduled). */
  private validateNow(task: RecordTask): Verdict | undefined {
    const validator = this.deps.validator;
    const email = task.event!.email;
    try {
      return this.deps.spans.enabled
        ? context.with(task.ctx, () => validator.validateNow?.(email))
        : validator.validateNow?.(email);
    } catch {
      return undefined;
    }
  }

  /** Runs the validator under the deadline; a throw becomes a VALIDATION_ERROR, never a crash. */
  private async validate(task: RecordTask): Promise<Verdict | ProcessorError> {
    const email = task.event!.email;
    // The deadline also aborts the event's I/O (queued and in-flight provider requests,
    // DNS, SMTP): no request starts, and none is paid for, after the event was answered.
    // Only validations that need I/O come here (validateNow answers the rest). A revoked
    // partition aborts it too, through a listener removed when the validation ends: not
    // AbortSignal.any, which ties each record's signal to the partition's long-lived one
    // through weak references the young-generation collector treats as strong (see
    // validation/probe/connect.ts), and costs more per record.
    const deadline = new AbortController();
    const partition = task.st.abort.signal;
    const onRevoke = () => deadline.abort(partition.reason);
    if (partition.aborted) deadline.abort(partition.reason);
    else partition.addEventListener('abort', onRevoke, { once: true });
    try {
      // Check spans (dns, provider, smtp) become children of this record's process span.
      const run = context.with(task.ctx, () => this.deps.validator.validate(email, { signal: deadline.signal }));
      return (await this.deps.deadlines.race(run, deadline)) ?? timeoutVerdict(email);
    } catch (err) {
      if (task.st.revoked) return timeoutVerdict(email);
      return new ProcessorError('VALIDATION_ERROR', `validator failed: ${(err as Error).message}`, { cause: err });
    } finally {
      partition.removeEventListener('abort', onRevoke);
    }
  }

  /** Routes the verdict (its duration taken now) and publishes the record it became. */
  private judged(task: RecordTask, verdict: Verdict): void {
    const { deps } = this;
    const durationMicros = Math.round((performance.now() - task.started) * 1000);
    deps.spans.verdict(task, verdict.verdict, verdict.reason);
    deps.observer.judged?.(verdict);
    this.finish(task, routeVerdict(deps.policy, task, verdict, durationMicros), verdictSummary(verdict));
  }

  /** Routes a record that did not decode, or whose validator threw, and publishes its dead letter. */
  private notJudged(task: RecordTask, error: ProcessorError): void {
    this.finish(task, routeFailure(this.deps.policy, task, error), null);
  }

  /** Publishes the record the task was routed to. */
  private finish(task: RecordTask, { destination, record, code }: Routed, verdict: VerdictSummary | null): void {
    const { deps } = this;
    task.verdict = verdict;
    task.destination = destination;
    task.code = code;
    task.record = record;
    // Encoded into the record: not kept alive (its strings, the consumed record's objects and
    // the verdict's checks) while the record waits for the broker. In-flight records are
    // what survives the young-generation collections, so each object dropped here is one
    // the garbage collector no longer copies.
    // The fetched record itself stays in KafkaJS's batch until the batch loop ends: what was
    // read from it (value and header views, headers object) is dropped from it here.
    task.event = null;
    releaseRecord(task.message);
    task.message = RELEASED_MESSAGE;
    // Trace context goes into the record's headers: a result's are shared and frozen.
    if ((task.span !== NO_SPAN || task.ctx !== ROOT_CONTEXT) && Object.isFrozen(record.headers))
      record.headers = { ...record.headers };
    task.sendSpan = deps.spans.send(task, record, destination, code);
    deps.publisher.submit(task as RecordTask & { record: OutgoingRecord });
  }

  /** The task's record is acknowledged. Called from the publisher's loop: never throws into it. */
  published(task: RecordTask): void {
    const { deps } = this;
    try {
      deps.spans.sent(task, task.sendSpan);
      deps.observer.routed?.(task.destination, task.verdict, task.code, performance.now() - task.started);
      deps.done(task);
    } catch (err) {
      deps.failed(err as Error);
    }
  }

  publishFailed(task: RecordTask, err: Error): void {
    const { deps } = this;
    deps.spans.sendFailed(task, task.sendSpan, err);
    // The offset stays uncommitted: after the restart this record is read again.
    deps.failed(new ProcessorError('PUBLISH_FAILED', `result could not be published: ${err.message}`, { cause: err }));
  }

  private abandon(task: RecordTask): void {
    this.deps.spans.abandoned(task);
    this.deps.abandoned(task);
  }
}

/** What a routed task keeps of its consumed record: nothing (the record it became holds what it needs). */
const RELEASED_MESSAGE: KafkaMessage = Object.freeze({
  key: null,
  value: null,
  timestamp: '0',
  attributes: 0,
  offset: '-1',
  headers: {},
}) as KafkaMessage;

/** A verdict's kind and reason, one shared frozen object per pair (the reasons are a closed set). */
export type VerdictSummary = Readonly<Pick<Verdict, 'verdict' | 'reason'>>;
const summaries = new Map<string, Map<string | null, VerdictSummary>>();

function verdictSummary({ verdict, reason }: Verdict): VerdictSummary {
  let byReason = summaries.get(verdict);
  if (!byReason) {
    byReason = new Map();
    summaries.set(verdict, byReason);
  }
  let summary = byReason.get(reason);
  if (!summary) {
    summary = Object.freeze({ verdict, reason });
    // A reason outside the closed set (a validator of a library user) is summarised but not kept.
    if (byReason.size < 64) byReason.set(reason, summary);
  }
  return summary;
}

/** The record's ordering key: Latin-1 maps bytes one to one, so the string is a faithful, cheap key identity. */
function keyOf(message: KafkaMessage): string | null {
  return message.key ? message.key.toString('latin1') : null;
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
