/**
 * A circuit breaker: `closed` lets calls through; `failureThreshold` consecutive failures
 * open it, and while `open` calls fail fast; after `cooldownMs` it turns `half_open` and
 * lets exactly one probe through, whose outcome closes or re-opens it.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  /** Called on every state change (observability hooks metrics here). */
  onStateChange?: (state: BreakerState, previous: BreakerState) => void;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) this.transition('half_open');
    return this.current;
  }

  /**
   * Whether a call may start now. In half-open only one probe is admitted; the caller that
   * got `true` must report `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probeInFlight = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.probeInFlight = false;
    this.failures++;
    if (this.current === 'half_open' || (this.current === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  /** A call that ended without saying anything about the provider's health (e.g. aborted). */
  release(): void {
    this.probeInFlight = false;
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.options.onStateChange?.(next, previous);
  }
}
