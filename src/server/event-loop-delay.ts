import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The longest event-loop stall seen recently, for the liveness probe. A process whose loop
 * is blocked cannot answer a probe at all, which already fails it; this also catches a loop
 * that answers but keeps stalling for seconds (a runaway synchronous task, GC thrash).
 *
 * Two windows are kept so a stall is still reported right after a window rotates: the
 * reported delay is the larger of the current and the previous window's maximum.
 */
export class EventLoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private previousMaxMs = 0;

  constructor(windowMs = 5000) {
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previousMaxMs = this.currentMaxMs();
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  /** The longest stall of the last one to two windows, in milliseconds. */
  recentMaxMs(): number {
    return Math.max(this.previousMaxMs, this.currentMaxMs());
  }

  private currentMaxMs(): number {
    // The histogram is in nanoseconds, and counts the sampling interval itself.
    return this.histogram.count > 0 ? Math.max(0, this.histogram.max / 1e6 - 20) : 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
