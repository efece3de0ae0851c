import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installRequestQueueTimer } from '../../src/kafka/request-queue.js';

const require = createRequire(import.meta.url);

/** A KafkaJS RequestQueue's state, on its real prototype (its constructor wants a socket). */
function queue(state: { throttledUntil: number; pending: unknown[] }) {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: object };
  const q = Object.create(RequestQueue.prototype) as {
    throttledUntil: number;
    pending: unknown[];
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  };
  Object.assign(q, state, { throttleCheckTimeoutId: null, checkPendingRequests: vi.fn() });
  return q;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('KafkaJS request queue timer', () => {
  it('never sets a timer of negative delay (Node 24 warns of each), and still checks the queue', async () => {
    expect(installRequestQueueTimer().outcome).toBe('installed');
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return real(fn, ms);
    }) as typeof setTimeout);
    // Not throttled (throttledUntil long past), nothing pending: KafkaJS's own delay is negative.
    const idle = queue({ throttledUntil: -1, pending: [] });
    idle.scheduleCheckPendingRequests();
    // Throttled for 30 ms more: that delay is kept.
    const throttled = queue({ throttledUntil: Date.now() + 30, pending: [{}] });
    throttled.scheduleCheckPendingRequests();
    // Pending, not throttled: KafkaJS's 10 ms interval.
    const pending = queue({ throttledUntil: -1, pending: [{}] });
    pending.scheduleCheckPendingRequests();
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBeGreaterThan(0);
    expect(delays[1]).toBeLessThanOrEqual(30);
    expect(delays[2]).toBe(10);
    await new Promise((r) => real(r, 50));
    expect(idle.checkPendingRequests).toHaveBeenCalledTimes(1);
    expect(throttled.checkPendingRequests).toHaveBeenCalledTimes(1);
    expect(pending.checkPendingRequests).toHaveBeenCalledTimes(1);
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });
});
