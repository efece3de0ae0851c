/**
 * A downstream service reading the valid topic: sends the welcome mail for deliverable
 * addresses, asks risky ones to confirm first.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx examples/consume-valid.ts
 *
 * MAX_MESSAGES=N stops after N results (otherwise it runs until Ctrl-C). In your project
 * import from 'email-flow-validator' instead of '../src/index.js'.
 */
import { SpanKind, trace } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import { readResultRecord } from '../src/index.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = process.env.VALID_TOPIC ?? 'signups.valid';
const groupId = process.env.GROUP_ID ?? 'welcome-mailer';
const maxMessages = Number(process.env.MAX_MESSAGES ?? Number.POSITIVE_INFINITY);

const tracer = trace.getTracer('welcome-mailer');
const kafka = new Kafka({ clientId: 'welcome-mailer', brokers, logLevel: logLevel.WARN });
// The processor writes results at least once (a retry may repeat one: dedupe by eventId if
// that matters), or in transactions with DELIVERY=exactly-once: read committed, so an aborted
// transaction's results are skipped.
const consumer = kafka.consumer({ groupId, readUncommitted: false });

let seen = 0;
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await consumer.disconnect();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    const { result, traceContext } = readResultRecord(message);
    // A child of the processor's span: the trace runs from the sign-up form to this mail.
    const span = tracer.startSpan(`${topic} process`, { kind: SpanKind.CONSUMER }, traceContext);
    const action = result.verdict === 'deliverable' ? 'send-welcome' : 'ask-to-confirm';
    console.log(
      JSON.stringify({
        eventId: result.eventId,
        userId: result.userId,
        to: result.normalizedEmail,
        verdict: result.verdict,
        reason: result.reason,
        suggestion: result.suggestion,
        action,
        partition,
        traceId: span.spanContext().traceId,
      }),
    );
    span.end();
    if (++seen >= maxMessages) setImmediate(stop);
  },
});
