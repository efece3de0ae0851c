import {
  type Context,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import { PROCESSOR_VERSION } from '../version.js';
import { extractContext, injectContext } from './propagation.js';
import {
  EFV_ABANDONED,
  EFV_DESTINATION,
  EFV_ERROR_CODE,
  EFV_REASON,
  EFV_VERDICT,
  MESSAGING_KAFKA_MESSAGE_KEY,
  MessageKeyHasher,
  processAttributes,
  processSpanName,
  sendAttributes,
  sendSpanName,
} from './semconv.js';
import { tracerProviderRegistered } from './tracer-registered.js';

/**
 * The span of every record while no tracing SDK is registered: one shared no-op instead of
 * two spans and a context per record. The input's W3C context is still carried to the output.
 */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** What a record carries through its processing: its process span and the context under it. */
export interface TracedRecord {
  span: Span;
  ctx: Context;
}

/** Whether spans can be recorded: a tracer was given, or an SDK registered a provider. */
function tracingRegistered(explicit: Tracer | undefined): boolean {
  return explicit !== undefined || tracerProviderRegistered();
}

/** The `process` span of each consumed record and the `send` span of its output. */
export class RecordSpans {
  private readonly tracer: Tracer;
  private readonly keys: MessageKeyHasher;
  private on = false;

  constructor(
    private readonly explicit: Tracer | undefined,
    private readonly groupId: string,
    keySecret: string | undefined,
  ) {
    this.tracer = explicit ?? trace.getTracer('email-flow-validator', PROCESSOR_VERSION);
    this.keys = new MessageKeyHasher(keySecret);
  }

  /** Checked per batch: an SDK registered after start (tests) is picked up. */
  refresh(): void {
    this.on = tracingRegistered(this.explicit);
  }

  /** Whether records get spans now (see NO_SPAN). */
  get enabled(): boolean {
    return this.on;
  }

  /** Starts the process span of a consumed record, under the context its producer sent. */
  process(
    record: TracedRecord,
    topic: string,
    partition: number,
    offset: number,
    message: { key: Buffer | null; headers?: IHeaders },
  ): void {
    const parent = extractContext(message.headers);
    if (!this.on) {
      record.ctx = parent;
      record.span = NO_SPAN;
      return;
    }
    const span = this.tracer.startSpan(
      processSpanName(topic),
      { kind: SpanKind.CONSUMER, attributes: processAttributes(topic, partition, offset, this.groupId) },
      parent,
    );
    if (message.key && span.isRecording()) span.setAttribute(MESSAGING_KAFKA_MESSAGE_KEY, this.keys.hash(message.key));
    record.span = span;
    record.ctx = trace.setSpan(parent, span);
  }

  verdict(record: TracedRecord, verdict: string, reason: string | null): void {
    record.span.setAttribute(EFV_VERDICT, verdict);
    if (reason) record.span.setAttribute(EFV_REASON, reason);
  }

  /**
   * Starts the send span of a record's output and puts its context in the output's headers,
   * so a downstream consumer continues the trace. Without an SDK the input's context goes on
   * unchanged.
   */
  send(
    record: TracedRecord,
    output: { topic: string; headers: Record<string, string | Buffer> },
    destination: string,
    errorCode: string | null,
  ): Span {
    if (record.span === NO_SPAN) {
      if (record.ctx !== ROOT_CONTEXT) injectContext(record.ctx, output.headers);
      return NO_SPAN;
    }
    const span = this.tracer.startSpan(
      sendSpanName(output.topic),
      { kind: SpanKind.PRODUCER, attributes: sendAttributes(output.topic) },
      record.ctx,
    );
    injectContext(trace.setSpan(record.ctx, span), output.headers);
    if (errorCode) record.span.setAttribute(EFV_ERROR_CODE, errorCode);
    record.span.setAttribute(EFV_DESTINATION, destination);
    return span;
  }

  /** The output is acknowledged: both spans end. */
  sent(record: TracedRecord, send: Span): void {
    send.end();
    record.span.end();
  }

  sendFailed(record: TracedRecord, send: Span, err: Error): void {
    send.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    send.end();
    record.span.end();
  }

  /** The partition was revoked while the record was in flight. */
  abandoned(record: TracedRecord): void {
    record.span.setAttribute(EFV_ABANDONED, true);
    record.span.end();
  }
}
