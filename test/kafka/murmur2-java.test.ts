import { createRequire } from 'node:module';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../src/kafka/murmur2.js';

// KafkaJS's own implementation (64-bit Longs) is the reference: its default partitioner is
// what the Java client does, and what our results were partitioned by so far.
const require = createRequire(import.meta.url);
const reference = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

describe('murmur2', () => {
  it('equals KafkaJS (and so the Java client) on keys of every length and byte value', () => {
    let seed = 7;
    const byte = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed >>> 8;
    };
    for (let n = 0; n < 2000; n++) {
      const key = Buffer.alloc(n % 67);
      for (let i = 0; i < key.length; i++) key[i] = byte() & 0xff;
      expect(murmur2(key), key.toString('hex')).toBe(reference(key));
    }
    // Known values of the Java client's Utils.murmur2 (UtilsTest.testMurmur2).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  it('picks the partition KafkaJS default partitioner picks', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [],
      isr: [],
      offlineReplicas: [],
    }));
    for (const key of ['user-1', 'user-42', 'ü-ñ-中文', 'k'.repeat(301)]) {
      for (const k of [key, Buffer.from(key)]) {
        expect(partitionForKey(k, 12)).toBe(
          partitioner({ topic: 't', partitionMetadata, message: { key: k, value: null } }),
        );
      }
    }
  });
});
