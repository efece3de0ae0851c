/**
 * A token bucket shared by every caller of one provider client (so by every partition):
 * `ratePerSecond` sustained, `burst` at once. Implemented as GCRA (virtual scheduling):
 * each caller reserves the next free slot in arrival order, so waiters are served FIFO
 * and no timer runs while the bucket is idle.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** Theoretical arrival time of the next token. */
  private tat = 0;

  constructor(
    ratePerSecond: number,
    burst: number,
    private readonly now: () => number = Date.now,
  ) {
    if (ratePerSecond <= 0 || burst < 1) throw new Error('rate must be > 0 and burst ≥ 1');
    this.intervalMs = 1000 / ratePerSecond;
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** Milliseconds the caller must wait for its token; the token is reserved either way. */
  reserve(): number {
    const now = this.now();
    const tat = Math.max(this.tat, now);
    const wait = Math.max(0, tat - this.toleranceMs - now);
    this.tat = tat + this.intervalMs;
    return wait;
  }

  /** Waits for a token. Rejects with the signal's reason if aborted while waiting. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return;
    await sleep(wait, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
