/** A record the processor writes: a result, a retry or a dead letter, before it is batched. */
export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}
