import { type Context, context as otelContext, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { IHeaders, Message, Producer, RecordMetadata } from 'kafkajs';
import { JSON_CONTENT_TYPE, SIGNUP_CONTENT_TYPE } from '../contract/content-types.js';
import { CONTENT_TYPE_HEADER } from '../contract/headers.js';
import { encodeSignupEvent, type SignupEvent } from '../contract/schemas.js';
import { injectContext } from '../telemetry/propagation.js';
import {
  MESSAGING_DESTINATION_PARTITION_ID,
  MESSAGING_KAFKA_OFFSET,
  sendAttributes,
  sendSpanName,
} from '../telemetry/semconv.js';
import { PROCESSOR_VERSION } from '../version.js';

/** Avro binary of a SignupEvent, checked first (see contract/schemas.ts). */
export { encodeSignupEvent };

export interface SignupRecordOptions {
  /** Avro binary (the default, the schema in schemas/SignupEvent.avsc) or JSON. */
  format?: 'avro' | 'json';
  /** More headers for the record; `content-type` and the trace context are set by the helper. */
  headers?: Record<string, string | Buffer>;
}

export interface PublishSignupOptions extends SignupRecordOptions {
  /** Parent trace context; defaults to the active one (your HTTP request's span, say). */
  context?: Context;
  /** Tracer for the producer span; defaults to the global tracer provider's. */
  tracer?: Tracer;
  /** Defaults to -1 (all in-sync replicas), so a returned promise means the event is safe. */
  acks?: number;
  /** Broker-side timeout of the produce request, in milliseconds. */
  timeout?: number;
  /**
   * Write Confluent wire format with the schema registered under `<topic>-value`
   * (see `signupRegistryCodec`) instead of raw Avro.
   */
  registry?: { encodeAsync(topic: string, event: SignupEvent): Promise<Buffer> };
}

/**
/** A sign-up's input record: a KafkaJS `Message` whose key, value and headers are always set. */
export interface SignupRecord extends Message {
  key: string;
  value: Buffer;
  headers: Record<string, string | Buffer>;
}

/**
 * The input record for one sign-up, without sending it: key = user id (so one user's events
 * keep their order), value in Avro or JSON, `content-type` header. Use it to batch many
 * events in one `producer.send`; call `injectTraceContext(record.headers)` yourself then.
 */
export function signupRecord(event: SignupEvent, options: SignupRecordOptions = {}): SignupRecord {
  const json = options.format === 'json';
  const value = json ? Buffer.from(JSON.stringify(encodeAndCheckJson(event))) : encodeSignupEvent(event);
  return {
    key: event.userId,
    value,
    headers: { ...options.headers, [CONTENT_TYPE_HEADER]: json ? JSON_CONTENT_TYPE : SIGNUP_CONTENT_TYPE },
  };
}

function encodeAndCheckJson(event: SignupEvent): SignupEvent {
  // Same checks as Avro, so both formats refuse the same mistakes before they reach Kafka.
  encodeSignupEvent(event);
  return event;
}

/** Writes the W3C `traceparent`/`tracestate` of `ctx` into Kafka record headers. */
export function injectTraceContext(headers: IHeaders, ctx: Context = otelContext.active()): void {
  injectContext(ctx, headers as Record<string, string | Buffer>);
}

/**
 * Publishes one sign-up to the input topic inside a PRODUCER span whose context travels in
 * the record's headers, so the processor's span and the result's consumers join the same
 * trace. Resolves once the broker acknowledged the record (acks=all by default).
 *
 * Without a tracing SDK the span is a no-op: the parent context (options.context or the
 * active one) is still propagated when there is one, and no header is invented otherwise.
 */
export async function publishSignup(
  producer: Producer,
  topic: string,
  event: SignupEvent,
  options: PublishSignupOptions = {},
): Promise<RecordMetadata[]> {
  const message = signupRecord(event, options);
  if (options.registry) message.value = await options.registry.encodeAsync(topic, event);
  const parent = options.context ?? otelContext.active();
  const tracer = options.tracer ?? trace.getTracer('email-flow-validator', PROCESSOR_VERSION);
  const span = tracer.startSpan(
    sendSpanName(topic),
    {
      kind: SpanKind.PRODUCER,
      attributes: sendAttributes(topic),
    },
    parent,
  );
  injectTraceContext(message.headers, trace.setSpan(parent, span));
  try {
    const meta = await producer.send({
      topic,
      acks: options.acks ?? -1,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      messages: [message],
    });
    const first = meta[0];
    if (first) {
      span.setAttribute(MESSAGING_DESTINATION_PARTITION_ID, String(first.partition));
      if (first.baseOffset !== undefined) span.setAttribute(MESSAGING_KAFKA_OFFSET, Number(first.baseOffset));
    }
    return meta;
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
