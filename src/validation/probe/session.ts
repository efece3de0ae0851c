/** A pooled SMTP connection as the prober keeps it between probes. */
import type { SmtpConversation } from './conversation.js';
import type { Pooled } from './manners.js';

/** A pooled connection that was closed before it answered anything: the probe is tried again. */
export class StaleConnection extends Error {}

/** One open connection, pinned to one address, with its EHLO done. */
export class Session implements Pooled {
  rcpts = 0;
  /** A probe ended on it without RSET yet: the next one sends RSET first (pipelined). */
  dirty = false;
  /** Probes whose commands are out on this connection and whose replies are not all in. */
  inFlight = 0;
  /**
   * The hand-off of a pipelined probe that waits for the probe before it to be answered:
   * at most two probes are in flight on one connection.
   */
  handOffLater: (() => void) | null = null;
  constructor(
    readonly key: string,
    readonly smtp: SmtpConversation,
    readonly supportsUtf8: boolean,
    /** The server offers PIPELINING (RFC 2920): RSET, MAIL and RCPT go in one round trip. */
    readonly pipelining: boolean,
  ) {}

  close(): Promise<void> {
    // Polite, but a server that does not close after QUIT is closed on after a grace period.
    return this.smtp.quit();
  }
}
