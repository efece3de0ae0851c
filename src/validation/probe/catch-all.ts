/**
 * Per-domain memory of whether a domain accepts any local part (catch-all), kept for a TTL.
 * A question in flight is shared: a second probe for the same domain waits for its answer
 * instead of asking again. Only definitive answers are kept; a 4xx or a failure is not.
 */
import type { SmtpReply } from './conversation.js';

const MAX_DOMAINS = 100_000;

export class CatchAllCache {
  private readonly entries = new Map<string, { value: boolean | Promise<boolean | null>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The cached answer for `domain`, if one is settled and fresh. */
  peek(domain: string): boolean | undefined {
    const hit = this.entries.get(domain);
    if (hit === undefined || hit.expiresAt <= this.now() || typeof hit.value !== 'boolean') return undefined;
    return hit.value;
  }

  /**
   * Whether `domain` accepts any local part: from the cache, from a question in flight on
   * another connection, or by `ask`ing (RCPT TO a random local part) on this one.
   */
  async isCatchAll(domain: string, ask: () => Promise<SmtpReply>): Promise<boolean> {
    const hit = this.entries.get(domain);
    if (hit !== undefined && hit.expiresAt > this.now()) {
      const v = await hit.value;
      if (v !== null) return v;
    }
    let settle!: (v: boolean | null) => void;
    const pending = new Promise<boolean | null>((r) => {
      settle = r;
    });
    if (this.entries.size >= MAX_DOMAINS) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(domain, { value: pending, expiresAt: this.now() + this.ttlMs });
    try {
      const probe = await ask();
      // Only a definitive answer is worth keeping; a 4xx says nothing yet.
      if (probe.code >= 400 && probe.code < 500) {
        this.entries.delete(domain);
        settle(null);
        return false;
      }
      const accepted = probe.code >= 200 && probe.code < 300;
      this.entries.set(domain, { value: accepted, expiresAt: this.now() + this.ttlMs });
      settle(accepted);
      return accepted;
    } catch (err) {
      this.entries.delete(domain);
      settle(null);
      throw err;
    }
  }
}
