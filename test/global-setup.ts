import type { TestProject } from 'vitest/node';
import { startCluster, stopCluster } from '../dev/kafka/cluster.mjs';
import { installRequestQueueTimer } from '../src/kafka/request-queue.js';

/**
 * Starts a real single-node Kafka (KRaft) for the run unless KAFKA_BROKERS is set, and
 * hands its address to the test files as KAFKA_BROKERS. Each run gets its own cluster name,
 * so concurrent runs on one machine never share or stop each other's broker.
 */
export default async function setup(project: TestProject) {
  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    return;
  }
  // The readiness check's KafkaJS admin, without the TimeoutNegativeWarning (see src/kafka/request-queue.ts).
  installRequestQueueTimer();
  const name = `test-${process.pid}`;
  const state = await startCluster({ name, nodes: 1 });
  process.env.KAFKA_BROKERS = state.brokers;
  project.provide('kafkaBrokers', state.brokers);
  return async () => {
    await stopCluster({ name });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}
