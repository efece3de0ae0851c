import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Message } from 'kafkajs';
import { encodeSignupEvent, SIGNUP_CONTENT_TYPE, type SignupEvent } from '../schemas.js';
import { injectContext } from '../telemetry/propagation.js';
import { PROCESSOR_VERSION } from '../version.js';

export type WireFormat = 'avro' | 'json';

/** One input record for a sign-up: key = user id, W3C trace context in the headers. */
export function signupMessage(event: SignupEvent, format: WireFormat = 'avro'): Message {
  const headers: Record<string, string | Buffer> = {
    'content-type': format === 'json' ? 'application/json' : SIGNUP_CONTENT_TYPE,
  };
  const tracer = trace.getTracer('email-flow-validator', PROCESSOR_VERSION);
  const span = tracer.startSpan('signups publish', {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'kafka' },
  });
  injectContext(trace.setSpan(context.active(), span), headers);
  span.end();
  return {
    key: event.userId,
    value: format === 'json' ? Buffer.from(JSON.stringify(event)) : encodeSignupEvent(event),
    headers,
  };
}
