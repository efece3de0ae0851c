import { describe, expect, it } from 'vitest';
import { type FetchControl, PartitionTable } from '../../src/pipeline/partition-table.js';
import { createGlobalLimit, PartitionScheduler } from '../../src/pipeline/scheduler.js';

/** Records what the table asks of the consumer: no broker needed. */
function fetchLog(): FetchControl & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pause: (topic, partition) => calls.push(`pause ${topic}/${partition}`),
    resume: (topic, partition) => calls.push(`resume ${topic}/${partition}`),
  };
}

function table(window: number, fetch = fetchLog()) {
  const global = createGlobalLimit(8);
  const paused: boolean[] = [];
  const t = new PartitionTable(window, () => new PartitionScheduler('key', 4, global), fetch, {
    paused: (_t, _p, p) => paused.push(p),
  });
  return { t, fetch, paused };
}

/** Dispatches offsets [from, to) and marks them acknowledged. */
function dispatchDone(st: ReturnType<PartitionTable['get']>, from: number, to: number): void {
  for (let o = from; o < to; o++) st.tracker.dispatch(o);
  for (let o = from; o < to; o++) st.tracker.markDone(o);
}

describe('PartitionTable: the window', () => {
  it('is full at PARTITION_WINDOW uncommitted records and resumes at half of it, after a commit', () => {
    const { t, fetch, paused } = table(10);
    const st = t.get('in', 0);
    expect(t.resumeBelow).toBe(5);
    for (let o = 0; o < 9; o++) st.tracker.dispatch(o);
    expect(t.isFull(st)).toBe(false);
    st.tracker.dispatch(9);
    expect(t.isFull(st)).toBe(true);
    t.pause(st);
    t.pause(st); // once only
    expect(fetch.calls).toEqual(['pause in/0']);
    for (let o = 0; o < 10; o++) st.tracker.markDone(o);
    // Done is not enough: the window counts from the last commit.
    expect(t.isFull(st)).toBe(true);
    t.committed(st, 4);
    expect(st.paused).toBe(true);
    expect(fetch.calls).toEqual(['pause in/0']);
    t.committed(st, 5); // 5 uncommitted left: half the window
    expect(st.paused).toBe(false);
    expect(t.isFull(st)).toBe(false);
    expect(fetch.calls).toEqual(['pause in/0', 'resume in/0']);
    expect(paused).toEqual([true, false]);
  });

  it('wakes the batch loop waiting on the partition when it resumes', () => {
    const { t } = table(2);
    const st = t.get('in', 0);
    dispatchDone(st, 0, 2);
    t.pause(st);
    let woken = 0;
    st.onResume = () => woken++;
    t.committed(st, 2);
    expect(woken).toBe(1);
  });

  it('wants an early commit once half the window waits on a commit that is possible', () => {
    const { t } = table(10);
    const st = t.get('in', 0);
    for (let o = 0; o < 6; o++) st.tracker.dispatch(o);
    expect(t.wantsCommit(st)).toBe(false); // nothing acknowledged: nothing to commit
    st.tracker.markDone(0);
    expect(t.wantsCommit(st)).toBe(true);
    t.committed(st, 1);
    expect(t.wantsCommit(st)).toBe(false); // 5 uncommitted, nothing new to commit
  });

  it('resumes nothing once draining', () => {
    const { t, fetch } = table(2);
    const st = t.get('in', 0);
    dispatchDone(st, 0, 2);
    t.pause(st);
    t.stopResuming();
    t.committed(st, 2);
    expect(st.paused).toBe(true);
    expect(fetch.calls).toEqual(['pause in/0']);
  });

  it('revokes lost partitions on a new assignment and re-pauses the kept ones', () => {
    const { t, fetch } = table(1);
    const kept = t.get('in', 0);
    const lost = t.get('in', 1);
    kept.tracker.dispatch(0);
    t.pause(kept);
    t.reassign({ in: [0] });
    expect(lost.revoked).toBe(true);
    expect(lost.abort.signal.aborted).toBe(true);
    expect(t.find('in', 1)).toBeUndefined();
    expect([...t.owned()]).toEqual([kept]);
    expect(fetch.calls).toEqual(['pause in/0', 'pause in/0']);
  });

  it('holds a retry partition until its next record is due, once', async () => {
    const { t, fetch } = table(10);
    const st = t.get('in.retry', 0);
    t.holdUntilDue(st, 1);
    t.holdUntilDue(st, 1);
    expect(fetch.calls).toEqual(['pause in.retry/0']);
    await new Promise((r) => setTimeout(r, 20));
    expect(fetch.calls).toEqual(['pause in.retry/0', 'resume in.retry/0']);
    expect(st.dueTimer).toBeUndefined();
  });
});
