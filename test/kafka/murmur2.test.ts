import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../src/kafka/murmur2.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  k: Buffer | string,
) => number;

describe('murmur2', () => {
  it('hashes every key as KafkaJS (and Java clients) do', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc.string(),
        ),
        (key) => {
          expect(murmur2(key)).toBe(kafkajsMurmur2(key));
        },
      ),
      { numRuns: 3000 },
    );
    // Known values of Kafka's Java Utils.murmur2 (its own test vectors).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
  });

  it('matches on long keys too, which KafkaJS hashes in quadratic time', () => {
    const key = Buffer.alloc(12_001, 0xa7);
    expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    // A 600 KB key (KafkaJS: minutes) is hashed here like any other.
    expect(partitionForKey(Buffer.alloc(600_000, 'K'), 12)).toBeGreaterThanOrEqual(0);
    expect(partitionForKey(Buffer.alloc(600_000, 'K'), 12)).toBeLessThan(12);
  });
});
