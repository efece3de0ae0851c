import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// client.ts imports the grouping before KafkaJS, as every command does.
import '../../src/kafka/client.js';
import { groupingOutcome, groupMessagesPerPartition, kafkajsGrouping } from '../../src/kafka/producer-grouping.js';

const require = createRequire(import.meta.url);
const original = kafkajsGrouping();

describe('producer grouping', () => {
  it('groups as KafkaJS 2.2.4 does: same partitions, same order, same partitioner calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.string({ maxLength: 8 }), partition: fc.integer({ min: 0, max: 11 }) }), {
          maxLength: 300,
        }),
        fc.integer({ min: 0, max: 12 }),
        (messages, partitions) => {
          const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
          const calls: unknown[][] = [[], []];
          const args = (i: number) => ({
            topic: 't',
            partitionMetadata,
            messages,
            partitioner: (a: { message: { partition: number } }) => {
              calls[i]!.push(a.message);
              return a.message.partition;
            },
          });
          expect(groupMessagesPerPartition(args(0))).toEqual(original(args(1)));
          expect(calls[0]).toEqual(calls[1]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is what KafkaJS producers use, installed before KafkaJS loaded', () => {
    expect(groupingOutcome.outcome).toBe('installed');
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });
});
