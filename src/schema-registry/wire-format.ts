/**
 * Confluent's wire format: one magic byte 0, the schema id as a big-endian 32-bit integer,
 * then the Avro binary body. Every Confluent-compatible serializer writes it.
 */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** The schema id and body of a framed value, or undefined when it is not framed. */
export function unframe(value: Buffer): { schemaId: number; body: Buffer } | undefined {
  if (value.length < HEADER_BYTES || value[0] !== MAGIC_BYTE) return undefined;
  return { schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_BYTES) };
}

/** The subject a topic's value schema is registered under (TopicNameStrategy, the default). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
