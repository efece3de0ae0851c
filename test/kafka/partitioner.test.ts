import fc from 'fast-check';
import { type PartitionerArgs, Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { producerConfig } from '../../src/kafka/clients.js';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.js';

const metadata = (n: number, down: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: down.includes(i) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('producer partitioner', () => {
  it('is what every producer is configured with', () => {
    expect(producerConfig().createPartitioner).toBe(javaCompatiblePartitioner);
  });

  it('chooses the partition KafkaJS DefaultPartitioner (and Java) chooses for any key', () => {
    const ours = javaCompatiblePartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
        ),
        fc.integer({ min: 1, max: 200 }),
        (key, n) => {
          const args: PartitionerArgs = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
          expect(ours(args)).toBe(kafkajs(args));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns a partition the caller set without reading the partition list', () => {
    const untouchable = new Proxy(metadata(12), {
      get(target, prop) {
        if (prop === 'filter') throw new Error('the partition list was filtered');
        return Reflect.get(target, prop);
      },
    });
    const args: PartitionerArgs = {
      topic: 't',
      partitionMetadata: untouchable,
      message: { key: 'k', value: null, partition: 7 },
    };
    expect(javaCompatiblePartitioner()(args)).toBe(7);
    // KafkaJS's filters the list for every record, even one with its partition set.
    expect(() => Partitioners.DefaultPartitioner()(args)).toThrow('filtered');
  });

  it('spreads keyless records round robin over the partitions that have a leader', () => {
    const partition = javaCompatiblePartitioner();
    const seen = Array.from({ length: 8 }, () =>
      partition({ topic: 't', partitionMetadata: metadata(4, [1]), message: { key: null, value: 'v' } }),
    );
    expect(new Set(seen)).toEqual(new Set([0, 2, 3]));
    for (let i = 3; i < seen.length; i++) expect(seen[i]).toBe(seen[i - 3]);
    const none = metadata(3, [0, 1, 2]);
    const p = partition({ topic: 'u', partitionMetadata: none, message: { key: null, value: 'v' } });
    expect([0, 1, 2]).toContain(p);
  });
});
