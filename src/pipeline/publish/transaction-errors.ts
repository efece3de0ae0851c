/**
 * Which failures of a transaction are worth another attempt, read from the error and its
 * causes as KafkaJS raises them during a leader change, a broker restart or a rebalance:
 * `rejoin` waits for the consumer's next generation, `retry` tries again on a new producer
 * (same transactional id, new epoch), `fatal` stops the publisher.
 */
/** Errors of the group coordinator saying this member's generation is over: wait for the rejoin. */
const GROUP_FENCED = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'FENCED_INSTANCE_ID',
]);
/** Errors after which only a new producer epoch helps; a new producer gets one. */
const PRODUCER_FENCED = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'TRANSACTION_ABORTABLE',
]);
/** What a failed transaction's errors can be retried for (its own or a cause's). */
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
  'MissingAcknowledgement',
]);

interface KafkaJSErrorLike {
  name?: string;
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
}

/** The errors of a KafkaJS failure: itself and what it wraps (retries exceeded, broker errors). */
function errorChain(err: unknown): KafkaJSErrorLike[] {
  const chain: KafkaJSErrorLike[] = [];
  let e = err as KafkaJSErrorLike | undefined;
  while (e && typeof e === 'object' && chain.length < 8) {
    chain.push(e);
    e = (e.cause ?? e.originalError) as KafkaJSErrorLike | undefined;
  }
  return chain;
}

/**
 * How a transaction that was never committed may be retried: `rejoin` (the group moved on:
 * retry once the consumer joined again), `retry` (a broker or leader moved, a producer was
 * fenced: retry with a new producer), or `fatal` (the records themselves are refused).
 */
export function retryKind(err: unknown): 'rejoin' | 'retry' | 'fatal' {
  const chain = errorChain(err);
  if (chain.some((e) => e.type && GROUP_FENCED.has(e.type))) return 'rejoin';
  if (chain.some((e) => (e.type && PRODUCER_FENCED.has(e.type)) || (e.name && RETRIABLE_NAMES.has(e.name))))
    return 'retry';
  // A KafkaJS protocol error that says so (NOT_LEADER_FOR_PARTITION, NOT_COORDINATOR,
  // COORDINATOR_LOAD_IN_PROGRESS, NOT_ENOUGH_REPLICAS, CONCURRENT_TRANSACTIONS, ...).
  if (chain.some((e) => e.type !== undefined && e.retriable === true)) return 'retry';
  return 'fatal';
}

/**
 * A failed commit is retried only when the transaction coordinator refused it (the producer
 * was fenced, e.g. the transaction timed out): then it was not committed. (Brokers answer
 * KafkaJS's old EndTxn version with INVALID_PRODUCER_EPOCH for that, not PRODUCER_FENCED.) Any other failure
 * (a connection lost while EndTxn was on the wire) leaves the outcome unknown.
 */
export function commitRetryKind(err: unknown): 'retry' | 'fatal' {
  return errorChain(err).some((e) => e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED')
    ? 'retry'
    : 'fatal';
}

export class MissingAcknowledgement extends Error {
  override name = 'MissingAcknowledgement';
}
