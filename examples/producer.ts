/**
 * A sign-up service publishing events for the processor to validate.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx examples/producer.ts [count]
 *
 * In your project import from 'email-flow-validator' instead of '../src/index.js'. With an
 * OpenTelemetry SDK started, each publish is a PRODUCER span in the trace of whatever
 * request is active, and the processor's span continues it.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { publishSignup, type SignupEvent } from '../src/index.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = process.env.INPUT_TOPIC ?? 'signups';
const count = Number(process.argv[2] ?? 5);

// A mix that lands on every result topic: deliverable, risky (role account) and undeliverable.
const addresses = ['ada.lovelace@example.com', 'info@example.org', 'grace@@example.net'];

const kafka = new Kafka({ clientId: 'signup-service', brokers, logLevel: logLevel.WARN });
// Not KafkaJS's idempotent producer: it can stall, or lose acknowledged records, after a leader
// failover (README, "Where KafkaJS forced a workaround"). One request in flight keeps a user's
// events in order; a retried send may write a sign-up twice (same eventId), never lose one.
const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
try {
  for (let i = 0; i < count; i++) {
    const event: SignupEvent = {
      eventId: randomUUID(),
      userId: `user-${i}`,
      email: addresses[i % addresses.length]!,
      occurredAt: Date.now(),
      source: 'web',
      locale: 'en-GB',
    };
    const [meta] = await publishSignup(producer, topic, event);
    console.log(JSON.stringify({ eventId: event.eventId, email: event.email, partition: meta?.partition }));
  }
} finally {
  await producer.disconnect();
}
