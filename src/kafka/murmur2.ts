/**
 * Kafka's murmur2 key hash (what Java clients partition by), in 32-bit integer arithmetic.
 *
 * KafkaJS 2.2.4 computes it with its BigInt-backed `Long` and never truncates between steps,
 * so each step costs more than the one before: hashing a 600 KB key took 245 s of one
 * thread (the processor's event loop, when it assigned partitions to that key's dead letter).
 * Same result for every key (test/kafka/murmur2.test.ts compares them), in linear time.
 */
const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  // The tail bytes, as Java's switch falls through from case 3 to case 1.
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Java clients (and KafkaJS's DefaultPartitioner) choose for a keyed record. */
export function partitionForKey(key: Buffer | string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
