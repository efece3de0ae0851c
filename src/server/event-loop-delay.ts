import { performance } from 'node:perf_hooks';

/**
 * The longest event-loop stall seen recently, for the liveness probe. A process whose loop
 * is blocked cannot answer a probe at all, which already fails it; this also catches a loop
 * that answers but keeps stalling for seconds (a runaway synchronous task, GC thrash).
 *
 * A timer ticks every `tickMs`; a tick that comes late measures a stall. A probe can be
 * served right after a stall, before the late tick ran (both wait for the same loop
 * iteration), so the time since the last tick counts too. Two windows are kept so a stall
 * is still reported right after a window rotates.
 */
export class EventLoopDelayMonitor {
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();
  private currentMaxMs = 0;
  private previousMaxMs = 0;
  private windowStart = this.lastTick;

  constructor(
    private readonly tickMs = 100,
    private readonly windowMs = 5000,
  ) {
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    this.currentMaxMs = Math.max(this.currentMaxMs, now - this.lastTick - this.tickMs);
    this.lastTick = now;
    if (now - this.windowStart >= this.windowMs) {
      this.previousMaxMs = this.currentMaxMs;
      this.currentMaxMs = 0;
      this.windowStart = now;
    }
  }

  /** The longest stall of the last one to two windows, including one still going on, in milliseconds. */
  recentMaxMs(): number {
    const ongoing = performance.now() - this.lastTick - this.tickMs;
    return Math.max(0, this.previousMaxMs, this.currentMaxMs, ongoing);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
