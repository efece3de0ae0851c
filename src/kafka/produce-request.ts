/**
 * KafkaJS 2.2.4's Produce request (v3, which v4–v7 reuse) and the framing of every request,
 * each written into one buffer, swapped in as record-encoder.ts swaps the record encoder.
 *
 * KafkaJS nests an `Encoder` per partition, per topic and per request, and two more to frame
 * it: each starts as a zero-filled 512-byte buffer and doubles (zero-filled again) as the
 * bytes below it are copied in, so a produce request's records are copied five times more
 * after their batch was written. Here each partition's batch is made as KafkaJS makes it (its
 * Record and RecordBatch modules: our encoders once installed, which then write each record in
 * place in its batch, with no buffer of its own), and the request around them is sized first
 * and written once; records are handed to the encoder without KafkaJS's object spread per
 * record. Byte for byte what KafkaJS writes (test/kafka/produce-request.test.ts).
 *
 * The produce request loads lazily, the first time a producer sends; the framing loads with
 * KafkaJS's main module, so importing this module puts it in the module cache first
 * (client.ts imports it before KafkaJS), as producer-grouping.ts does.
 */
import { createRequire } from 'node:module';
import { kafkajsMismatch } from './kafkajs-module.js';
import { writesMeasuredRecords } from './record-batch.js';
import { encodeRecord, measureRecord } from './record-encoder.js';

const require = createRequire(import.meta.url);

const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const PRODUCE_VERSIONS_MODULES = [4, 5, 6, 7].map((v) => `kafkajs/src/protocol/requests/produce/v${v}/request.js`);
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0/index.js';
const REQUEST_MODULE = 'kafkajs/src/protocol/request.js';
const CONNECTION_MODULE = 'kafkajs/src/network/connection.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const LONG_MODULE = 'kafkajs/src/utils/long.js';

interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
}
type EncoderClass = new (initialSize?: number) => KafkaEncoder;

interface Message {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: number | string | null;
}
interface PartitionData {
  partition: number;
  messages: Message[];
  firstSequence?: number;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: PartitionData[] }[];
}
interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<KafkaEncoder>;
}
type RecordFn = (input: object) => unknown;
type RecordBatchFn = (input: object) => Promise<KafkaEncoder>;

const PRODUCE_API_KEY = 0;

/** A KafkaJS Encoder holding `buf` (what KafkaJS's callers expect an encode to return). */
function encoderOf(Encoder: EncoderClass, buf: Buffer): KafkaEncoder {
  const e = new Encoder(0);
  e.buf = buf;
  e.offset = buf.length;
  return e;
}

const stringBytes = (s: string | null | undefined) => (s == null ? 2 : 2 + Buffer.byteLength(s, 'utf8'));

function writeString(buf: Buffer, at: number, s: string | null | undefined): number {
  if (s == null) return buf.writeInt16BE(-1, at);
  const n = Buffer.byteLength(s, 'utf8');
  at = buf.writeInt16BE(n, at);
  return at + buf.write(s, at, n, 'utf8');
}

/** The Produce v3 request, as KafkaJS's `produce/v3/request.js` makes it. */
export function produceRequestFactory(
  Encoder: EncoderClass,
  Record: RecordFn,
  RecordBatch: RecordBatchFn,
  Long: { fromInt(v: number): unknown },
  /** Sizes a record to be written in place by `RecordBatch`, when both are ours (uncompressed batches only). */
  measure?: RecordFn,
): (args: ProduceArgs) => KafkaRequest {
  async function partitionBatch(
    { messages, firstSequence }: PartitionData,
    compression: number,
    transactionalId: string | null,
    producerId: unknown,
    producerEpoch: number,
  ): Promise<Buffer> {
    const dateNow = Date.now();
    let firstTimestamp: number | string = dateNow;
    let maxTimestamp: number | string = dateNow;
    if (messages.some((m) => m.timestamp != null)) {
      // As KafkaJS: the timestamps sorted as strings, first and last.
      const timestamps = messages
        .map((m) => m.timestamp)
        .filter((t) => t != null)
        .sort() as (number | string)[];
      firstTimestamp = timestamps[0]!;
      maxTimestamp = timestamps[timestamps.length - 1]!;
    }
    const toRecord = measure && (compression & 0x07) === 0 ? measure : Record;
    const records = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      records[i] = toRecord({
        key: m.key,
        value: m.value,
        headers: m.headers,
        offsetDelta: i,
        timestampDelta: ((m.timestamp || dateNow) as number) - (firstTimestamp as number),
      });
    }
    const batch = await RecordBatch({
      compression,
      records,
      firstTimestamp,
      maxTimestamp,
      producerId,
      producerEpoch,
      firstSequence,
      transactional: !!transactionalId,
      lastOffsetDelta: records.length - 1,
    });
    return batch.buffer;
  }

  return ({
    acks,
    timeout,
    transactionalId = null,
    producerId = Long.fromInt(-1),
    producerEpoch = 0,
    compression = 0,
    topicData,
  }) => ({
    apiKey: PRODUCE_API_KEY,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      // transactional_id, acks int16, timeout int32, topic count int32.
      let size = stringBytes(transactionalId) + 2 + 4 + 4;
      const topics: { topic: string; partitions: { partition: number; batch: Buffer }[] }[] = [];
      for (const { topic, partitions } of topicData) {
        size += stringBytes(topic) + 4;
        const encoded: { partition: number; batch: Buffer }[] = [];
        for (const data of partitions) {
          const batch = await partitionBatch(data, compression, transactionalId, producerId, producerEpoch);
          encoded.push({ partition: data.partition, batch });
          size += 4 + 4 + batch.length;
        }
        topics.push({ topic, partitions: encoded });
      }
      const buf = Buffer.allocUnsafe(size);
      let at = writeString(buf, 0, transactionalId);
      at = buf.writeInt16BE(acks, at);
      at = buf.writeInt32BE(timeout, at);
      at = buf.writeInt32BE(topics.length, at);
      for (const { topic, partitions } of topics) {
        at = writeString(buf, at, topic);
        at = buf.writeInt32BE(partitions.length, at);
        for (const { partition, batch } of partitions) {
          at = buf.writeInt32BE(partition, at);
          at = buf.writeInt32BE(batch.length, at);
          buf.set(batch, at);
          at += batch.length;
        }
      }
      if (at !== size) throw new Error(`produce request encoder wrote ${at} of ${size} bytes`);
      return encoderOf(Encoder, buf);
    },
  });
}

/** A request with its header (api key and version, correlation id, client id) and size, as KafkaJS's `protocol/request.js`. */
export function requestFramer(Encoder: EncoderClass) {
  return async ({
    correlationId,
    clientId,
    request: { apiKey, apiVersion, encode },
  }: {
    correlationId: number;
    clientId: string | null;
    request: Pick<KafkaRequest, 'apiKey' | 'apiVersion' | 'encode'>;
  }): Promise<KafkaEncoder> => {
    const payload = (await encode()).buffer;
    const size = 2 + 2 + 4 + stringBytes(clientId) + payload.length;
    const buf = Buffer.allocUnsafe(4 + size);
    let at = buf.writeInt32BE(size, 0);
    at = buf.writeInt16BE(apiKey, at);
    at = buf.writeInt16BE(apiVersion, at);
    at = buf.writeInt32BE(correlationId, at);
    at = writeString(buf, at, clientId);
    buf.set(payload, at);
    return encoderOf(Encoder, buf);
  };
}

export type InstallOutcome = 'installed' | 'already' | 'skipped';

const FRAMER = Symbol('efv.requestFramer');
function installFraming(): { outcome: 'installed' | 'skipped'; reason?: string } {
  const mismatch = kafkajsMismatch('the request framing');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const path = require.resolve(REQUEST_MODULE);
  if (require.cache[path]?.exports?.[FRAMER]) return { outcome: 'installed' };
  if (require.cache[require.resolve(CONNECTION_MODULE)])
    return { outcome: 'skipped', reason: 'KafkaJS was loaded before its request framing could be replaced' };
  require(path);
  const framer = Object.assign(requestFramer(require(ENCODER_MODULE) as EncoderClass), { [FRAMER]: true });
  require.cache[path]!.exports = framer;
  return { outcome: 'installed' };
}

/** Whether KafkaJS frames requests with `requestFramer` (decided when this module loads). */
export const framingOutcome = installFraming();

let installedProduce: unknown;

/**
 * Makes KafkaJS producers of this process write Produce requests with `produceRequestFactory`,
 * over the record and batch encoders installed before it (call after those). Skipped when
 * the installed KafkaJS is not the version it matches, or a producer already loaded the
 * request module.
 */
export function installProduceRequest(): { outcome: InstallOutcome; reason?: string } {
  const mismatch = kafkajsMismatch('the produce request encoder');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const path = require.resolve(PRODUCE_V3_MODULE);
  if (installedProduce && require.cache[path]?.exports === installedProduce) return { outcome: 'already' };
  if (require.cache[path] || PRODUCE_VERSIONS_MODULES.some((m) => require.cache[require.resolve(m)]))
    return { outcome: 'skipped', reason: 'a KafkaJS producer already loaded its own produce request' };
  require(path);
  const Record = require(RECORD_MODULE) as RecordFn;
  const { RecordBatch } = require(BATCH_MODULE) as { RecordBatch: RecordBatchFn };
  installedProduce = produceRequestFactory(
    require(ENCODER_MODULE) as EncoderClass,
    Record,
    RecordBatch,
    require(LONG_MODULE) as { fromInt(v: number): unknown },
    Record === encodeRecord && writesMeasuredRecords(RecordBatch) ? (measureRecord as RecordFn) : undefined,
  );
  require.cache[path]!.exports = installedProduce;
  return { outcome: 'installed' };
}

/**
 * KafkaJS's own produce v3 request (over its own record, batch and checksum modules) and
 * request framing: fresh copies of their modules, for tests.
 */
export function kafkajsProduceModules(): {
  produce: (args: ProduceArgs) => KafkaRequest;
  frame: ReturnType<typeof requestFramer>;
} {
  const paths = [
    PRODUCE_V3_MODULE,
    REQUEST_MODULE,
    RECORD_MODULE,
    BATCH_MODULE,
    'kafkajs/src/protocol/recordBatch/crc32C/index.js',
  ].map((m) => require.resolve(m));
  const saved = paths.map((p) => require.cache[p]);
  for (const p of paths) delete require.cache[p];
  try {
    return { produce: require(paths[0]!), frame: require(paths[1]!) };
  } finally {
    paths.forEach((p, i) => {
      if (saved[i]) require.cache[p] = saved[i];
      else delete require.cache[p];
    });
  }
}
