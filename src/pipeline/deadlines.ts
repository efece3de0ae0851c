import { ProcessorError } from '../errors.js';

/**
 * The deadline of every validation in flight. One insertion-ordered map swept every
 * `sweepMs`, not a timer per record: a timer and an AbortController per record cost ~20 µs
 * on the hot path. All entries share one timeout, so the map is in deadline order and a
 * sweep stops at the first entry not yet due. A validation past its deadline is answered at
 * once, and `race` aborts the signal it was given, so the validation's I/O (queued and
 * in-flight provider requests, DNS, SMTP) stops: no request starts after its event was
 * answered.
 */
/** The reason a validation's signal is aborted with when its deadline passes. */
export const DEADLINE_PASSED = new ProcessorError('VALIDATION_UNKNOWN', 'validation deadline passed');

export class Deadlines {
  /** Pending races, keyed by the function that ends them with `null`. */
  private readonly pending = new Map<(v: null) => void, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * `work`'s value, or null if the deadline passed first (seen by a sweep); then `abort` is
   * aborted with DEADLINE_PASSED. A rejection of `work` passes through.
   */
  async race<T>(work: Promise<T>, abort?: AbortController): Promise<T | null> {
    let expire!: (v: null) => void;
    const expired = new Promise<null>((resolve) => {
      expire = abort
        ? (v) => {
            resolve(v);
            abort.abort(DEADLINE_PASSED);
          }
        : resolve;
    });
    this.pending.set(expire, this.now() + this.timeoutMs);
    try {
      return await Promise.race([work, expired]);
    } finally {
      this.pending.delete(expire);
    }
  }

  /** Ends every race past its deadline. */
  sweep(): void {
    const now = this.now();
    for (const [expire, at] of this.pending) {
      if (at > now) break;
      this.pending.delete(expire);
      expire(null);
    }
  }

  /** Races still waiting. */
  size(): number {
    return this.pending.size;
  }

  /** Sweeps every `intervalMs`: the timeout's resolution. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
