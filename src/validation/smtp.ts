/**
 * Optional SMTP probe (off by default: most clouds block outbound port 25, and probing
 * costs reputation). Connects to the best MX, says EHLO, MAIL FROM, RCPT TO, and never
 * sends DATA. A second RCPT TO with a random local part detects catch-all domains, whose
 * "250" says nothing about the mailbox.
 *
 * Reply mapping (RFC 5321 §4.2, enhanced status codes RFC 3463):
 * - RCPT 2xx                              → pass (or risky accept_all if the random one is accepted too)
 * - RCPT 5.1.x, or 550/551/553 without    → mailbox_not_found
 *   an enhanced code
 * - RCPT 5.2.1                            → mailbox_disabled
 * - RCPT 552 / x.2.2                      → mailbox_full (risky)
 * - any 4xx                               → greylisted (unknown: try later)
 * - 5.7.x (policy, blocklists), 5xx to    → smtp_unavailable (says nothing about the mailbox)
 *   EHLO/MAIL, other 5xx
 * - connect failure, timeout, closed      → smtp_unavailable / timeout
 * The detail keeps the step, reply code, enhanced status and text, with addresses in the
 * text replaced by `<redacted>` (outcomes must not carry addresses).
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import type { MxHost } from './dns.js';
import type { Reason } from './types.js';

export interface SmtpProbeOptions {
  helo: string;
  /** Reverse-path for MAIL FROM; empty means the null reverse-path `<>`. */
  from: string;
  port: number;
  timeoutMs: number;
  catchAllCheck: boolean;
  /** MX hosts tried when the better ones cannot be reached. */
  maxHosts?: number;
}

export interface SmtpReply {
  code: number;
  enhanced: string | null;
  text: string;
}

export interface SmtpAnswer {
  reason: Reason | null;
  acceptAll: boolean;
  detail: string;
  /** The reply that decided, if any. */
  reply: SmtpReply | null;
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})\b/;
const ADDRESS_LIKE = /<?[^\s<>]*@[^\s<>]*>?/g;

class ProbeFailure extends Error {
  constructor(readonly kind: 'timeout' | 'closed' | 'connect') {
    super(`smtp ${kind}`);
  }
}

/** One SMTP conversation: reads multi-line replies, one command at a time. */
class SmtpConversation {
  private buffer = '';
  private lines: string[] = [];
  private waiter: ((reply: SmtpReply | ProbeFailure) => void) | null = null;
  private failure: ProbeFailure | null = null;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('timeout', () => this.fail(new ProbeFailure('timeout')));
    socket.on('error', () => this.fail(new ProbeFailure('closed')));
    socket.on('close', () => this.fail(new ProbeFailure('closed')));
  }

  read(): Promise<SmtpReply> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.waiter = (r) => (r instanceof ProbeFailure ? reject(r) : resolve(r));
      this.drain();
    });
  }

  command(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf('\n');
    }
    this.drain();
  }

  /** A reply ends at the line whose fourth character is a space (RFC 5321 §4.2.1). */
  private drain(): void {
    if (this.waiter === null) return;
    const end = this.lines.findIndex((l) => l.length < 4 || l[3] === ' ');
    if (end < 0) return;
    const replyLines = this.lines.splice(0, end + 1);
    const code = Number(replyLines[0]!.slice(0, 3));
    const texts = replyLines.map((l) => l.slice(4));
    const m = ENHANCED.exec(texts[0] ?? '');
    const enhanced = m ? `${m[1]}.${m[2]}.${m[3]}` : null;
    const text = texts.map((t) => (m ? t.replace(ENHANCED, '').trim() : t.trim())).join(' ');
    const w = this.waiter;
    this.waiter = null;
    w({ code: Number.isFinite(code) ? code : 0, enhanced, text });
  }

  private fail(f: ProbeFailure): void {
    this.failure ??= f;
    const w = this.waiter;
    this.waiter = null;
    w?.(this.failure);
  }
}

function describe(step: string, r: SmtpReply): string {
  const text = r.text.replace(ADDRESS_LIKE, '<redacted>').slice(0, 160);
  return `${step} ${r.code}${r.enhanced ? ` ${r.enhanced}` : ''}${text ? ` ${text}` : ''}`;
}

/** Reason for a rejected RCPT TO. */
export function classifyRcpt(r: SmtpReply): Reason | null {
  if (r.code >= 200 && r.code < 300) return null;
  if (r.code >= 400 && r.code < 500) return 'greylisted';
  const e = r.enhanced;
  if (e !== null) {
    if (e.startsWith('5.1.')) return 'mailbox_not_found';
    if (e === '5.2.1') return 'mailbox_disabled';
    if (e.endsWith('.2.2')) return 'mailbox_full';
    if (e.startsWith('5.7.')) return 'smtp_unavailable';
  }
  if (r.code === 552) return 'mailbox_full';
  if (e === null && (r.code === 550 || r.code === 551 || r.code === 553)) return 'mailbox_not_found';
  return 'smtp_unavailable';
}

export class SmtpProber {
  constructor(private readonly options: SmtpProbeOptions) {}

  async probe(
    local: string,
    asciiDomain: string,
    hosts: MxHost[],
    signal: AbortSignal,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    const candidates = hosts.slice(0, this.options.maxHosts ?? 2);
    let last: SmtpAnswer = { reason: 'smtp_unavailable', acceptAll: false, detail: 'no_mx_host', reply: null };
    for (const host of candidates) {
      if (signal.aborted) return { reason: 'timeout', acceptAll: false, detail: 'aborted', reply: null };
      const socket = new Socket();
      const onAbort = () => socket.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await this.converse(socket, host.exchange, `${local}@${asciiDomain}`, asciiDomain, smtputf8);
      } catch (err) {
        if (signal.aborted) return { reason: 'timeout', acceptAll: false, detail: 'aborted', reply: null };
        const kind = err instanceof ProbeFailure ? err.kind : 'closed';
        last = {
          reason: kind === 'timeout' ? 'timeout' : 'smtp_unavailable',
          acceptAll: false,
          detail: kind,
          reply: null,
        };
        // Only an unreachable host is worth trying the next MX; a conversation that broke off is not.
        if (kind !== 'connect') return last;
      } finally {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
      }
    }
    return last;
  }

  private async converse(
    socket: Socket,
    host: string,
    recipient: string,
    domain: string,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    socket.setTimeout(this.options.timeoutMs);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', () => reject(new ProbeFailure('connect')));
      socket.once('timeout', () => reject(new ProbeFailure('connect')));
      socket.connect(this.options.port, host);
    });
    const smtp = new SmtpConversation(socket);
    const unavailable = (step: string, r: SmtpReply): SmtpAnswer => ({
      reason: r.code >= 400 && r.code < 500 ? 'greylisted' : 'smtp_unavailable',
      acceptAll: false,
      detail: describe(step, r),
      reply: r,
    });

    const greeting = await smtp.read();
    if (greeting.code !== 220) return unavailable('greeting', greeting);
    const ehlo = await smtp.command(`EHLO ${this.options.helo}`);
    if (ehlo.code !== 250) return unavailable('ehlo', ehlo);
    const supportsUtf8 = /\bSMTPUTF8\b/i.test(ehlo.text);
    if (smtputf8 && !supportsUtf8) {
      await smtp.command('QUIT').catch(() => undefined);
      return { reason: 'smtp_unavailable', acceptAll: false, detail: 'no_smtputf8', reply: null };
    }
    const mail = await smtp.command(`MAIL FROM:<${this.options.from}>${smtputf8 ? ' SMTPUTF8' : ''}`);
    if (mail.code !== 250) return unavailable('mail', mail);
    const rcpt = await smtp.command(`RCPT TO:<${recipient}>`);
    const reason = classifyRcpt(rcpt);
    let acceptAll = false;
    if (reason === null && this.options.catchAllCheck) {
      const probe = await smtp.command(`RCPT TO:<${randomBytes(12).toString('hex')}@${domain}>`);
      acceptAll = probe.code >= 200 && probe.code < 300;
    }
    await smtp.command('QUIT').catch(() => undefined);
    return { reason: acceptAll ? 'accept_all' : reason, acceptAll, detail: describe('rcpt', rcpt), reply: rcpt };
  }
}
