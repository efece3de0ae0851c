import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { committable, OffsetCommitter } from '../../src/pipeline/commits.js';
import { PartitionTable, partitionLag } from '../../src/pipeline/partition-table.js';
import type { ConsumedOffset } from '../../src/pipeline/publish/transactional.js';
import { createGlobalLimit, PartitionScheduler } from '../../src/pipeline/scheduler.js';

const log = pino({ level: 'silent' });

function newTable(window = 100) {
  const global = createGlobalLimit(8);
  return new PartitionTable(window, () => new PartitionScheduler('key', 4, global), {
    pause: () => {},
    resume: () => {},
  });
}

/** A commit request the test settles by hand. */
function manualSend() {
  const sent: ConsumedOffset[][] = [];
  const settle: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const send = (offsets: ConsumedOffset[]) =>
    new Promise<void>((resolve, reject) => {
      sent.push(offsets);
      settle.push({ resolve, reject });
    });
  return { sent, settle, send };
}

describe('committable()', () => {
  it('collects each owned partition whose contiguous acknowledged offset moved, nothing else', () => {
    const t = newTable();
    const a = t.get('in', 0);
    const b = t.get('in', 1);
    const c = t.get('in', 2);
    for (const o of [0, 1, 2]) a.tracker.dispatch(o);
    a.tracker.markDone(0);
    a.tracker.markDone(2); // 1 is not acknowledged: 2 cannot be committed past it
    b.tracker.dispatch(5); // dispatched, not acknowledged
    c.tracker.dispatch(7);
    c.tracker.markDone(7);
    t.reassign({ in: [0, 1] }); // c is lost
    expect(committable(t).map(({ st, offset }) => [st.partition, offset])).toEqual([[0, 1]]);
    a.tracker.markCommitted(1);
    expect(committable(t)).toEqual([]);
  });
});

describe('OffsetCommitter', () => {
  it('commits one at a time, serves a request made meanwhile right after, and retries a failed commit', async () => {
    const t = newTable();
    const st = t.get('in', 0);
    const { sent, settle, send } = manualSend();
    const committed: number[] = [];
    const c = new OffsetCommitter(t, send, () => true, { committed: (_t, _p, o) => committed.push(o) }, log);
    st.tracker.dispatch(0);
    st.tracker.markDone(0);
    const first = c.commit();
    st.tracker.dispatch(1);
    st.tracker.markDone(1);
    void c.commit(); // while the first is in flight
    expect(sent).toEqual([[{ topic: 'in', partition: 0, offset: '1' }]]);
    settle[0]!.resolve();
    await first;
    await Promise.resolve();
    expect(committed).toEqual([1]);
    expect(sent[1]).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    settle[1]!.reject(new Error('REBALANCE_IN_PROGRESS'));
    await new Promise((r) => setImmediate(r));
    expect(st.tracker.lastCommitted()).toBe(1); // a failed commit moves nothing
    void c.commit();
    expect(sent[2]).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    settle[2]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(committed).toEqual([1, 2]);
  });

  it('commitSoon: partitions acknowledged in one go share one commit, not one each', async () => {
    const t = newTable();
    const parts = [0, 1, 2].map((p) => t.get('in', p));
    const { sent, send } = manualSend();
    const c = new OffsetCommitter(t, send, () => true, {}, log);
    // One produce acknowledgement settling records of three partitions, each asking for a commit.
    for (const st of parts) {
      st.tracker.dispatch(0);
      st.tracker.markDone(0);
      c.commitSoon();
    }
    expect(sent).toEqual([]); // not before the acknowledgement is fully applied
    await Promise.resolve();
    expect(sent).toEqual([[0, 1, 2].map((partition) => ({ topic: 'in', partition, offset: '1' }))]);
  });

  it('does not commit while the group is not settled, but the final commit does, after the one in flight', async () => {
    const t = newTable();
    const st = t.get('in', 0);
    const { sent, settle, send } = manualSend();
    let settled = true;
    const c = new OffsetCommitter(t, send, () => settled, {}, log);
    st.tracker.dispatch(0);
    st.tracker.markDone(0);
    void c.commit();
    st.tracker.dispatch(1);
    st.tracker.markDone(1);
    settled = false;
    const final = c.commitFinal();
    await Promise.resolve();
    expect(sent).toHaveLength(1); // waits for the commit in flight
    settle[0]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(sent[1]).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    settle[1]!.resolve();
    await final;
    expect(st.tracker.lastCommitted()).toBe(2);
    st.tracker.dispatch(2);
    st.tracker.markDone(2);
    await c.commit(); // unsettled group: nothing sent
    expect(sent).toHaveLength(2);
  });

  it('resumes a partition paused on its window once the commit drained it', async () => {
    const resumed: number[] = [];
    const global = createGlobalLimit(8);
    const t = new PartitionTable(4, () => new PartitionScheduler('key', 4, global), {
      pause: () => {},
      resume: (_t, p) => resumed.push(p),
    });
    const st = t.get('in', 3);
    for (let o = 0; o < 4; o++) st.tracker.dispatch(o);
    t.pause(st);
    for (let o = 0; o < 4; o++) st.tracker.markDone(o);
    const c = new OffsetCommitter(
      t,
      async () => {},
      () => true,
      {},
      log,
    );
    await c.commit();
    expect(resumed).toEqual([3]);
    expect(st.paused).toBe(false);
  });

  it('reports the lag from the committed offset, so records waiting in a paused window count', async () => {
    const t = newTable(4);
    const st = t.get('in', 0);
    expect(partitionLag(st)).toBeUndefined(); // nothing fetched yet
    // A fetch up to offset 999 whose first 4 records fill the window: the rest wait.
    st.highWatermark = 1000;
    for (let o = 0; o < 4; o++) st.tracker.dispatch(o);
    t.pause(st);
    expect(partitionLag(st)).toBe(1000);
    const lags: [number, number][] = [];
    const c = new OffsetCommitter(
      t,
      async () => {},
      () => true,
      { lag: (_t: string, p: number, lag: number) => lags.push([p, lag]) },
      log,
    );
    for (let o = 0; o < 3; o++) st.tracker.markDone(o);
    await c.commit();
    expect(lags).toEqual([[0, 997]]);
    expect(partitionLag(st)).toBe(997);
  });
});
