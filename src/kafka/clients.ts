/**
 * Consumer and producer settings, written once for every command (run, produce, replay-dlq).
 * The client itself (brokers, TLS, SASL, retries of the connection) is made in client.ts.
 */
import type { ConsumerConfig, ProducerConfig } from 'kafkajs';
import type { PipelineOptions } from '../pipeline/options.js';
import type { KafkaOptions } from './options.js';
import { javaCompatiblePartitioner } from './partitioner.js';

/**
 * A producer. Transactions need KafkaJS's idempotent producer; nothing else uses it:
 * KafkaJS 2.2.4's idempotent producer was seen to acknowledge records that a leader failover
 * then lost, and to stall on OUT_OF_ORDER_SEQUENCE_NUMBER. acks=all (every send here) with one
 * request in flight per broker (or per partition: see the publisher's lanes) keeps order; a retry may duplicate a record, never lose one.
 * Retries are bounded: a caller that must not give up retries a failed send itself (the
 * processor's publisher does, with a new producer); a command fails and says so.
 */
export function producerConfig(
  options: { transactionalId?: string | undefined; transactionTimeout?: number; maxInFlightRequests?: number } = {},
): ProducerConfig {
  const { transactionalId, transactionTimeout } = options;
  return {
    idempotent: transactionalId !== undefined,
    // More than one only for a caller that never has one partition in two requests at once
    // (the processor's publisher lanes): order per partition then holds all the same.
    maxInFlightRequests: options.maxInFlightRequests ?? 1,
    allowAutoTopicCreation: false,
    ...(transactionalId !== undefined ? { transactionalId } : {}),
    ...(transactionTimeout !== undefined ? { transactionTimeout } : {}),
    // Same key → same partition as Java clients (murmur2), so downstream joins line up and a
    // replayed record lands behind that user's other events (KafkaJS's DefaultPartitioner,
    // without its per-record cost: see partitioner.ts).
    createPartitioner: javaCompatiblePartitioner,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 3000 },
  };
}

/** The processor's consumer: offsets committed by the processor itself, never auto-committed. */
export function processorConsumerConfig(
  kafka: Pick<KafkaOptions, 'groupId' | 'sessionTimeoutMs'>,
  pipeline: Pick<PipelineOptions, 'fetchMaxBytesPerPartition'>,
): ConsumerConfig {
  return {
    groupId: kafka.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: kafka.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(kafka.sessionTimeoutMs / 10)),
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: pipeline.fetchMaxBytesPerPartition,
    // KafkaJS's default total (10 MB) would let one fetch hold far more than the windows.
    maxBytes: Math.max(1_048_576, Math.min(10_485_760, pipeline.fetchMaxBytesPerPartition * 16)),
    // read_committed: records of aborted producer transactions are never judged.
    readUncommitted: false,
  };
}

/**
 * A tool's consumer (replay-dlq): read_committed (the default), so records of an aborted
 * transaction are never read. A short fetch wait: once the last partition is done,
 * disconnect waits for the fetch in flight.
 */
export function toolConsumerConfig(groupId: string): ConsumerConfig {
  return { groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 };
}
