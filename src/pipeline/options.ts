import { durations, type Infer, int, oneOf } from '../config-fields.js';

export const ORDERING_MODES = ['key', 'unordered', 'partition'] as const;
export type OrderingMode = (typeof ORDERING_MODES)[number];

export const DELIVERY_MODES = ['at-least-once', 'exactly-once'] as const;

export const pipelineFields = {
  delivery: oneOf({
    env: 'DELIVERY',
    description:
      'at-least-once: results are published, then offsets committed (a crash may duplicate up to the window). exactly-once: results and offsets are committed in one Kafka transaction; read the result topics with isolation.level=read_committed.',
    default: 'at-least-once',
    values: DELIVERY_MODES,
  }),
  ordering: oneOf({
    env: 'ORDERING',
    description:
      'key: same-key events one after another, other keys concurrently; unordered: any event of a partition may run; partition: one at a time.',
    default: 'key',
    values: ORDERING_MODES,
  }),
  partitionConcurrency: int({
    env: 'PARTITION_CONCURRENCY',
    description: 'Validations running at once within one partition (the per-partition semaphore).',
    default: 64,
    min: 1,
    max: 10_000,
  }),
  globalConcurrency: int({
    env: 'GLOBAL_CONCURRENCY',
    description: 'Validations running at once across all partitions of this process.',
    default: 512,
    min: 1,
    max: 100_000,
  }),
  partitionWindow: int({
    env: 'PARTITION_WINDOW',
    description:
      'Offsets a partition may have in flight (dispatched, not yet committable) before it is paused; bounds memory and the replay after a crash.',
    default: 500,
    min: 1,
    max: 1_000_000,
  }),
  globalWindow: int({
    env: 'GLOBAL_WINDOW',
    description:
      'Offsets the whole process may have in flight over all its partitions, shared fairly (each partition with records is guaranteed GLOBAL_WINDOW / partitions, at least one); bounds memory whatever the partition count.',
    default: 10_000,
    min: 1,
    max: 10_000_000,
  }),
  validationTimeoutMs: int({
    env: 'VALIDATION_TIMEOUT_MS',
    description: 'Deadline for one validation; past it the verdict is unknown/timeout.',
    default: 10_000,
    min: 10,
    max: 600_000,
  }),
  maxMessageBytes: int({
    env: 'MAX_MESSAGE_BYTES',
    description: 'Larger input values go to the dead-letter topic as OVERSIZED.',
    default: 65_536,
    min: 64,
    max: 10_485_760,
  }),
  inputFormat: oneOf({
    env: 'INPUT_FORMAT',
    description: 'auto: by content-type header, else JSON if the value starts with "{", else Avro binary.',
    default: 'auto',
    values: ['auto', 'avro', 'json'] as const,
  }),
  retryDelays: durations({
    env: 'RETRY_DELAYS',
    description:
      'Non-blocking retries of unknown (transient) verdicts: one retry topic per delay, named <INPUT_TOPIC>.retry.<delay>; after the last, dead-letter. Empty: dead-letter at once.',
    default: [
      { label: '1m', ms: 60_000 },
      { label: '10m', ms: 600_000 },
    ],
    example: '30s,5m,1h',
    max: 10,
  }),
  riskyRoute: oneOf({
    env: 'RISKY_ROUTE',
    description: 'Topic for risky verdicts (they keep their reason and flags).',
    default: 'valid',
    values: ['valid', 'invalid'] as const,
  }),
  publishBatchSize: int({
    env: 'PUBLISH_BATCH_SIZE',
    description: 'Results sent to Kafka in one request at most.',
    default: 1000,
    min: 1,
    max: 100_000,
  }),
  publishInFlight: int({
    env: 'PUBLISH_IN_FLIGHT',
    description:
      'Produce requests in flight at once (at-least-once). Output partitions are split among them, one request at a time per partition, so a key keeps its order.',
    default: 4,
    min: 1,
    max: 32,
  }),
  publishLingerMs: int({
    env: 'PUBLISH_LINGER_MS',
    description: 'How long a result may wait for others to share its request.',
    default: 5,
    min: 0,
    max: 10_000,
  }),
  fetchMaxBytesPerPartition: int({
    env: 'FETCH_MAX_BYTES_PER_PARTITION',
    description:
      'Bytes one fetch may return per partition. Fetched records wait in memory for the window, so this and PARTITION_WINDOW bound memory.',
    default: 131_072,
    min: 1024,
    max: 104_857_600,
  }),
  commitIntervalMs: int({
    env: 'COMMIT_INTERVAL_MS',
    description: 'How often committable offsets are committed.',
    default: 500,
    min: 10,
    max: 60_000,
  }),
  shutdownTimeoutMs: int({
    env: 'SHUTDOWN_TIMEOUT_MS',
    description:
      'On SIGTERM/SIGINT, how long in-flight work may drain before the process commits what it can and exits.',
    default: 20_000,
    min: 100,
    max: 600_000,
  }),
};

export type PipelineOptions = Infer<typeof pipelineFields>;
