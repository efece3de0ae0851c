import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Message, Producer } from 'kafkajs';
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

/** Publishes sign-ups in batches (acks=all), reporting progress after each batch. */
export async function publishSignups(
  producer: Producer,
  topic: string,
  events: Iterable<SignupEvent> | AsyncIterable<SignupEvent>,
  options: {
    format?: WireFormat;
    batchSize?: number;
    onProgress?: (sent: number) => void;
    /** A KafkaJS compression type (src/kafka/compression.ts `CODECS`); 0: none. */
    compression?: number;
  } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  let batch: Message[] = [];
  let sent = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({
      topic,
      acks: -1,
      messages: batch,
      ...(options.compression ? { compression: options.compression } : {}),
    });
    sent += batch.length;
    batch = [];
    options.onProgress?.(sent);
  };
  for await (const e of events) {
    batch.push(signupMessage(e, options.format));
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return sent;
}

/**
 * Reads sign-ups from an NDJSON file, one JSON object a line. A line that is not JSON is
 * reported with its line number rather than skipped silently.
 */
export async function* readNdjson(path: string): AsyncGenerator<SignupEvent> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let o: Partial<SignupEvent>;
    try {
      o = JSON.parse(line) as Partial<SignupEvent>;
    } catch (err) {
      throw new Error(`${path}:${n}: not JSON: ${(err as Error).message}`);
    }
    if (typeof o.email !== 'string') throw new Error(`${path}:${n}: "email" must be a string`);
    yield {
      eventId: typeof o.eventId === 'string' ? o.eventId : `ndjson-${n}`,
      userId: typeof o.userId === 'string' ? o.userId : `user-${n}`,
      email: o.email,
      occurredAt: typeof o.occurredAt === 'number' ? o.occurredAt : Date.now(),
      source: typeof o.source === 'string' ? o.source : null,
      locale: typeof o.locale === 'string' ? o.locale : null,
    };
  }
}
