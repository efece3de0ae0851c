/**
 * The SMTP dialogue of one probe: greeting and EHLO on a new connection, then MAIL FROM and
 * RCPT TO (pipelined with the previous probe's RSET when the server offers PIPELINING), and
 * a second RCPT TO with a random local part when catch-all domains are to be told apart.
 * DATA is never sent. Replies that look like a refusal of the sender are reported to
 * `onDeferral` so that the provider is backed off.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { CatchAllCache } from './catch-all.js';
import {
  type ConversationLimits,
  type FailureKind,
  type ProbeChannel,
  SmtpConversation,
  type SmtpReply,
} from './conversation.js';
import { answer, classifyRcpt, describe, isDeferral, type SmtpAnswer, unavailable } from './replies.js';
import { Session } from './session.js';

/** Reads the greeting on a connected socket and says EHLO: a session (and the probe's channel on it), or the refusal. */
export async function openSession(
  socket: Duplex,
  key: string,
  limits: ConversationLimits,
  helo: string,
  deadline: { signal: AbortSignal; kind: () => FailureKind },
): Promise<{ session: Session; channel: ProbeChannel } | { answer: SmtpAnswer; reply: SmtpReply }> {
  const smtp = new SmtpConversation(socket, limits);
  const channel = smtp.begin(deadline.signal, deadline.kind);
  try {
    const greeting = await channel.read();
    if (greeting.code !== 220) {
      smtp.fail('closed');
      return { answer: unavailable('greeting', greeting), reply: greeting };
    }
    const ehlo = await channel.command(`EHLO ${helo}`);
    if (ehlo.code !== 250) {
      smtp.fail('closed');
      return { answer: unavailable('ehlo', ehlo), reply: ehlo };
    }
    return {
      session: new Session(key, smtp, /\bSMTPUTF8\b/i.test(ehlo.text), /\bPIPELINING\b/i.test(ehlo.text)),
      channel,
    };
  } catch (err) {
    smtp.fail('closed');
    channel.end();
    throw err;
  }
}

export interface Envelope {
  /** Reverse-path for MAIL FROM; empty means the null reverse-path `<>`. */
  from: string;
  recipient: string;
  domain: string;
  smtputf8: boolean;
}

/**
 * MAIL FROM and RCPT TO on `session`: the answer, and whether the connection may be reused.
 * `onSent` is told when the commands are out and the connection could already carry the
 * next probe's (pipelined, and no catch-all question of this probe's will follow); it may
 * hand the session on, after which this probe only reads its replies and leaves the
 * connection alone.
 */
export async function converse(
  session: Session,
  smtp: ProbeChannel,
  envelope: Envelope,
  catchAll: CatchAllCache | null,
  onDeferral: () => void,
  onSent: () => void = () => {},
): Promise<{ answer: SmtpAnswer; reusable: boolean }> {
  const { from, recipient, domain, smtputf8 } = envelope;
  if (smtputf8 && !session.supportsUtf8) {
    return { answer: answer('smtp_unavailable', 'no_smtputf8'), reusable: true };
  }
  const mailLine = `MAIL FROM:<${from}>${smtputf8 ? ' SMTPUTF8' : ''}`;
  const rcptLine = `RCPT TO:<${recipient}>`;
  let mail: SmtpReply;
  let rcpt: SmtpReply;
  // Catch-all as known when the commands went out: a probe that handed its connection on
  // asks nothing more on it.
  let known: boolean | undefined;
  if (session.pipelining) {
    // One round trip: the previous probe's RSET, MAIL and RCPT (RFC 2920 §3.1: RSET, MAIL
    // and RCPT may be sent before their replies arrive).
    const reset = session.dirty;
    const lines = reset ? ['RSET', mailLine, rcptLine] : [mailLine, rcptLine];
    const pending = smtp.commands(lines);
    // The transaction is open: whoever sends next on this connection starts with RSET.
    session.dirty = true;
    session.rcpts++;
    known = catchAll?.peek(domain);
    if (catchAll === null || known !== undefined) onSent();
    const replies = await pending;
    if (reset) {
      const rset = replies.shift()!;
      if (rset.code !== 250) {
        if (isDeferral(rset)) onDeferral();
        return { answer: unavailable('rset', rset), reusable: false };
      }
    }
    [mail, rcpt] = replies as [SmtpReply, SmtpReply];
    if (mail.code !== 250) {
      if (isDeferral(mail)) onDeferral();
      return { answer: unavailable('mail', mail), reusable: false };
    }
  } else {
    mail = await smtp.command(mailLine);
    if (mail.code !== 250) {
      if (isDeferral(mail)) onDeferral();
      return { answer: unavailable('mail', mail), reusable: false };
    }
    session.rcpts++;
    rcpt = await smtp.command(rcptLine);
  }
  const reason = classifyRcpt(rcpt);
  if (reason !== null && reason !== 'mailbox_not_found' && isDeferral(rcpt)) {
    onDeferral();
    return { answer: { reason, acceptAll: false, detail: describe('rcpt', rcpt), reply: rcpt }, reusable: false };
  }
  let acceptAll = false;
  if (reason === null && catchAll !== null)
    acceptAll =
      known ??
      (await catchAll.isCatchAll(domain, () => {
        session.rcpts++;
        return smtp.command(`RCPT TO:<${randomBytes(12).toString('hex')}@${domain}>`);
      }));
  return {
    answer: { reason: acceptAll ? 'accept_all' : reason, acceptAll, detail: describe('rcpt', rcpt), reply: rcpt },
    reusable: true,
  };
}
