/**
 * KafkaJS 2.2.4's request queue (`src/network/requestQueue`) schedules its check of pending
 * requests with `setTimeout(check, throttledUntil - Date.now())` also when no broker throttles
 * it: a negative delay, which Node 24 reports as a TimeoutNegativeWarning on stderr of every
 * program that connects. Node runs such a timer after 1 ms, as a delay of 0 does; the same
 * method with the delay clamped at 0 keeps the behaviour and drops the warning. Patched on
 * the class's prototype, so it holds whenever KafkaJS was loaded.
 */
import { createRequire } from 'node:module';
import { kafkajsMismatch } from './kafkajs-module.js';

const require = createRequire(import.meta.url);

const REQUEST_QUEUE_MODULE = 'kafkajs/src/network/requestQueue/index.js';
/** KafkaJS's CHECK_PENDING_REQUESTS_INTERVAL (ms). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

interface RequestQueueState {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    Math.max(0, scheduleAt),
  );
}

export function installRequestQueueTimer(): { outcome: 'installed' | 'skipped'; reason?: string } {
  const mismatch = kafkajsMismatch('the timer fix');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const RequestQueue = require(REQUEST_QUEUE_MODULE) as { prototype: Record<string, unknown> };
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return { outcome: 'installed' };
}
