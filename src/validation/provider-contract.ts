/**
 * The contract of the optional third-party verification API, our own and fixed.
 *
 * Request:  POST PROVIDER_URL, `Authorization: Bearer PROVIDER_API_KEY`,
 *           body `{"email": "<normalised address>"}`.
 * Response: 200 with
 *           `{"result": "deliverable"|"undeliverable"|"risky"|"unknown",
 *             "reason": <one of our reasons, or null>,
 *             "flags": [<our flags>]?, "suggestion": "<address>"?}`.
 *
 * Mapping to our verdicts (anything not listed is treated as a malformed answer, which is
 * `unknown`/`provider_unavailable` — never a guess towards `undeliverable`):
 * - deliverable                        → no reason (pass)
 * - undeliverable + an undeliverable reason (mailbox_not_found, mailbox_disabled, no_mx, …)
 *                                      → that reason
 * - risky + a risky reason (accept_all, mailbox_full, disposable, role, possible_typo)
 *                                      → that reason
 * - unknown + an unknown reason        → that reason; without one → provider_unavailable
 * - flags we know are kept; others ignored. `suggestion` is offered as did_you_mean.
 * Transport outcomes:
 * - 429 (after retries, or a Retry-After longer than we will wait) → rate_limited
 * - 503, other 5xx, resets, timeouts (after retries)               → provider_unavailable
 * - other 4xx (bad key, bad request): not retried                  → provider_unavailable
 * - breaker open                                                   → provider_unavailable
 * - the event's signal aborted                                     → timeout
 */
import {
  FLAGS,
  type Flag,
  type Reason,
  RISKY_REASONS,
  UNDELIVERABLE_REASONS,
  UNKNOWN_REASONS,
  VERDICTS,
  type VerdictKind,
} from './types.js';

export interface ProviderAnswer {
  reason: Reason | null;
  flags: Flag[];
  suggestion: string | null;
  /** e.g. `http_200`, `http_429`, `breaker_open`, `bad_response`, `timeout`, `reset`. */
  detail: string;
  /** HTTP requests this answer took. */
  attempts: number;
}

const UNDELIVERABLE = new Set<string>(UNDELIVERABLE_REASONS);
const RISKY = new Set<string>(RISKY_REASONS);
const UNKNOWN = new Set<string>(UNKNOWN_REASONS);
const KNOWN_FLAGS = new Set<string>(FLAGS);
const KINDS = new Set<string>(VERDICTS);

/** Whether an answer says nothing definitive (rate limits, outages, timeouts): never cached. */
export function isUnknownAnswer(answer: ProviderAnswer): boolean {
  return answer.reason !== null && UNKNOWN.has(answer.reason);
}

/** Parses our response contract; null if the body does not follow it. */
export function mapProviderResponse(body: unknown): Omit<ProviderAnswer, 'detail' | 'attempts'> | null {
  if (body === null || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const result = b.result;
  const reason = b.reason ?? null;
  if (typeof result !== 'string' || !KINDS.has(result)) return null;
  if (reason !== null && typeof reason !== 'string') return null;
  let mapped: Reason | null;
  switch (result as VerdictKind) {
    case 'deliverable':
      mapped = null;
      break;
    case 'undeliverable':
      if (reason === null || !UNDELIVERABLE.has(reason)) return null;
      mapped = reason as Reason;
      break;
    case 'risky':
      if (reason === null || !RISKY.has(reason)) return null;
      mapped = reason as Reason;
      break;
    case 'unknown':
      mapped = reason !== null && UNKNOWN.has(reason) ? (reason as Reason) : 'provider_unavailable';
      break;
  }
  const flags = Array.isArray(b.flags)
    ? (b.flags.filter((f) => typeof f === 'string' && KNOWN_FLAGS.has(f)) as Flag[])
    : [];
  const suggestion = typeof b.suggestion === 'string' && b.suggestion.includes('@') ? b.suggestion : null;
  return { reason: mapped, flags, suggestion };
}

/** Retry-After as milliseconds (delta-seconds or HTTP-date, RFC 9110 §10.2.3), or null. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
