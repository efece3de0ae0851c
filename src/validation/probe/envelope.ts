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
import { type ConversationLimits, type FailureKind, SmtpConversation, type SmtpReply } from './conversation.js';
import { answer, classifyRcpt, describe, isDeferral, type SmtpAnswer, unavailable } from './replies.js';
import { Session } from './session.js';

/** Reads the greeting on a connected socket and says EHLO: a session, or the refusal. */
export async function openSession(
  socket: Duplex,
  key: string,
  limits: ConversationLimits,
  helo: string,
  deadline: { signal: AbortSignal; kind: () => FailureKind },
): Promise<{ session: Session } | { answer: SmtpAnswer; reply: SmtpReply }> {
  const smtp = new SmtpConversation(socket, limits);
  smtp.begin(deadline.signal, deadline.kind);
  try {
    const greeting = await smtp.read();
    if (greeting.code !== 220) {
      smtp.fail('closed');
      return { answer: unavailable('greeting', greeting), reply: greeting };
    }
    const ehlo = await smtp.command(`EHLO ${helo}`);
    if (ehlo.code !== 250) {
      smtp.fail('closed');
      return { answer: unavailable('ehlo', ehlo), reply: ehlo };
    }
    return { session: new Session(key, smtp, /\bSMTPUTF8\b/i.test(ehlo.text), /\bPIPELINING\b/i.test(ehlo.text)) };
  } catch (err) {
    smtp.fail('closed');
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

/** MAIL FROM and RCPT TO on `session`: the answer, and whether the connection may be reused. */
export async function converse(
  session: Session,
  envelope: Envelope,
  catchAll: CatchAllCache | null,
  onDeferral: () => void,
): Promise<{ answer: SmtpAnswer; reusable: boolean }> {
  const { smtp } = session;
  const { from, recipient, domain, smtputf8 } = envelope;
  if (smtputf8 && !session.supportsUtf8) {
    return { answer: answer('smtp_unavailable', 'no_smtputf8'), reusable: true };
  }
  const mailLine = `MAIL FROM:<${from}>${smtputf8 ? ' SMTPUTF8' : ''}`;
  const rcptLine = `RCPT TO:<${recipient}>`;
  let mail: SmtpReply;
  let rcpt: SmtpReply;
  if (session.pipelining) {
    // One round trip: the previous probe's RSET, MAIL and RCPT (RFC 2920 §3.1: RSET, MAIL
    // and RCPT may be sent before their replies arrive).
    const lines = session.dirty ? ['RSET', mailLine, rcptLine] : [mailLine, rcptLine];
    const replies = await smtp.commands(lines);
    if (session.dirty) {
      session.dirty = false;
      const rset = replies.shift()!;
      if (rset.code !== 250) {
        if (isDeferral(rset)) onDeferral();
        return { answer: unavailable('rset', rset), reusable: false };
      }
    }
    [mail, rcpt] = replies as [SmtpReply, SmtpReply];
    session.rcpts++;
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
    acceptAll = await catchAll.isCatchAll(domain, () => {
      session.rcpts++;
      return smtp.command(`RCPT TO:<${randomBytes(12).toString('hex')}@${domain}>`);
    });
  return {
    answer: { reason: acceptAll ? 'accept_all' : reason, acceptAll, detail: describe('rcpt', rcpt), reply: rcpt },
    reusable: true,
  };
}
