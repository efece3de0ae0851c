/**
 * Span names and attribute keys, in one place: the OpenTelemetry messaging semantic
 * conventions (span name `{operation} {destination}`, operation types `send` and `process`)
 * plus our own `efv.*` keys.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const MESSAGING_SYSTEM = 'messaging.system';
export const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
export const MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const MESSAGING_KAFKA_OFFSET = 'messaging.kafka.offset';
export const MESSAGING_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';

export const KAFKA = 'kafka';
export const SEND = 'send';
export const PROCESS = 'process';

/** A producer span: `send <topic>`. */
export const sendSpanName = (topic: string) => `${SEND} ${topic}`;
/** A consumer span for one record: `process <topic>`. */
export const processSpanName = (topic: string) => `${PROCESS} ${topic}`;

/** Attributes every producer span starts with. */
export function sendAttributes(topic: string): Record<string, string> {
  return {
    [MESSAGING_SYSTEM]: KAFKA,
    [MESSAGING_OPERATION_TYPE]: SEND,
    [MESSAGING_OPERATION_NAME]: SEND,
    [MESSAGING_DESTINATION_NAME]: topic,
  };
}

/** Attributes of the span that processes one consumed record. */
export function processAttributes(
  topic: string,
  partition: number,
  offset: number,
  groupId: string,
): Record<string, string | number> {
  return {
    [MESSAGING_SYSTEM]: KAFKA,
    [MESSAGING_OPERATION_TYPE]: PROCESS,
    [MESSAGING_OPERATION_NAME]: PROCESS,
    [MESSAGING_DESTINATION_NAME]: topic,
    [MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
    [MESSAGING_KAFKA_OFFSET]: offset,
    [MESSAGING_CONSUMER_GROUP_NAME]: groupId,
  };
}

/** Our own attributes on a process span. */
export const EFV_VERDICT = 'efv.verdict';
export const EFV_REASON = 'efv.reason';
export const EFV_ERROR_CODE = 'efv.error.code';
export const EFV_DESTINATION = 'efv.destination';
/** The partition was revoked while the record was in flight: its new owner processes it. */
export const EFV_ABANDONED = 'efv.abandoned';

/**
 * The record key (a user id) as it may appear on a span: an HMAC-SHA256 with a deployment
 * secret (TRACE_KEY_SECRET), cut to 16 hex digits, so the spans of one user's events can be
 * found together while the id cannot be recovered by hashing guessed ids. Without a secret
 * each process draws its own: keys then correlate within one process only. Applied whatever
 * LOG_ADDRESSES says: traces are exported, logs stay local.
 */
export class MessageKeyHasher {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  hash(key: Buffer | string): string {
    return `hmac-sha256:${createHmac('sha256', this.secret).update(key).digest('hex').slice(0, 16)}`;
  }
}
