/**
 * Optional SMTP probe (off by default: most clouds block outbound port 25, and probing
 * costs reputation). Connects to the best MX, says EHLO, MAIL FROM, RCPT TO, and never
 * sends DATA. A second RCPT TO with a random local part detects catch-all domains, whose
 * "250" says nothing about the mailbox; the answer is kept per domain for a TTL.
 *
 * Safe to point at the Internet:
 * - Only public destinations. Each MX host name is resolved once (A, then AAAA) and the
 *   probe connects to one of those addresses, never to the name; addresses that are not
 *   globally routable are dropped (`SMTP_ALLOW_PRIVATE_NETWORKS=true` lets tests and
 *   internal deployments through). MX hosts that are IP literals or single labels are
 *   never resolved. With `SMTP_PROXY` the connection goes through a SOCKS5 proxy, asked
 *   for the pinned address, not the name.
 * - Bounded conversations (see probe/conversation.ts): line, reply and byte caps, an idle
 *   timeout, a total deadline per probe, and the event's own deadline; past any of them the
 *   socket is destroyed and the answer is unknown with a detail naming the limit.
 * - Manners per provider (see probe/manners.ts): concurrency and rate limits, connection
 *   reuse with RSET, and back-off after a 421 or a reputation-looking reply.
 * - What comes back is data: reply text in the detail is stripped of control and bidi
 *   characters, addresses in it are replaced by `<redacted>`, and it is capped.
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
 * - provider backed off                   → rate_limited (unknown, at once)
 * - every MX address not public           → no_mx (undeliverable: no mail can reach it from the Internet)
 */
import { randomBytes } from 'node:crypto';
import { getServers } from 'node:dns';
import { Socket } from 'node:net';
import { SocksClient } from 'socks';
import type { ValidationOptions } from '../config.js';
import { type HostLookup, type MxHost, MxResolver } from './dns.js';
import { parseDnsServer } from './dns-transport.js';
import { isProbeableHost, isPublicAddress } from './probe/address.js';
import {
  type ConversationLimits,
  type FailureKind,
  ProbeFailure,
  SmtpConversation,
  type SmtpReply,
} from './probe/conversation.js';
import {
  DEFAULT_PROVIDER_LIMITS,
  type Pooled,
  type ProviderLimit,
  ProviderManners,
  type ProviderSnapshot,
  providerOf,
} from './probe/manners.js';
import { cleanText, redactAddresses } from './probe/text.js';
import type { Reason } from './types.js';

export type { SmtpReply } from './probe/conversation.js';

export interface SmtpProxy {
  host: string;
  port: number;
  userId?: string;
  password?: string;
}

export interface SmtpProbeOptions {
  helo: string;
  /** Reverse-path for MAIL FROM; empty means the null reverse-path `<>`. */
  from: string;
  port: number;
  /** Idle time allowed at each step. */
  timeoutMs: number;
  catchAllCheck: boolean;
  /** MX hosts tried when the better ones cannot be reached. */
  maxHosts?: number;
  /** Connect to loopback, private, link-local … addresses too (tests, internal deployments). */
  allowPrivateNetworks?: boolean;
  /** Total time one probe may take, from waiting for a connection to the last reply. */
  conversationTimeoutMs?: number;
  maxReplyBytes?: number;
  /** Bytes received during one probe at most. */
  maxConversationBytes?: number;
  providerLimits?: Readonly<Record<string, ProviderLimit>>;
  /** For providers not in `providerLimits`. */
  defaultProviderLimit?: ProviderLimit;
  rcptsPerConnection?: number;
  backoffMs?: number;
  catchAllTtlSeconds?: number;
  /** Idle pooled connections are closed after this long. */
  idleConnectionMs?: number;
  proxy?: SmtpProxy | undefined;
  /** Told of every probe's outcome and of back-off changes, by provider (metrics hook here). */
  observer?: SmtpObserver;
  /** Milliseconds clock for the caches and back-off (tests). */
  now?: () => number;
}

export interface SmtpObserver {
  /**
   * `outcome`: pass, a reason, a failure kind, backoff, deferral; `provider`: the registrable
   * MX domain of a provider with limits of its own, else `other`.
   */
  probe?(provider: string, outcome: string): void;
  backoff?(provider: string, on: boolean): void;
}

export interface SmtpAnswer {
  reason: Reason | null;
  acceptAll: boolean;
  detail: string;
  /** The reply that decided, if any. */
  reply: SmtpReply | null;
}

/** Resolves MX host names to addresses; MxResolver is one. */
export interface HostResolver {
  resolveHost(host: string, signal?: AbortSignal): Promise<HostLookup>;
}

const DETAIL_TEXT_MAX = 160;

/**
 * Text a server sent, made safe for a detail or a span attribute. Redacted before it is
 * cut, so no part of an address survives the cut; the text is bounded by the reply cap.
 */
export function replyText(text: string): string {
  return cleanText(redactAddresses(cleanText(text, Number.POSITIVE_INFINITY)), DETAIL_TEXT_MAX);
}

function describe(step: string, r: SmtpReply): string {
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

/** A pooled connection that was closed before it answered anything: the probe is tried again. */
class StaleConnection extends Error {}

/** One open connection, pinned to one address, with its EHLO done. */
class Session implements Pooled {
  rcpts = 0;
  /** A probe ended on it without RSET yet: the next one sends RSET first (pipelined). */
  dirty = false;
  constructor(
    readonly key: string,
    readonly smtp: SmtpConversation,
    readonly supportsUtf8: boolean,
    /** The server offers PIPELINING (RFC 2920): RSET, MAIL and RCPT go in one round trip. */
    readonly pipelining: boolean,
  ) {}

  close(): void {
    // Polite but without waiting: a server that does not answer QUIT is not our problem.
    this.smtp.quit();
  }
}

interface Target {
  exchange: string;
  provider: string;
  ip: string;
}

type Deadline = { signal: AbortSignal; kind: () => FailureKind; dispose: () => void };

export class SmtpProber {
  private readonly manners: ProviderManners<Session>;
  private readonly catchAll = new Map<string, { value: boolean | Promise<boolean | null>; expiresAt: number }>();
  private readonly now: () => number;
  private readonly limits: ConversationLimits;
  private readonly providerLimits: Readonly<Record<string, ProviderLimit>>;

  constructor(
    private readonly options: SmtpProbeOptions,
    private readonly resolver: HostResolver,
  ) {
    this.now = options.now ?? Date.now;
    this.providerLimits = options.providerLimits ?? DEFAULT_PROVIDER_LIMITS;
    this.manners = new ProviderManners<Session>({
      limits: this.providerLimits,
      fallback: options.defaultProviderLimit ?? { concurrency: 2, ratePerMinute: 60 },
      backoffMs: options.backoffMs ?? 30 * 60_000,
      idleMs: options.idleConnectionMs ?? 5000,
      now: this.now,
    });
    this.limits = {
      idleMs: options.timeoutMs,
      maxReplyBytes: options.maxReplyBytes ?? 16 * 1024,
      maxProbeBytes: options.maxConversationBytes ?? 64 * 1024,
    };
  }

  /**
   * Connection state per provider label, for metrics (never an address): the providers
   * with limits of their own by name, every other one summed up as `other`, so the label
   * set stays small however many self-hosted domains are probed.
   */
  providers(): ProviderSnapshot[] {
    const byLabel = new Map<string, ProviderSnapshot>();
    for (const s of this.manners.snapshot()) {
      const provider = this.label(s.provider);
      const sum = byLabel.get(provider) ?? { provider, open: 0, idle: 0, waiting: 0, backedOff: false };
      sum.open += s.open;
      sum.idle += s.idle;
      sum.waiting += s.waiting;
      sum.backedOff ||= s.backedOff;
      byLabel.set(provider, sum);
    }
    return [...byLabel.values()];
  }

  /** The metric label of a provider. */
  label(provider: string): string {
    return Object.hasOwn(this.providerLimits, provider) ? provider : 'other';
  }

  /** Closes idle pooled connections. */
  close(): void {
    this.manners.closeIdle();
  }

  async probe(
    local: string,
    asciiDomain: string,
    hosts: MxHost[],
    signal: AbortSignal,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    const deadline = this.deadline(signal);
    try {
      return await this.probeWithin(local, asciiDomain, hosts, deadline, smtputf8);
    } finally {
      deadline.dispose();
    }
  }

  /** The probe's own deadline, and the event's: whichever fires first ends it. */
  private deadline(event: AbortSignal): Deadline {
    const total = new AbortController();
    const timer = setTimeout(
      () => total.abort(new ProbeFailure('deadline')),
      this.options.conversationTimeoutMs ?? 8000,
    );
    const signal = AbortSignal.any([event, total.signal]);
    return {
      signal,
      kind: () => (event.aborted ? 'aborted' : 'deadline'),
      dispose: () => clearTimeout(timer),
    };
  }

  private async probeWithin(
    local: string,
    domain: string,
    hosts: MxHost[],
    deadline: Deadline,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    const resolved = await this.targets(hosts, deadline);
    if ('answer' in resolved) return resolved.answer;
    let last: SmtpAnswer = answer('smtp_unavailable', 'no_mx_host');
    for (const target of resolved.targets) {
      const left = this.manners.backoffLeft(target.provider);
      if (left > 0) {
        this.options.observer?.probe?.(this.label(target.provider), 'backoff');
        return answer('rate_limited', `provider_backoff ${Math.ceil(left / 1000)}s`);
      }
      try {
        const a = await this.probeTarget(target, local, domain, deadline, smtputf8);
        const outcome = a.reason === null ? 'pass' : a.reason === 'rate_limited' ? 'backoff' : a.reason;
        this.options.observer?.probe?.(this.label(target.provider), outcome);
        return a;
      } catch (err) {
        const kind: FailureKind =
          err instanceof ProbeFailure ? err.kind : deadline.signal.aborted ? deadline.kind() : 'closed';
        this.options.observer?.probe?.(this.label(target.provider), kind);
        last = failureAnswer(kind);
        // Only an unreachable host is worth trying the next MX; a conversation that broke off is not.
        if (kind !== 'connect' && kind !== 'proxy') return last;
      }
    }
    return last;
  }

  /** The addresses to try, one per MX host, best first; or the answer when there are none. */
  private async targets(hosts: MxHost[], deadline: Deadline): Promise<{ targets: Target[] } | { answer: SmtpAnswer }> {
    const names = hosts.filter((h) => isProbeableHost(h.exchange)).slice(0, this.options.maxHosts ?? 2);
    if (names.length === 0) return { answer: answer('no_mx', 'mx_not_hostname') };
    const lookups = await Promise.all(
      names.map((h) =>
        this.resolver.resolveHost(h.exchange, deadline.signal).catch(() => ({ kind: 'aborted' }) as const),
      ),
    );
    if (deadline.signal.aborted) return { answer: failureAnswer(deadline.kind()) };
    const targets: Target[] = [];
    let notPublic = 0;
    let unavailable = 0;
    names.forEach((h, i) => {
      const l = lookups[i]!;
      if (l.kind === 'unavailable' || l.kind === 'aborted') {
        unavailable++;
        return;
      }
      if (l.kind === 'none') return;
      const all = [...l.v4, ...l.v6];
      const ip = this.options.allowPrivateNetworks ? all[0] : all.find(isPublicAddress);
      if (ip === undefined) {
        notPublic++;
        return;
      }
      targets.push({ exchange: h.exchange, provider: providerOf(h.exchange), ip });
    });
    if (targets.length > 0) return { targets };
    if (unavailable > 0) return { answer: answer('smtp_unavailable', 'mx_dns_unavailable') };
    if (notPublic > 0) return { answer: answer('no_mx', 'mx_not_public') };
    return { answer: answer('smtp_unavailable', 'mx_no_address') };
  }

  private async probeTarget(
    target: Target,
    local: string,
    domain: string,
    deadline: Deadline,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    try {
      return await this.probeOn(target, local, domain, deadline, smtputf8, false);
    } catch (err) {
      // A resting connection the server had dropped says nothing about the mailbox: once
      // more, on a new connection.
      if (err instanceof StaleConnection && !deadline.signal.aborted)
        return this.probeOn(target, local, domain, deadline, smtputf8, true);
      throw err instanceof StaleConnection ? new ProbeFailure('closed') : err;
    }
  }

  /** One attempt at a target: on a pooled connection unless `fresh`. */
  private async probeOn(
    target: Target,
    local: string,
    domain: string,
    deadline: Deadline,
    smtputf8: boolean,
    fresh: boolean,
  ): Promise<SmtpAnswer> {
    const { provider } = target;
    const key = `${target.ip}:${this.options.port}`;
    try {
      await this.manners.pace(provider, deadline.signal);
    } catch {
      throw new ProbeFailure(deadline.kind());
    }
    let got: Session | 'open';
    try {
      got = await this.manners.acquire(provider, key, deadline.signal, fresh);
    } catch {
      throw new ProbeFailure(deadline.kind());
    }
    let session: Session | null = got === 'open' ? null : got;
    let reusable = false;
    try {
      // A probe that waited for its slot while the provider deferred another one goes no further.
      const left = this.manners.backoffLeft(provider);
      if (left > 0) return answer('rate_limited', `provider_backoff ${Math.ceil(left / 1000)}s`);
      if (session === null) {
        const opened = await this.open(target, key, deadline);
        if ('answer' in opened) {
          if (isDeferral(opened.reply)) this.deferral(provider);
          return opened.answer;
        }
        session = opened.session;
      } else {
        (session.smtp.socket as Socket).ref?.();
        session.smtp.begin(deadline.signal, deadline.kind);
      }
      let result: { answer: SmtpAnswer; reusable: boolean };
      try {
        result = await this.converse(session, `${local}@${domain}`, domain, smtputf8, provider);
      } catch (err) {
        const reused = got !== 'open';
        if (reused && err instanceof ProbeFailure && err.kind === 'closed' && session.smtp.received === 0)
          throw new StaleConnection();
        throw err;
      }
      reusable = result.reusable && session.rcpts < (this.options.rcptsPerConnection ?? 20);
      if (reusable && session.pipelining) {
        // RSET goes out with the next probe's commands.
        session.dirty = true;
      } else if (reusable) {
        // The answer stands whatever RSET gets: only the connection's reuse depends on it.
        reusable = await session.smtp.command('RSET').then(
          (rset) => rset.code === 250,
          () => false,
        );
      }
      return result.answer;
    } finally {
      session?.smtp.end();
      if (session !== null && reusable && !session.smtp.broken) {
        // A resting connection does not keep the process alive.
        (session.smtp.socket as Socket).unref?.();
        this.manners.release(provider, session);
      } else {
        this.manners.discard(provider, session);
      }
    }
  }

  /** Connects to the pinned address (directly or through the proxy), reads the greeting, says EHLO. */
  private async open(
    target: Target,
    key: string,
    deadline: Deadline,
  ): Promise<{ session: Session } | { answer: SmtpAnswer; reply: SmtpReply }> {
    const socket = await this.connect(target.ip, deadline);
    const smtp = new SmtpConversation(socket, this.limits);
    smtp.begin(deadline.signal, deadline.kind);
    try {
      const greeting = await smtp.read();
      if (greeting.code !== 220) {
        smtp.fail('closed');
        return { answer: unavailable('greeting', greeting), reply: greeting };
      }
      const ehlo = await smtp.command(`EHLO ${this.options.helo}`);
      if (ehlo.code !== 250) {
        smtp.fail('closed');
        return { answer: unavailable('ehlo', ehlo), reply: ehlo };
      }
      const session = new Session(key, smtp, /\bSMTPUTF8\b/i.test(ehlo.text), /\bPIPELINING\b/i.test(ehlo.text));
      // A pooled connection the server closes frees its slot at once (a no-op while in use).
      socket.once('close', () => this.manners.dropIdle(target.provider, session));
      return { session };
    } catch (err) {
      smtp.fail('closed');
      throw err;
    }
  }

  private async connect(ip: string, deadline: Deadline): Promise<Socket> {
    if (deadline.signal.aborted) throw new ProbeFailure(deadline.kind());
    const { proxy } = this.options;
    if (proxy !== undefined) {
      const pending = SocksClient.createConnection({
        proxy: {
          host: proxy.host,
          port: proxy.port,
          type: 5,
          ...(proxy.userId !== undefined ? { userId: proxy.userId } : {}),
          ...(proxy.password !== undefined ? { password: proxy.password } : {}),
        },
        command: 'connect',
        destination: { host: ip, port: this.options.port },
        timeout: this.options.timeoutMs,
      });
      return await new Promise<Socket>((resolve, reject) => {
        const onAbort = () => reject(new ProbeFailure(deadline.kind()));
        deadline.signal.addEventListener('abort', onAbort, { once: true });
        pending.then(
          ({ socket }) => {
            deadline.signal.removeEventListener('abort', onAbort);
            if (deadline.signal.aborted) {
              socket.destroy();
              return;
            }
            resolve(socket);
          },
          () => {
            deadline.signal.removeEventListener('abort', onAbort);
            reject(new ProbeFailure('proxy'));
          },
        );
      });
    }
    const socket = new Socket();
    return await new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => fail('connect'), this.options.timeoutMs);
      const fail = (kind: FailureKind) => {
        clearTimeout(timer);
        deadline.signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new ProbeFailure(kind));
      };
      const onAbort = () => fail(deadline.kind());
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', () => fail('connect'));
      socket.once('connect', () => {
        clearTimeout(timer);
        deadline.signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      // An address, never a name: nothing is resolved again here.
      socket.connect({ port: this.options.port, host: ip });
    });
  }

  private async converse(
    session: Session,
    recipient: string,
    domain: string,
    smtputf8: boolean,
    provider: string,
  ): Promise<{ answer: SmtpAnswer; reusable: boolean }> {
    const { smtp } = session;
    if (smtputf8 && !session.supportsUtf8) {
      return { answer: answer('smtp_unavailable', 'no_smtputf8'), reusable: true };
    }
    const mailLine = `MAIL FROM:<${this.options.from}>${smtputf8 ? ' SMTPUTF8' : ''}`;
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
          if (isDeferral(rset)) this.deferral(provider);
          return { answer: unavailable('rset', rset), reusable: false };
        }
      }
      [mail, rcpt] = replies as [SmtpReply, SmtpReply];
      session.rcpts++;
      if (mail.code !== 250) {
        if (isDeferral(mail)) this.deferral(provider);
        return { answer: unavailable('mail', mail), reusable: false };
      }
    } else {
      mail = await smtp.command(mailLine);
      if (mail.code !== 250) {
        if (isDeferral(mail)) this.deferral(provider);
        return { answer: unavailable('mail', mail), reusable: false };
      }
      session.rcpts++;
      rcpt = await smtp.command(rcptLine);
    }
    const reason = classifyRcpt(rcpt);
    if (reason !== null && reason !== 'mailbox_not_found' && isDeferral(rcpt)) {
      this.deferral(provider);
      return { answer: { reason, acceptAll: false, detail: describe('rcpt', rcpt), reply: rcpt }, reusable: false };
    }
    let acceptAll = false;
    if (reason === null && this.options.catchAllCheck) acceptAll = await this.isCatchAll(session, domain);
    return {
      answer: { reason: acceptAll ? 'accept_all' : reason, acceptAll, detail: describe('rcpt', rcpt), reply: rcpt },
      reusable: true,
    };
  }

  /**
   * Whether the domain accepts any local part: from the cache, from a probe in flight on
   * another connection, or by asking with a random one on this connection.
   */
  private async isCatchAll(session: Session, domain: string): Promise<boolean> {
    const hit = this.catchAll.get(domain);
    if (hit !== undefined && hit.expiresAt > this.now()) {
      const v = await hit.value;
      if (v !== null) return v;
    }
    let settle!: (v: boolean | null) => void;
    const pending = new Promise<boolean | null>((r) => {
      settle = r;
    });
    const ttlMs = (this.options.catchAllTtlSeconds ?? 86_400) * 1000;
    if (this.catchAll.size >= 100_000) this.catchAll.delete(this.catchAll.keys().next().value as string);
    this.catchAll.set(domain, { value: pending, expiresAt: this.now() + ttlMs });
    try {
      session.rcpts++;
      const probe = await session.smtp.command(`RCPT TO:<${randomBytes(12).toString('hex')}@${domain}>`);
      // Only a definitive answer is worth keeping; a 4xx says nothing yet.
      if (probe.code >= 400 && probe.code < 500) {
        this.catchAll.delete(domain);
        settle(null);
        return false;
      }
      const accepted = probe.code >= 200 && probe.code < 300;
      this.catchAll.set(domain, { value: accepted, expiresAt: this.now() + ttlMs });
      settle(accepted);
      return accepted;
    } catch (err) {
      this.catchAll.delete(domain);
      settle(null);
      throw err;
    }
  }

  private deferral(provider: string): void {
    const fresh = this.manners.backOff(provider);
    this.options.observer?.probe?.(this.label(provider), 'deferral');
    if (fresh) this.options.observer?.backoff?.(this.label(provider), true);
  }
}

function answer(reason: Reason | null, detail: string): SmtpAnswer {
  return { reason, acceptAll: false, detail, reply: null };
}

function unavailable(step: string, r: SmtpReply): SmtpAnswer {
  return {
    reason: r.code >= 400 && r.code < 500 ? 'greylisted' : 'smtp_unavailable',
    acceptAll: false,
    detail: describe(step, r),
    reply: r,
  };
}

function failureAnswer(kind: FailureKind): SmtpAnswer {
  return answer(kind === 'timeout' || kind === 'deadline' || kind === 'aborted' ? 'timeout' : 'smtp_unavailable', kind);
}

/** `socks5://user:pass@host:port` → the proxy; credentials percent-decoded. */
export function parseSmtpProxy(url: string): SmtpProxy {
  const u = new URL(url);
  if (u.protocol !== 'socks5:' && u.protocol !== 'socks5h:') throw new Error('must be a socks5:// URL');
  if (!u.hostname || !u.port) throw new Error('must name host and port');
  const proxy: SmtpProxy = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  if (u.username) proxy.userId = decodeURIComponent(u.username);
  if (u.password) proxy.password = decodeURIComponent(u.password);
  return proxy;
}

/** The prober `CHECK_SMTP=true` runs, resolving MX hosts with `dns` (or its own resolver when the DNS check is off). */
export function createSmtpProber(
  options: ValidationOptions,
  dns: MxResolver | null,
  observer?: SmtpObserver,
): SmtpProber {
  const resolver =
    dns ??
    new MxResolver({
      servers: (options.dnsServers.length > 0 ? options.dnsServers : getServers()).map(parseDnsServer),
      timeoutMs: options.dnsTimeoutMs,
      tries: options.dnsTries,
      cacheSize: options.dnsCacheSize,
      minTtlSeconds: options.dnsMinTtlSeconds,
      maxTtlSeconds: options.dnsMaxTtlSeconds,
      maxNegativeTtlSeconds: options.dnsMaxNegativeTtlSeconds,
    });
  return new SmtpProber(
    {
      helo: options.smtpHelo,
      from: options.smtpFrom,
      port: options.smtpPort,
      timeoutMs: options.smtpTimeoutMs,
      catchAllCheck: options.smtpCatchAllCheck,
      allowPrivateNetworks: options.smtpAllowPrivateNetworks,
      conversationTimeoutMs: options.smtpConversationTimeoutMs,
      maxReplyBytes: options.smtpMaxReplyBytes,
      maxConversationBytes: options.smtpMaxConversationBytes,
      providerLimits: { ...DEFAULT_PROVIDER_LIMITS, ...options.smtpProviderLimits },
      defaultProviderLimit: {
        concurrency: options.smtpProviderConcurrency,
        ratePerMinute: options.smtpProviderRatePerMinute,
      },
      rcptsPerConnection: options.smtpRcptsPerConnection,
      backoffMs: options.smtpBackoffMs,
      catchAllTtlSeconds: options.smtpCatchAllTtlSeconds,
      proxy: options.smtpProxy === undefined ? undefined : parseSmtpProxy(options.smtpProxy),
      ...(observer ? { observer } : {}),
    },
    resolver,
  );
}
