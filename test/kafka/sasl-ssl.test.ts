import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterState, startCluster, stopCluster } from '../../dev/kafka/cluster.mjs';
import { type Config, loadConfig } from '../../src/config.js';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { createKafka } from '../../src/kafka/client.js';
import { allTopics } from '../../src/kafka/topics.js';
import { Processor } from '../../src/pipeline/processor.js';
import { createValidator } from '../../src/validation/validator.js';
import { uniqueName } from '../helpers/kafka.js';
import { resultType } from '../helpers/processor.js';
import { makeTestPki, type TestPki } from './certificates.js';

/**
 * The processor and its client factory against a real broker that only lets clients in over
 * TLS with SASL: this file starts its own cluster (with a SASL_SSL listener, SCRAM users
 * written at format time) beside the run's plain one, and stops it at the end.
 */
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const users = {
  'scram-sha-256': { name: 'alice', password: randomBytes(12).toString('hex') },
  'scram-sha-512': { name: 'bob', password: randomBytes(12).toString('hex') },
  plain: { name: 'carol', password: randomBytes(12).toString('hex') },
} as const;
type Mechanism = keyof typeof users;

const clusterName = `sasl-ssl-${process.pid}-${randomBytes(3).toString('hex')}`;
let pki: TestPki;
let cluster: ClusterState;

beforeAll(async () => {
  pki = makeTestPki();
  cluster = await startCluster({
    name: clusterName,
    nodes: 1,
    saslSsl: {
      keyStore: pki.brokerKeyStore,
      keyStorePassword: pki.storePassword,
      trustStore: pki.brokerTrustStore,
      trustStorePassword: pki.storePassword,
      clientAuth: 'requested',
      scramUsers: [
        { mechanism: 'SCRAM-SHA-256', ...users['scram-sha-256'] },
        { mechanism: 'SCRAM-SHA-512', ...users['scram-sha-512'] },
      ],
      plainUsers: [users.plain],
    },
  });
});

afterAll(async () => {
  await stopCluster({ name: clusterName });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** The processor's configuration as a deployment would give it: only environment variables. */
function secureConfig(mechanism: Mechanism, env: Record<string, string> = {}): Config {
  return loadConfig({
    KAFKA_BROKERS: cluster.saslSslBrokers!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: users[mechanism].name,
    KAFKA_SASL_PASSWORD: users[mechanism].password,
    KAFKA_GROUP_ID: uniqueName('group'),
    CHECK_DNS: 'false',
    RETRY_DELAYS: '',
    COMMIT_INTERVAL_MS: '200',
    ...env,
  });
}

/** A client that gives up at once, for the negative tests. */
function impatient(config: Config): Kafka {
  return createKafka(config.kafka, logger, { retry: { retries: 0 }, connectionTimeout: 5000 });
}

async function connectError(kafka: Kafka): Promise<Error> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    return err as Error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new Error('connected although it should not have');
}

/** Error name and message of an error and its causes, for matching whichever layer reports it. */
function describeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as (Error & { originalError?: unknown }) | undefined; e; ) {
    parts.push(`${e.name}: ${e.message}`);
    e = (e.cause ?? e.originalError) as typeof e | undefined;
  }
  return parts.join(' <- ');
}

/**
 * Creates topics through the secured client and waits for their leaders; KafkaJS's own wait
 * gives up on the UNKNOWN_TOPIC_OR_PARTITION a busy broker answers right after creation.
 */
async function createTopics(admin: Admin, names: string[], partitions: number): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: names.map((topic) => ({ topic, numPartitions: partitions })),
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics: names })
      .then(({ topics }) =>
        topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)),
      )
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} got no leaders within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function roundTrip(kafka: Kafka): Promise<string[]> {
  const topic = uniqueName('secure');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopics(admin, [topic], 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'k', value: 'one' },
        { key: 'k', value: 'two' },
      ],
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: uniqueName('reader') });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length} of 2 records`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    return got;
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

describe('Kafka over SASL_SSL (real broker)', () => {
  it.each(['scram-sha-256', 'scram-sha-512', 'plain'] as const)(
    'produces, consumes in a group and administers with %s over TLS',
    async (mechanism) => {
      const got = await roundTrip(createKafka(secureConfig(mechanism).kafka, logger));
      expect(got).toEqual(['one', 'two']);
    },
  );

  it('connects with a client certificate as well (mutual TLS + SCRAM)', async () => {
    const config = secureConfig('scram-sha-512', {
      KAFKA_SSL_CERT_FILE: pki.clientCertFile,
      KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
    });
    expect(await roundTrip(createKafka(config.kafka, logger))).toEqual(['one', 'two']);
  });

  it('is refused with a wrong SCRAM password', async () => {
    const err = await connectError(impatient(secureConfig('scram-sha-256', { KAFKA_SASL_PASSWORD: 'wrong-password' })));
    expect(describeChain(err)).toMatch(/SASL SCRAM SHA256 authentication failed|KafkaJSSASLAuthenticationError/);
  });

  it('is refused with a user that exists only for another mechanism', async () => {
    // bob has SCRAM-SHA-512 credentials only; the broker must not accept him for SHA-256.
    const config = secureConfig('scram-sha-256', {
      KAFKA_SASL_USERNAME: users['scram-sha-512'].name,
      KAFKA_SASL_PASSWORD: users['scram-sha-512'].password,
    });
    expect(describeChain(await connectError(impatient(config)))).toMatch(/authentication failed/i);
  });

  it('refuses a broker whose certificate the configured CA did not sign', async () => {
    const err = await connectError(impatient(secureConfig('scram-sha-512', { KAFKA_SSL_CA_FILE: pki.otherCaFile })));
    expect(describeChain(err)).toMatch(/certificate/i);
  });

  it('runs the processor end to end: consumes, validates, publishes and commits over SASL_SSL', async () => {
    const base = uniqueName('signups');
    const config = secureConfig('scram-sha-512', {
      INPUT_TOPIC: base,
      VALID_TOPIC: `${base}.valid`,
      INVALID_TOPIC: `${base}.invalid`,
      DLQ_TOPIC: `${base}.dlq`,
    });
    const kafka = createKafka(config.kafka, logger);
    const admin = kafka.admin();
    await admin.connect();
    const topics = allTopics(config.topics, config.pipeline.retryDelays);
    await createTopics(admin, topics, 2);
    const processor = new Processor(config, { kafka, validator: createValidator(config.validation), logger });
    try {
      await processor.start();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const emails = ['ann@example.com', 'bad@@example.com', 'carl@example.org'];
      await producer.send({
        topic: base,
        acks: -1,
        messages: emails.map((email, i) => ({
          key: `user-${i}`,
          value: encodeSignupEvent({
            eventId: `evt-${i}`,
            userId: `user-${i}`,
            email,
            occurredAt: 1_764_300_000_000,
            source: null,
            locale: null,
          }),
        })),
      });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: uniqueName('results') });
      await consumer.connect();
      await consumer.subscribe({ topics: [config.topics.valid, config.topics.invalid], fromBeginning: true });
      const results = new Map<string, { topic: string; verdict: string }>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${results.size} of 3 results`)), 45_000);
        void consumer.run({
          eachMessage: async ({ topic, message }) => {
            const r = resultType.fromBuffer(message.value!);
            results.set(r.eventId, { topic, verdict: r.verdict });
            if (results.size === 3) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      expect(Object.fromEntries(results)).toEqual({
        'evt-0': { topic: config.topics.valid, verdict: 'deliverable' },
        'evt-1': { topic: config.topics.invalid, verdict: 'undeliverable' },
        'evt-2': { topic: config.topics.valid, verdict: 'deliverable' },
      });

      // The group's commit went through the authenticated connection too.
      const deadline = Date.now() + 30_000;
      let committed = 0;
      while (Date.now() < deadline && committed < 3) {
        const offsets = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [base] });
        committed = offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
        if (committed < 3) await new Promise((r) => setTimeout(r, 200));
      }
      expect(committed).toBe(3);
    } finally {
      await processor.stop();
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect();
    }
  });
});
