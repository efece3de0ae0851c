import { int, list, oneOf, str } from '../config-fields.js';

const hostPort = /^[^\s,:]+:\d{1,5}$/;

export const kafkaFields = {
  brokers: list({
    env: 'KAFKA_BROKERS',
    description: 'Comma-separated bootstrap brokers (host:port).',
    default: ['127.0.0.1:9092'],
    example: 'kafka-0.kafka:9092,kafka-1.kafka:9092',
    item: hostPort,
  }),
  clientId: str({ env: 'KAFKA_CLIENT_ID', description: 'Kafka client id.', default: 'email-flow-validator' }),
  groupId: str({
    env: 'KAFKA_GROUP_ID',
    description: 'Consumer group id; replicas share it.',
    default: 'email-flow-validator',
  }),
  sessionTimeoutMs: int({
    env: 'KAFKA_SESSION_TIMEOUT_MS',
    description:
      'Consumer group session timeout: how long a silent (crashed) member keeps its partitions. Heartbeats go at a tenth of it.',
    default: 30_000,
    min: 6000,
    max: 300_000,
  }),
  transactionalId: str({
    env: 'KAFKA_TRANSACTIONAL_ID',
    description:
      'DELIVERY=exactly-once only: the producer transactional id. Must be stable across restarts of one replica and unique among replicas (e.g. a StatefulSet pod name); empty: <group id>-<host name>.',
    default: '',
    allowEmpty: true,
  }),
  startFrom: oneOf({
    env: 'KAFKA_START_FROM',
    description: 'Where a new group starts reading: earliest (no sign-up is skipped) or latest.',
    default: 'earliest',
    values: ['earliest', 'latest'] as const,
  }),
};

export const topicFields = {
  input: str({ env: 'INPUT_TOPIC', description: 'Topic of sign-up events.', default: 'signups' }),
  valid: str({
    env: 'VALID_TOPIC',
    description: 'Results with verdict deliverable (and risky by default).',
    default: 'signups.valid',
  }),
  invalid: str({
    env: 'INVALID_TOPIC',
    description: 'Results with verdict undeliverable.',
    default: 'signups.invalid',
  }),
  deadLetter: str({
    env: 'DLQ_TOPIC',
    description: 'Original records that could not be decoded or judged, with the reason in headers.',
    default: 'signups.dlq',
  }),
};
