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

describe('PartitionTable: the global window (GLOBAL_WINDOW)', () => {
  function shared(partition: number, global: number, fetch = fetchLog()) {
    const limit = createGlobalLimit(8);
    const t = new PartitionTable({ partition, global }, () => new PartitionScheduler('key', 4, limit), fetch);
    return { t, fetch };
  }
  /** Dispatches the partition's next offsets while it has room; returns how many. */
  function fill(t: PartitionTable, st: ReturnType<PartitionTable['get']>, next: { offset: number }): number {
    let n = 0;
    while (!t.isFull(st)) {
      st.tracker.dispatch(next.offset++);
      n++;
    }
    return n;
  }
  const held = (t: PartitionTable) => [...t.owned()].reduce((n, st) => n + st.tracker.uncommitted(), 0);

  it('shares the budget fairly: each partition with records gets GLOBAL_WINDOW / partitions', () => {
    const { t } = shared(500, 1000);
    const parts = Array.from({ length: 8 }, (_, p) => t.get('in', p));
    expect(t.share).toBe(125);
    const next = parts.map(() => ({ offset: 0 }));
    expect(parts.map((st, i) => fill(t, st, next[i]!))).toEqual(Array(8).fill(125));
    expect(held(t)).toBe(1000);
    // Committing one partition frees its own share again, not another's.
    for (let o = 0; o < 125; o++) parts[0]!.tracker.markDone(o);
    t.committed(parts[0]!, 100);
    expect(t.isFull(parts[1]!)).toBe(true);
    expect(fill(t, parts[0]!, next[0]!)).toBe(100);
    expect(held(t)).toBe(1000);
  });

  it('a partition alone may use its whole PARTITION_WINDOW; one that joins waits until the first is down to its share', () => {
    const { t, fetch } = shared(10, 12);
    const a = t.get('in', 0);
    const nextA = { offset: 0 };
    expect(fill(t, a, nextA)).toBe(10);
    const b = t.get('in', 1);
    expect(t.share).toBe(6);
    // Budget overdrawn (10 + 6 reserved > 12): B waits, paused, though it holds nothing.
    expect(t.isFull(b)).toBe(true);
    t.pause(b);
    for (let o = 0; o < 10; o++) a.tracker.markDone(o);
    t.committed(a, 3); // A holds 7: still over
    expect(b.paused).toBe(true);
    t.committed(a, 4); // A holds 6, its share: B may go on, woken by A's commit
    expect(b.paused).toBe(false);
    expect(fetch.calls).toEqual(['pause in/1', 'resume in/1']);
    expect(fill(t, b, { offset: 0 })).toBe(6);
    expect(held(t)).toBe(12);
  });

  it('never holds more than GLOBAL_WINDOW, whatever the partitions, joins, commits and revocations', () => {
    const { t } = shared(50, 100);
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const next = new Map<number, { offset: number }>();
    let peak = 0;
    let assignment = Array.from({ length: 24 }, (_, p) => p);
    for (let step = 0; step < 5000; step++) {
      const p = assignment[rand(assignment.length)]!;
      const st = t.get('in', p);
      const n = next.get(p) ?? { offset: 0 };
      next.set(p, n);
      const r = rand(10);
      if (r < 6) {
        for (let k = rand(30); k >= 0 && !t.isFull(st); k--) st.tracker.dispatch(n.offset++);
      } else if (r < 9) {
        const from = st.tracker.lastCommitted();
        for (let o = Math.max(0, from); o < n.offset; o++) st.tracker.markDone(o);
        const to = st.tracker.committable();
        if (to !== undefined) t.committed(st, Math.min(to, from + 1 + rand(20)));
      } else if (rand(50) === 0) {
        assignment = assignment.filter((x) => x !== p);
        if (assignment.length < 4) assignment = Array.from({ length: 24 }, (_, q) => q);
        t.reassign({ in: assignment });
        next.delete(p);
      }
      peak = Math.max(peak, held(t));
      expect(held(t)).toBeLessThanOrEqual(100);
    }
    expect(peak).toBeGreaterThan(90); // the budget is used, not only respected
  });

  it('gives one record to each partition when they outnumber GLOBAL_WINDOW', () => {
    const { t } = shared(10, 2);
    const parts = [0, 1, 2].map((p) => t.get('in', p));
    expect(parts.map((st) => fill(t, st, { offset: 0 }))).toEqual([1, 1, 1]);
  });

  it('without a global window, each partition has its own PARTITION_WINDOW', () => {
    const { t } = table(7);
    const parts = [0, 1, 2].map((p) => t.get('in', p));
    expect(parts.map((st) => fill(t, st, { offset: 0 }))).toEqual([7, 7, 7]);
  });
});
