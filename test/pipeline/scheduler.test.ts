import { describe, expect, it } from 'vitest';
import { createGlobalLimit, PartitionScheduler } from '../../src/pipeline/scheduler.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PartitionScheduler', () => {
  it('runs tasks of one partition concurrently, never above its limit', async () => {
    const s = new PartitionScheduler('unordered', 4, createGlobalLimit(100));
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.schedule(null, async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(4);
    expect(s.peakActive()).toBe(4);
  });

  it('respects the global cap across partitions', async () => {
    const global = createGlobalLimit(3);
    const a = new PartitionScheduler('unordered', 10, global);
    const b = new PartitionScheduler('unordered', 10, global);
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await tick(5);
      running--;
    };
    await Promise.all([
      ...Array.from({ length: 10 }, () => a.schedule(null, task)),
      ...Array.from({ length: 10 }, () => b.schedule(null, task)),
    ]);
    expect(peak).toBe(3);
  });

  it('in key mode runs same-key tasks one after another in order, other keys concurrently', async () => {
    const s = new PartitionScheduler('key', 8, createGlobalLimit(100));
    const order: string[] = [];
    const activeByKey = new Map<string, number>();
    let overlapSameKey = false;
    let running = 0;
    let peak = 0;
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const key = `k${i % 3}`;
      jobs.push(
        s.schedule(key, async () => {
          const n = (activeByKey.get(key) ?? 0) + 1;
          activeByKey.set(key, n);
          if (n > 1) overlapSameKey = true;
          running++;
          peak = Math.max(peak, running);
          // Later tasks finish faster: without ordering they would overtake.
          await tick(10 - (i % 10));
          order.push(`${key}:${i}`);
          running--;
          activeByKey.set(key, n - 1);
        }),
      );
    }
    await Promise.all(jobs);
    expect(overlapSameKey).toBe(false);
    expect(peak).toBeGreaterThan(1);
    for (const key of ['k0', 'k1', 'k2']) {
      const seq = order.filter((o) => o.startsWith(`${key}:`)).map((o) => Number(o.split(':')[1]));
      expect(seq).toEqual([...seq].sort((x, y) => x - y));
    }
  });

  it('in key mode a failing task does not block the next one of its key', async () => {
    const s = new PartitionScheduler('key', 2, createGlobalLimit(10));
    const first = s.schedule('k', async () => {
      throw new Error('boom');
    });
    let ran = false;
    const second = s.schedule('k', async () => {
      ran = true;
    });
    await expect(first).rejects.toThrow('boom');
    await second;
    expect(ran).toBe(true);
  });

  it('in partition mode runs one task at a time whatever the limit', async () => {
    const s = new PartitionScheduler('partition', 50, createGlobalLimit(100));
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.schedule(`k${i}`, async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(2);
          running--;
        }),
      ),
    );
    expect(peak).toBe(1);
  });

  it('lets a synchronous task run now only when its ordering allows', async () => {
    const global = createGlobalLimit(100);
    const byKey = new PartitionScheduler('key', 4, global);
    expect(byKey.idle()).toBe(true);
    let release!: () => void;
    const held = byKey.schedule('k1', () => new Promise<void>((r) => (release = r)));
    expect(byKey.idle()).toBe(false); // a key in flight: ask canRunNow with the key
    expect(byKey.canRunNow('k1')).toBe(false); // k1 still in flight: its successor must wait
    expect(byKey.canRunNow('k2')).toBe(true);
    expect(byKey.canRunNow(null)).toBe(true);
    await tick(1);
    release();
    await held;
    await tick(1);
    expect(byKey.canRunNow('k1')).toBe(true);
    expect(byKey.idle()).toBe(true);

    const strict = new PartitionScheduler('partition', 1, global);
    expect(strict.canRunNow('a')).toBe(true);
    let done!: () => void;
    const running = strict.schedule('a', () => new Promise<void>((r) => (done = r)));
    await tick(1);
    expect(strict.idle()).toBe(false);
    expect(strict.canRunNow('b')).toBe(false); // one at a time, in offset order
    done();
    await running;
    await tick(1);
    expect(strict.canRunNow('b')).toBe(true);

    expect(new PartitionScheduler('unordered', 1, global).canRunNow('x')).toBe(true);
  });
});
