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
const LF = 0x0a;

export class SmtpConversation {
  /** The part of the current line received so far (≤ 512 octets). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Lines of the reply being received. */
  private lines: string[] = [];
  private replyBytes = 0;
  private probeBytes = 0;
  private readonly replies: SmtpReply[] = [];
  private waiter: ((r: SmtpReply | ProbeFailure) => void) | null = null;
  private failure: ProbeFailure | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private signal: AbortSignal | null = null;
  private readonly onAbort = () => this.fail(this.abortKind());
  private abortKind: () => FailureKind = () => 'aborted';
  /** Settles once the socket has closed after `quit`. */
  private closed: Promise<void> | null = null;

  constructor(
    readonly socket: Duplex,
    private readonly limits: ConversationLimits,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.fail(new ProbeFailure('closed')));
    socket.on('close', () => this.fail(new ProbeFailure('closed')));
  }

  /** Bytes received since the current probe began. */
  get received(): number {
    return this.probeBytes;
  }

  get broken(): boolean {
    return this.failure !== null;
  }

  /**
   * Starts a probe on this connection: byte counting starts again, and `signal` (the
   * probe's deadline) destroys the socket when it fires; `kind` names why it fired.
   */
  begin(signal: AbortSignal, kind: () => FailureKind): void {
    this.probeBytes = 0;
    this.signal = signal;
    this.abortKind = kind;
    if (signal.aborted) this.fail(new ProbeFailure(kind()));
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Ends the probe: the connection may rest in a pool, where only its close matters. */
  end(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.signal = null;
    this.clearIdle();
  }

  read(): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = (r) => (r instanceof ProbeFailure ? reject(r) : resolve(r));
      this.armIdle();
    });
  }

  command(line: string): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    // A reply that arrived unasked would answer this command: the server is not speaking SMTP.
    this.replies.length = 0;
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /** Sends several commands at once (PIPELINING) and reads their replies in order. */
  async commands(lines: string[]): Promise<SmtpReply[]> {
    if (this.failure) throw this.failure;
    this.replies.length = 0;
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
    const out: SmtpReply[] = [];
    for (let i = 0; i < lines.length; i++) out.push(await this.read());
    return out;
  }

  /**
   * Ends the conversation politely: QUIT and a half-close, then the socket is destroyed when
   * the server closes its side, or after `graceMs` at the latest. Replies are not read.
   * Resolves once the socket is closed (at once if it was broken already: destroyed).
   */
  quit(graceMs = 1000): Promise<void> {
    if (this.closed === null) {
      if (this.failure || this.socket.destroyed) {
        this.closed = Promise.resolve();
      } else {
        this.failure = new ProbeFailure('closed');
        this.clearIdle();
        this.signal?.removeEventListener('abort', this.onAbort);
        const timer = setTimeout(() => this.socket.destroy(), graceMs);
        timer.unref();
        this.closed = new Promise((resolve) => {
          this.socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        this.socket.end('QUIT\r\n');
      }
    }
    return this.closed;
  }

  /** Destroys the socket; any pending read fails with `kind`. */
  fail(f: ProbeFailure | FailureKind): void {
    const failure = typeof f === 'string' ? new ProbeFailure(f) : f;
    this.failure ??= failure;
    this.clearIdle();
    this.signal?.removeEventListener('abort', this.onAbort);
    this.partial = [];
    this.lines = [];
    this.socket.destroy();
    const w = this.waiter;
    this.waiter = null;
    w?.(this.failure);
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => this.fail('timeout'), this.limits.idleMs);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      this.partialBytes += piece.length;
      this.replyBytes += piece.length;
      this.probeBytes += piece.length;
      if (this.partialBytes > MAX_REPLY_LINE_OCTETS) {
        this.fail('line_too_long');
        return;
      }
      if (this.replyBytes > this.limits.maxReplyBytes) {
        this.fail('reply_too_large');
        return;
      }
      if (this.probeBytes > this.limits.maxProbeBytes) {
        this.fail('conversation_too_large');
        return;
      }
      this.partial.push(piece);
      start = end;
      if (nl >= 0) this.onLine();
    }
    if (this.waiter !== null) this.armIdle();
  }

  private onLine(): void {
    const raw = this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    let line = raw.toString('utf8', 0, raw.length - 1);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.lines.push(line);
    // A reply ends at the line whose fourth character is not a hyphen (RFC 5321 §4.2.1).
    if (line.length >= 4 && line[3] === '-') return;
    const lines = this.lines;
    this.lines = [];
    this.replyBytes = 0;
    const reply = parseReply(lines);
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.clearIdle();
      w(reply);
    } else {
      this.replies.push(reply);
    }
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
