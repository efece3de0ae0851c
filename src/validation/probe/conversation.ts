/**
 * One SMTP connection's reply reader, bounded in every dimension a hostile server could
 * stretch: a reply line is at most 512 octets with its CRLF (RFC 5321 §4.5.3.1.5), a
 * (multi-line) reply at most `maxReplyBytes`, everything received during one probe at most
 * `maxProbeBytes`, each wait at most `idleMs`, and the whole probe ends when its signal
 * fires (the conversation deadline, or the event's own deadline). Past a limit the socket
 * is destroyed at once and the pending read fails with a `ProbeFailure` naming the limit.
 *
 * Bytes are scanned once as they arrive; only the current line (≤ 512 octets) is kept
 * between chunks, so memory stays bounded whatever the server sends.
 *
 * Several probes may be pipelined on one connection (RFC 2920): each has a `ProbeChannel`
 * with its own deadline and byte count, and replies go to the reads in the order their
 * commands were written.
 */
import type { Duplex } from 'node:stream';

export const MAX_REPLY_LINE_OCTETS = 512;

export type FailureKind =
  | 'connect'
  | 'closed'
  | 'timeout'
  | 'deadline'
  | 'aborted'
  | 'line_too_long'
  | 'reply_too_large'
  | 'conversation_too_large'
  | 'proxy';

export class ProbeFailure extends Error {
  constructor(readonly kind: FailureKind) {
    super(`smtp ${kind}`);
    this.name = 'ProbeFailure';
  }
}

export interface SmtpReply {
  code: number;
  enhanced: string | null;
  /** The reply's text, lines joined by a space, without the enhanced status code. Not yet cleaned. */
  text: string;
}

export interface ConversationLimits {
  maxReplyBytes: number;
  maxProbeBytes: number;
  idleMs: number;
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})\b/;
/** Lines read in one turn of the event loop at most. */
export const LINES_PER_TURN = 64;
/** Replies kept that arrived unasked (the greeting before it is read; a 421 before closing). */
const MAX_UNASKED_REPLIES = 4;
const LF = 0x0a;

/**
 * One probe's use of a connection: its deadline, the bytes received for it, and its reads.
 * Pipelined probes share a connection: the next probe's commands may go out before this
 * one's replies are in, and replies are handed out in the order the commands were sent.
 */
export class ProbeChannel {
  /** Bytes received for this probe's commands so far. */
  received = 0;
  private readonly onAbort = () => this.conversation.fail(new ProbeFailure(this.kind()), this);

  constructor(
    private readonly conversation: SmtpConversation,
    readonly signal: AbortSignal,
    readonly kind: () => FailureKind,
  ) {
    if (signal.aborted) conversation.fail(new ProbeFailure(kind()), this);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next reply (the greeting, or one that arrived unasked). */
  read(): Promise<SmtpReply> {
    return this.conversation.read(this);
  }

  command(line: string): Promise<SmtpReply> {
    return this.conversation.send([line], this)[0]!;
  }

  /**
   * Sends several commands at once (PIPELINING); their replies, in order. The reads are
   * queued when the commands are written, so a probe that writes later reads later.
   */
  commands(lines: string[]): Promise<SmtpReply[]> {
    return Promise.all(this.conversation.send(lines, this));
  }

  /** The probe is over: the connection may serve others, or rest in a pool. */
  end(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

interface Waiter {
  channel: ProbeChannel;
  settle: (r: SmtpReply | ProbeFailure) => void;
}

export class SmtpConversation {
  /** The part of the current line received in earlier chunks (≤ 512 octets). */
  private readonly partial = Buffer.allocUnsafe(MAX_REPLY_LINE_OCTETS);
  private partialBytes = 0;
  /** Chunks received and not yet read through; `at` is where reading goes on in the first. */
  private readonly backlog: Buffer[] = [];
  private at = 0;
  /** Reading goes on in a later turn of the event loop (the socket is paused meanwhile). */
  private scheduled = false;
  /** Lines read since reading last gave way to the event loop. */
  private linesRead = 0;
  /** The socket closed while received bytes were still to be read. */
  private gone = false;
  /** Lines of the reply being received. */
  private lines: string[] = [];
  private replyBytes = 0;
  /** Bytes that arrived while no reply was awaited (bounded like a probe's). */
  private unasked = 0;
  private readonly replies: SmtpReply[] = [];
  /** Reads in the order their commands were sent. */
  private readonly waiters: Waiter[] = [];
  private failure: ProbeFailure | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Settles once the socket has closed after `quit`. */
  private closed: Promise<void> | null = null;
  private quitting: (() => void) | null = null;

  constructor(
    readonly socket: Duplex,
    private readonly limits: ConversationLimits,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.onClosed());
    socket.on('close', () => this.onClosed());
  }

  get broken(): boolean {
    return this.failure !== null;
  }

  /** Replies still awaited on this connection. */
  get pending(): number {
    return this.waiters.length;
  }

  /**
   * Starts a probe on this connection: `signal` (the probe's deadline) destroys the socket
   * when it fires; `kind` names why it fired.
   */
  begin(signal: AbortSignal, kind: () => FailureKind): ProbeChannel {
    if (this.waiters.length === 0) this.unasked = 0;
    return new ProbeChannel(this, signal, kind);
  }

  /** @internal */
  read(channel: ProbeChannel): Promise<SmtpReply> {
    if (this.waiters.length === 0) {
      const queued = this.replies.shift();
      if (queued !== undefined) return Promise.resolve(queued);
    }
    return this.wait(channel);
  }

  /** @internal */
  send(lines: string[], channel: ProbeChannel): Promise<SmtpReply>[] {
    if (this.failure || this.quitting) {
      const f = this.failure ?? new ProbeFailure('closed');
      return lines.map(() => Promise.reject(f));
    }
    // A reply that arrived unasked would answer this command: the server is not speaking SMTP.
    if (this.waiters.length === 0) this.replies.length = 0;
    this.socket.write(lines.length === 1 ? `${lines[0]}\r\n` : `${lines.join('\r\n')}\r\n`);
    return lines.map(() => this.wait(channel));
  }

  private wait(channel: ProbeChannel): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ channel, settle: (r) => (r instanceof ProbeFailure ? reject(r) : resolve(r)) });
      if (this.idleTimer === null) this.armIdle();
    });
  }

  /**
   * Ends the conversation politely: QUIT and a half-close (once the replies still awaited
   * are in), then the socket is destroyed when the server closes its side, or after
   * `graceMs` at the latest. Resolves once the socket is closed (at once if it was broken
   * already: destroyed).
   */
  quit(graceMs = 1000): Promise<void> {
    if (this.closed !== null) return this.closed;
    if (this.failure || this.socket.destroyed) {
      this.closed = Promise.resolve();
      return this.closed;
    }
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => resolve());
    });
    this.quitting = () => {
      this.failure ??= new ProbeFailure('closed');
      this.clearIdle();
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
      this.socket.end('QUIT\r\n');
    };
    if (this.waiters.length === 0) this.quitting();
    return this.closed;
  }

  /**
   * Destroys the socket. Pending reads fail with `f`; when a probe's own deadline did it
   * (`by`), the reads of the other probes pipelined behind it fail as `closed`, having
   * received nothing: they are tried again on a new connection.
   */
  fail(f: ProbeFailure | FailureKind, by?: ProbeChannel): void {
    const failure = typeof f === 'string' ? new ProbeFailure(f) : f;
    const first = this.failure === null;
    this.failure ??= failure;
    this.clearIdle();
    this.partialBytes = 0;
    this.lines = [];
    this.backlog.length = 0;
    this.socket.destroy();
    const interrupted = first && by !== undefined ? new ProbeFailure('closed') : this.failure;
    for (const w of this.waiters.splice(0)) {
      w.settle(!first ? this.failure : w.channel === by || by === undefined ? this.failure : interrupted);
    }
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.fail('timeout'), this.limits.idleMs);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** The socket is gone; what it received before is still read through first. */
  private onClosed(): void {
    if (this.backlog.length > 0 && this.failure === null) this.gone = true;
    else this.fail(new ProbeFailure('closed'));
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    this.backlog.push(chunk);
    if (!this.scheduled) this.drain();
  }

  /**
   * Reads the received bytes through, giving way to the event loop every `LINES_PER_TURN`
   * lines: the socket is paused (the server meets TCP back-pressure) and reading goes on
   * after a turn of the loop (setImmediate), so a flood of short lines, in one chunk or in
   * many, cannot hold the loop. Each byte is
   * looked at once; a line is decoded from the chunk itself, and only a line that spans
   * chunks is copied (into a buffer of 512 octets).
   */
  private drain(): void {
    while (this.backlog.length > 0) {
      const chunk = this.backlog[0]!;
      while (this.at < chunk.length) {
        if (this.linesRead >= LINES_PER_TURN) {
          this.scheduled = true;
          this.socket.pause();
          setImmediate(() => {
            this.scheduled = false;
            this.linesRead = 0;
            if (!this.failure) this.drain();
          });
          return;
        }
        const start = this.at;
        const nl = chunk.indexOf(LF, start);
        const end = nl < 0 ? chunk.length : nl + 1;
        const n = end - start;
        this.replyBytes += n;
        // The bytes count for the probe whose reply is being received (the oldest read).
        const head = this.waiters[0];
        let counted: number;
        if (head === undefined) {
          this.unasked += n;
          counted = this.unasked;
        } else {
          head.channel.received += n;
          counted = head.channel.received;
        }
        const over =
          this.partialBytes + n > MAX_REPLY_LINE_OCTETS
            ? 'line_too_long'
            : this.replyBytes > this.limits.maxReplyBytes
              ? 'reply_too_large'
              : counted > this.limits.maxProbeBytes
                ? 'conversation_too_large'
                : null;
        if (over !== null) {
          this.fail(over);
          return;
        }
        this.at = end;
        if (nl < 0) {
          chunk.copy(this.partial, this.partialBytes, start, end);
          this.partialBytes += n;
          break;
        }
        this.linesRead++;
        let line: string;
        if (this.partialBytes === 0) {
          line = chunk.toString('utf8', start, nl);
        } else {
          chunk.copy(this.partial, this.partialBytes, start, end);
          line = this.partial.toString('utf8', 0, this.partialBytes + n - 1);
          this.partialBytes = 0;
        }
        this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
        if (this.failure) return;
      }
      this.backlog.shift();
      this.at = 0;
    }
    if (this.gone) {
      this.fail(new ProbeFailure('closed'));
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.waiters.length > 0) this.armIdle();
    else {
      this.clearIdle();
      this.quitting?.();
    }
  }

  private onLine(line: string): void {
    // An unasked reply beyond the few kept is not kept: nobody will read it.
    const kept = this.waiters.length > 0 || this.replies.length < MAX_UNASKED_REPLIES;
    if (kept) this.lines.push(line);
    // A reply ends at the line whose fourth character is not a hyphen (RFC 5321 §4.2.1).
    if (line.length >= 4 && line[3] === '-') return;
    this.replyBytes = 0;
    if (!kept) return;
    const lines = this.lines;
    this.lines = [];
    const reply = parseReply(lines);
    const w = this.waiters.shift();
    if (w !== undefined) w.settle(reply);
    else this.replies.push(reply);
  }
}

function parseReply(lines: string[]): SmtpReply {
  const first = lines[0] ?? '';
  const code = /^[2-5]\d\d$/.test(first.slice(0, 3)) ? Number(first.slice(0, 3)) : 0;
  const texts = lines.map((l) => l.slice(4));
  const m = ENHANCED.exec(texts[0] ?? '');
  const enhanced = m ? `${m[1]}.${m[2]}.${m[3]}` : null;
  const text = texts.map((t) => (m ? t.replace(ENHANCED, '').trim() : t.trim())).join(' ');
  return { code, enhanced, text };
}
