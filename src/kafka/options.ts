import { bool, type Field, type Infer, int, list, oneOf, optionalStr, str } from '../config-fields.js';

const hostPort = /^[^\s,:]+:\d{1,5}$/;

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/**
 * Unlike `oneOf`, empty means "no SASL": the Helm chart leaves the variable out when
 * `kafka.sasl.mechanism` is empty, and other deployments often set it to "".
 */
function optionalMechanism(o: { env: string; description: string }): Field<SaslMechanism | undefined> {
  return {
    ...o,
    default: undefined,
    example: 'scram-sha-512',
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (v === '' || v === 'none') return undefined;
      if (!(SASL_MECHANISMS as readonly string[]).includes(v)) {
        throw new Error(`must be one of ${SASL_MECHANISMS.join(', ')} (or empty for none)`);
      }
      return v as SaslMechanism;
    },
    show: (v) => v ?? '(unset)',
  };
}

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
      'DELIVERY=exactly-once only: the producer transactional id. Must be unique among running processes; need not be stable (offsets are fenced by the group generation), though an id kept across a restart ends the open transaction of the old process at once instead of at its 20 s timeout; empty: <group id>-<host name>-<pid>.',
    default: '',
    allowEmpty: true,
  }),
  ssl: bool({
    env: 'KAFKA_SSL',
    description:
      'Connect to the brokers over TLS. The server certificate is checked against KAFKA_SSL_CA_FILE, else the system CAs.',
    default: false,
  }),
  sslCaFile: optionalStr({
    env: 'KAFKA_SSL_CA_FILE',
    description: "PEM file of the CA certificate(s) that signed the brokers' certificates. Unset: the system CAs.",
    example: '/etc/kafka-tls/ca.crt',
  }),
  sslCertFile: optionalStr({
    env: 'KAFKA_SSL_CERT_FILE',
    description: 'PEM client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE).',
    example: '/etc/kafka-tls/tls.crt',
  }),
  sslKeyFile: optionalStr({
    env: 'KAFKA_SSL_KEY_FILE',
    description: 'PEM private key of KAFKA_SSL_CERT_FILE (unencrypted).',
    example: '/etc/kafka-tls/tls.key',
  }),
  sslRejectUnauthorized: bool({
    env: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
    description:
      'Refuse brokers whose certificate is not signed by a trusted CA or does not name the broker host. Turn off only to debug a TLS set-up.',
    default: true,
  }),
  saslMechanism: optionalMechanism({
    env: 'KAFKA_SASL_MECHANISM',
    description:
      'SASL authentication: plain, scram-sha-256 or scram-sha-512. Unset or empty: none. Use with KAFKA_SSL=true.',
  }),
  saslUsername: optionalStr({
    env: 'KAFKA_SASL_USERNAME',
    description: 'SASL user name (from the Secret in the Helm chart).',
    secret: true,
  }),
  saslPassword: optionalStr({
    env: 'KAFKA_SASL_PASSWORD',
    description: 'SASL password (from the Secret in the Helm chart); never logged.',
    secret: true,
  }),
  maxDecompressedBatchBytes: int({
    env: 'KAFKA_MAX_DECOMPRESSED_BATCH_BYTES',
    description:
      'Bytes one compressed record batch may decompress to; a larger one (a compression bomb) is dead-lettered as UNDECODABLE_BATCH and the partition moves past it.',
    default: 16 * 1024 * 1024,
    min: 65_536,
    max: 268_435_456,
  }),
  maxRecordHeaders: int({
    env: 'KAFKA_MAX_RECORD_HEADERS',
    description: 'Headers one input record may have; more: dead-lettered as TOO_MANY_HEADERS (headers summarised).',
    default: 256,
    min: 1,
    max: 100_000,
  }),
  maxRecordHeaderBytes: int({
    env: 'KAFKA_MAX_RECORD_HEADER_BYTES',
    description: 'Bytes of header names and values one input record may have; more: TOO_MANY_HEADERS.',
    default: 65_536,
    min: 1024,
    max: 10_485_760,
  }),
  maxBatchRecords: int({
    env: 'KAFKA_MAX_BATCH_RECORDS',
    description:
      'Records one input record batch may hold; a batch claiming more is dead-lettered as UNDECODABLE_BATCH (bounds the memory a small compressed batch can take).',
    default: 100_000,
    min: 1000,
    max: 10_000_000,
  }),
  producerCompression: oneOf({
    env: 'KAFKA_PRODUCER_COMPRESSION',
    description: 'Compression of the records this process produces (results, retries, dead letters, `produce`).',
    default: 'none',
    values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const,
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

export type KafkaOptions = Infer<typeof kafkaFields>;
export type TopicOptions = Infer<typeof topicFields>;
