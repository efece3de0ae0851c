import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Message } from 'kafkajs';
import type { SignupEvent } from '../contract/schemas.js';
import { signupRecord } from '../integrate/publish-signup.js';
import { injectContext } from '../telemetry/propagation.js';
import { sendAttributes, sendSpanName } from '../telemetry/semconv.js';
import { PROCESSOR_VERSION } from '../version.js';

export type WireFormat = 'avro' | 'json';

/** One input record for a sign-up: key = user id, W3C trace context in the headers. */
export function signupMessage(event: SignupEvent, format: WireFormat = 'avro', topic = 'signups'): Message {
  const message = signupRecord(event, { format });
  const tracer = trace.getTracer('email-flow-validator', PROCESSOR_VERSION);
  const span = tracer.startSpan(sendSpanName(topic), { kind: SpanKind.PRODUCER, attributes: sendAttributes(topic) });
  injectContext(trace.setSpan(context.active(), span), message.headers as Record<string, string | Buffer>);
  span.end();
  return message;
}
