import { describe, expect, it } from 'vitest';
import { PartitionOffsetTracker } from '../../src/pipeline/offsets.js';

function dispatched(...offsets: number[]): PartitionOffsetTracker {
  const t = new PartitionOffsetTracker();
  for (const o of offsets) expect(t.dispatch(o)).toBe(true);
  return t;
}

describe('PartitionOffsetTracker', () => {
  it('commits nothing before the first completion', () => {
    const t = dispatched(10, 11, 12);
    expect(t.committable()).toBeUndefined();
    expect(t.inFlight()).toBe(3);
  });

  it('never commits past a result that is not acknowledged (out-of-order completions)', () => {
    const t = dispatched(10, 11, 12, 13);
    t.markDone(12);
    t.markDone(13);
    expect(t.committable()).toBeUndefined();
    t.markDone(11);
    expect(t.committable()).toBeUndefined();
    t.markDone(10);
    expect(t.committable()).toBe(14);
    expect(t.inFlight()).toBe(0);
  });

  it('advances to the lowest pending offset, not beyond', () => {
    const t = dispatched(0, 1, 2, 3, 4);
    t.markDone(0);
    t.markDone(1);
    t.markDone(3);
    expect(t.committable()).toBe(2);
    t.markCommitted(2);
    expect(t.committable()).toBeUndefined();
    t.markDone(2);
    expect(t.committable()).toBe(4);
    t.markDone(4);
    expect(t.committable()).toBe(5);
  });

  it('skips gaps of offsets never delivered (compaction) between dispatched ones', () => {
    const t = dispatched(5, 9, 20);
    t.markDone(9);
    t.markDone(20);
    expect(t.committable()).toBeUndefined();
    t.markDone(5);
    expect(t.committable()).toBe(21);
  });

  it('moves past trailing records the consumer saw but never got (transaction markers)', () => {
    const t = dispatched(7, 8);
    t.seenThrough(10);
    t.markDone(7);
    expect(t.committable()).toBe(8);
    t.markDone(8);
    expect(t.committable()).toBe(10);
  });

  it('refuses a refetched offset that is already in flight or done (rebalance kept the partition)', () => {
    const t = dispatched(0, 1, 2);
    t.markDone(0);
    expect(t.dispatch(1)).toBe(false);
    expect(t.dispatch(2)).toBe(false);
    expect(t.dispatch(3)).toBe(true);
    expect(t.inFlight()).toBe(3);
  });

  it('counts uncommitted offsets from the last commit, which bounds a crash replay', () => {
    const t = dispatched(0, 1, 2, 3);
    t.markDone(0);
    t.markDone(1);
    expect(t.inFlight()).toBe(2);
    expect(t.uncommitted()).toBe(4);
    t.markCommitted(t.committable()!);
    expect(t.uncommitted()).toBe(2);
  });

  it('ignores completions of offsets it does not track (a revoked generation)', () => {
    const t = dispatched(100, 101);
    t.markDone(5);
    t.markDone(500);
    expect(t.committable()).toBeUndefined();
    t.markDone(100);
    expect(t.committable()).toBe(101);
  });

  it('stays correct across compaction of a long history', () => {
    const t = new PartitionOffsetTracker();
    for (let round = 0; round < 5; round++) {
      const base = round * 3000;
      for (let i = 0; i < 3000; i++) t.dispatch(base + i);
      // Complete in reverse: nothing is committable until the first of the round is done.
      for (let i = 2999; i >= 1; i--) t.markDone(base + i);
      expect(t.committable()).toBeUndefined();
      expect(t.uncommitted()).toBe(3000);
      t.markDone(base);
      expect(t.committable()).toBe(base + 3000);
      t.markCommitted(base + 3000);
      expect(t.uncommitted()).toBe(0);
    }
  });
});
