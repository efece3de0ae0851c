import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  acknowledgedPartitions,
  PartitionAssigner,
  partitionId,
} from '../../../src/pipeline/publish/batch-publisher.js';

describe('partition assignment', () => {
  it('puts a key where the Java-compatible murmur2 partitioner does, and spreads keyless records', () => {
    const assigner = new PartitionAssigner();
    assigner.setPartitionCounts(new Map([['results', 12]]));
    const reference = Partitioners.DefaultPartitioner();
    const meta = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    }));
    for (let i = 0; i < 500; i++) {
      const key = `user-${i}`;
      const expected = reference({ topic: 'results', partitionMetadata: meta, message: { key, value: null } });
      expect(assigner.partitionOf({ topic: 'results', key, value: null, headers: {} })).toBe(expected);
    }
    const keyless = new Set(
      Array.from({ length: 24 }, () => assigner.partitionOf({ topic: 'results', key: null, value: null, headers: {} })),
    );
    expect(keyless.size).toBe(12);
    expect(() => assigner.partitionOf({ topic: 'unknown', key: 'k', value: null, headers: {} })).toThrow(/unknown/);
  });

  it('counts a partition as acknowledged only when the broker answered it without an error', () => {
    const ack = (topicName: string, partition: number, errorCode = 0) => ({
      topicName,
      partition,
      errorCode,
      baseOffset: '0',
      logAppendTime: '-1',
      logStartOffset: '0',
    });
    const acked = acknowledgedPartitions([ack('valid', 0), ack('valid', 3), ack('invalid', 1, 6)]);
    expect(acked.has(partitionId('valid', 0))).toBe(true);
    expect(acked.has(partitionId('valid', 3))).toBe(true);
    // A partition moved to a broker that had already answered never appears: it is resent.
    expect(acked.has(partitionId('valid', 1))).toBe(false);
    expect(acked.has(partitionId('invalid', 1))).toBe(false);
  });
});
