import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import * as tracing from '@opentelemetry/sdk-trace';
import { Partitioners, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signupEventType } from '../../src/contract/schemas.js';
import * as api from '../../src/index.js';
import { encodeSignupEvent, publishSignup, readResultRecord, type SignupEvent, verdictOf } from '../../src/index.js';
import { consumeRecords, createTopics, deleteTopics, testKafka, uniqueName } from '../helpers/kafka.js';
import { startTestPipeline } from '../helpers/processor.js';

const exporter = new tracing.InMemorySpanExporter();
const provider = new tracing.TracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('signup-service-test');

/**
 * A producer per test: KafkaJS refreshes metadata for every topic a producer ever sent to,
 * and fails once one of them (another test's, since deleted) is gone.
 */
let producer: Producer;
beforeEach(async () => {
  producer = testKafka().producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});
afterEach(async () => {
  await producer?.disconnect();
});
afterAll(async () => {
  await provider.shutdown();
});

function event(n: number, email = `person${n}@example.com`): SignupEvent {
  return {
    eventId: `evt-${n}`,
    userId: `user-${n}`,
    email,
    occurredAt: 1_764_300_000_000 + n,
    source: null,
    locale: 'de',
  };
}

/** An upstream request span: the context a sign-up form handler would be in. */
function requestContext() {
  const span = tracer.startSpan('POST /signup', { kind: SpanKind.SERVER });
  span.end();
  return { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
}

const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('public API', () => {
  it('exports exactly the integration helpers', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'AvroRegistryCodec',
        'CHECK_STATUSES',
        'DEAD_LETTER_CODES',
        'DLQ_HEADERS',
        'FLAGS',
        'PROCESSOR_VERSION',
        'REASONS',
        'RESULT_CONTENT_TYPE',
        'RESULT_HEADERS',
        'RISKY_REASONS',
        'SIGNUP_CONTENT_TYPE',
        'UNDELIVERABLE_REASONS',
        'UNKNOWN_REASONS',
        'VERDICTS',
        'createValidator',
        'decodeValidationResult',
        'encodeSignupEvent',
        'injectTraceContext',
        'publishSignup',
        'readResultRecord',
        'resultRegistryCodec',
        'SchemaRegistryClient',
        'SchemaRegistryError',
        'signupRegistryCodec',
        'signupRecord',
        'traceContextOf',
        'verdictOf',
      ].sort(),
    );
  });

  it('encodeSignupEvent writes the schema of schemas/ and names a wrong field', () => {
    expect(signupEventType.fromBuffer(encodeSignupEvent(event(1)))).toEqual(event(1));
    const wrong = { ...event(2), email: 42, occurredAt: 'yesterday' } as unknown as SignupEvent;
    expect(() => encodeSignupEvent(wrong)).toThrow(/bad field\(s\) email, occurredAt/);
  });
});

describe('publishSignup (real broker)', () => {
  it('publishes Avro keyed by user id, acknowledged, with a producer span whose context is in the headers', async () => {
    const topic = uniqueName('integrate-publish');
    await createTopics([topic], 2);
    try {
      const { span: request, ctx } = requestContext();
      const meta = await publishSignup(producer, topic, event(1), {
        context: ctx,
        tracer,
        headers: { 'x-tenant': 'a' },
      });
      expect(meta).toHaveLength(1);
      const [rec] = await consumeRecords([topic], 1);
      expect(rec!.message.key?.toString()).toBe('user-1');
      expect(signupEventType.fromBuffer(rec!.message.value!)).toEqual(event(1));
      expect(rec!.message.headers?.['content-type']?.toString()).toBe(api.SIGNUP_CONTENT_TYPE);
      expect(rec!.message.headers?.['x-tenant']?.toString()).toBe('a');

      const sent = traceparent.exec(String(rec!.message.headers?.traceparent));
      expect(sent, 'traceparent header').not.toBeNull();
      const producerSpan = exporter.getFinishedSpans().find((s) => s.name === `send ${topic}`);
      expect(producerSpan?.kind).toBe(SpanKind.PRODUCER);
      expect(producerSpan?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(sent![1]).toBe(request.spanContext().traceId);
      expect(sent![2]).toBe(producerSpan!.spanContext().spanId);
      expect(producerSpan?.attributes['messaging.destination.name']).toBe(topic);
      expect(producerSpan?.attributes['messaging.destination.partition.id']).toBe(String(rec!.partition));
    } finally {
      await deleteTopics([topic]);
    }
  });

  it('publishes JSON when asked, and refuses a bad event before it reaches Kafka', async () => {
    const topic = uniqueName('integrate-json');
    await createTopics([topic], 1);
    try {
      await publishSignup(producer, topic, event(2), { format: 'json' });
      await expect(
        publishSignup(producer, topic, { ...event(3), userId: null } as unknown as SignupEvent, { format: 'json' }),
      ).rejects.toThrow(/userId/);
      const [rec] = await consumeRecords([topic], 1);
      expect(JSON.parse(rec!.message.value!.toString())).toEqual(event(2));
      expect(rec!.message.headers?.['content-type']?.toString()).toBe('application/json');
      expect(await topicEnd(topic)).toBe(1);
    } finally {
      await deleteTopics([topic]);
    }
  });

  it('joins one trace from the producer through the processor to the result consumer', async () => {
    const pipeline = await startTestPipeline({ partitions: 1 });
    try {
      const { span: request, ctx } = requestContext();
      await publishSignup(producer, pipeline.topics.input, event(7, 'Jane.Doe@Example.com'), { context: ctx, tracer });
      await publishSignup(producer, pipeline.topics.input, event(8, 'broken@@example.com'), { tracer });
      const out = await consumeRecords([pipeline.topics.valid, pipeline.topics.invalid], 2);
      expect(out).toHaveLength(2);
      const valid = out.find((r) => r.topic === pipeline.topics.valid)!;
      const read = readResultRecord(valid.message);
      expect(read.key).toBe('user-7');
      expect(read.result).toMatchObject({
        eventId: 'evt-7',
        normalizedEmail: 'Jane.Doe@example.com',
        verdict: 'deliverable',
      });
      expect(verdictOf(valid.message.headers)).toBe('deliverable');
      expect(trace.getSpanContext(read.traceContext)?.traceId).toBe(request.spanContext().traceId);
      const invalid = out.find((r) => r.topic === pipeline.topics.invalid)!;
      expect(readResultRecord(invalid.message).result.reason).toBe('invalid_syntax');
      expect(verdictOf(invalid.message.headers)).toBe('undeliverable');
    } finally {
      await pipeline.stop();
    }
  });

  it('ends its span with an error when the send fails', async () => {
    const missing = uniqueName('integrate-missing');
    const failing = testKafka().producer({ retry: { retries: 0 }, createPartitioner: Partitioners.DefaultPartitioner });
    await failing.connect();
    try {
      await expect(publishSignup(failing, missing, event(9), { tracer, timeout: 2000 })).rejects.toThrow();
    } finally {
      await failing.disconnect();
    }
    const span = exporter.getFinishedSpans().find((s) => s.name === `send ${missing}`);
    expect(span?.status.code).toBe(2);
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
  });
});

async function topicEnd(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
