/**
 * What an SMTP reply means for the mailbox, and the answers a probe gives. Reply mapping
 * (RFC 5321 §4.2, enhanced status codes RFC 3463) is described in ../smtp.ts; reply text
 * that goes into a detail is cleaned, redacted and capped here.
 */
import type { Reason } from '../types.js';
import type { FailureKind, SmtpReply } from './conversation.js';
import { cleanText, redactAddresses } from './text.js';

export interface SmtpAnswer {
  reason: Reason | null;
  acceptAll: boolean;
  detail: string;
  /** The reply that decided, if any. */
  reply: SmtpReply | null;
}

const DETAIL_TEXT_MAX = 160;

/**
 * Text a server sent, made safe for a detail or a span attribute. Redacted before it is
 * cut, so no part of an address survives the cut; the text is bounded by the reply cap.
 */
export function replyText(text: string): string {
  return cleanText(redactAddresses(cleanText(text, Number.POSITIVE_INFINITY)), DETAIL_TEXT_MAX);
}

/** `step code enhanced text` for a detail. */
export function describe(step: string, r: SmtpReply): string {
  const text = replyText(r.text);
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

// Words providers use when they refuse the sending IP rather than the mailbox.
const REPUTATION =
  /\b(block(ed|list(ed)?)?|black ?list(ed)?|spamhaus|spamcop|barracuda|reputation|dnsbl|rbl|too many (connections|recipients|messages|errors)|rate limit(ed)?|throttl\w*|exceeded|abuse|poor|suspicious|not allowed to send|temporarily deferred)\b/i;

/** A 421 (closing), or a refusal that names the sender's reputation or rate: back off the provider. */
export function isDeferral(r: SmtpReply): boolean {
  if (r.code === 421) return true;
  if (r.code < 400) return false;
  return REPUTATION.test(r.text);
}

export function answer(reason: Reason | null, detail: string): SmtpAnswer {
  return { reason, acceptAll: false, detail, reply: null };
}

/** The answer while a provider is backed off, `leftMs` more. */
export function backoffAnswer(leftMs: number): SmtpAnswer {
  return answer('rate_limited', `provider_backoff ${Math.ceil(leftMs / 1000)}s`);
}

/** A step other than RCPT refused: says nothing about the mailbox. */
export function unavailable(step: string, r: SmtpReply): SmtpAnswer {
  return {
    reason: r.code >= 400 && r.code < 500 ? 'greylisted' : 'smtp_unavailable',
    acceptAll: false,
    detail: describe(step, r),
    reply: r,
  };
}

export function failureAnswer(kind: FailureKind): SmtpAnswer {
  return answer(kind === 'timeout' || kind === 'deadline' || kind === 'aborted' ? 'timeout' : 'smtp_unavailable', kind);
}
