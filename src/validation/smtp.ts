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
 *
 * This file holds the prober: options, pooling per provider, retries of stale connections
 * and back-off. Its parts live in probe/: targets.ts (MX names → pinned addresses),
 * connect.ts (TCP or SOCKS5, the probe's deadline), envelope.ts (greeting, EHLO, MAIL, RCPT),
 * replies.ts (the mapping above), catch-all.ts (the per-domain cache), session.ts (a pooled
 * connection), conversation.ts (the bounded reply reader), manners.ts (limits per provider).
 */
import type { Socket } from 'node:net';
import type { ValidationOptions } from '../config.js';
import { createMxResolver, type MxHost, type MxResolver } from './dns.js';
import { CatchAllCache } from './probe/catch-all.js';
import { connectTo, type Deadline, parseSmtpProxy, probeDeadline, type SmtpProxy } from './probe/connect.js';
import {
  type ConversationLimits,
  type FailureKind,
  type ProbeChannel,
  ProbeFailure,
  type SmtpReply,
} from './probe/conversation.js';
import { converse, openSession } from './probe/envelope.js';
import {
  DEFAULT_PROVIDER_LIMITS,
  type ProviderLimit,
  ProviderManners,
  type ProviderSnapshot,
} from './probe/manners.js';
import { answer, backoffAnswer, failureAnswer, isDeferral, type SmtpAnswer } from './probe/replies.js';
import { type Session, StaleConnection } from './probe/session.js';
import { type HostResolver, probeTargets, type Target } from './probe/targets.js';

export { parseSmtpProxy, type SmtpProxy } from './probe/connect.js';
export type { SmtpReply } from './probe/conversation.js';
export { classifyRcpt, isDeferral, replyText, type SmtpAnswer } from './probe/replies.js';
export type { HostResolver } from './probe/targets.js';

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

export class SmtpProber {
  private readonly manners: ProviderManners<Session>;
  private readonly catchAll: CatchAllCache;
  private readonly now: () => number;
  private readonly limits: ConversationLimits;
  private readonly providerLimits: Readonly<Record<string, ProviderLimit>>;

  constructor(
    private readonly options: SmtpProbeOptions,
    private readonly resolver: HostResolver,
  ) {
    this.now = options.now ?? Date.now;
    this.catchAll = new CatchAllCache((options.catchAllTtlSeconds ?? 86_400) * 1000, this.now);
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
    const deadline = probeDeadline(signal, this.options.conversationTimeoutMs ?? 8000);
    try {
      return await this.probeWithin(local, asciiDomain, hosts, deadline, smtputf8);
    } finally {
      deadline.dispose();
    }
  }

  private async probeWithin(
    local: string,
    domain: string,
    hosts: MxHost[],
    deadline: Deadline,
    smtputf8: boolean,
  ): Promise<SmtpAnswer> {
    const resolved = await probeTargets(
      hosts,
      this.resolver,
      { maxHosts: this.options.maxHosts ?? 2, allowPrivateNetworks: this.options.allowPrivateNetworks ?? false },
      deadline,
    );
    if ('answer' in resolved) return resolved.answer;
    let last: SmtpAnswer = answer('smtp_unavailable', 'no_mx_host');
    for (const target of resolved.targets) {
      const left = this.manners.backoffLeft(target.provider);
      if (left > 0) {
        this.options.observer?.probe?.(this.label(target.provider), 'backoff');
        return backoffAnswer(left);
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
    let channel: ProbeChannel | null = null;
    let reusable = false;
    // Handed to the next probe for this address while its replies were still coming.
    let handedOn = false;
    try {
      // A probe that waited for its slot while the provider deferred another one goes no further.
      const left = this.manners.backoffLeft(provider);
      if (left > 0) return backoffAnswer(left);
      if (session === null) {
        const opened = await this.open(target, key, deadline);
        if ('answer' in opened) {
          if (isDeferral(opened.reply)) this.deferral(provider);
          return opened.answer;
        }
        ({ session, channel } = opened);
      } else {
        (session.smtp.socket as Socket).ref?.();
        channel = session.smtp.begin(deadline.signal, deadline.kind);
      }
      const rcptLimit = this.options.rcptsPerConnection ?? 20;
      const pooled = session;
      let result: { answer: SmtpAnswer; reusable: boolean };
      const handOff = () => {
        handedOn = this.manners.handOff(provider, pooled);
      };
      pooled.inFlight++;
      try {
        result = await converse(
          session,
          channel,
          { from: this.options.from, recipient: `${local}@${domain}`, domain, smtputf8 },
          this.options.catchAllCheck ? this.catchAll : null,
          () => this.deferral(provider),
          () => {
            // Pipelined: the next probe for this address may send its commands right away,
            // so the server has them when this RCPT is answered; at most two in flight.
            if (pooled.rcpts >= rcptLimit) return;
            if (pooled.inFlight === 1) handOff();
            else pooled.handOffLater = handOff;
          },
        );
      } catch (err) {
        const reused = got !== 'open';
        // Closed before it answered this probe anything: a resting connection the server had
        // dropped, or one that a probe before this one (pipelined) ended by its deadline.
        if (reused && err instanceof ProbeFailure && err.kind === 'closed' && channel.received === 0)
          throw new StaleConnection();
        throw err;
      } finally {
        pooled.inFlight--;
        const later = pooled.handOffLater;
        if (later === handOff) pooled.handOffLater = null;
        else if (later !== null && pooled.inFlight === 1 && !pooled.smtp.broken) {
          // The probe behind this one may hand the connection on now.
          pooled.handOffLater = null;
          later();
        }
      }
      if (handedOn) return result.answer;
      reusable = result.reusable && session.rcpts < rcptLimit;
      if (reusable && !session.pipelining) {
        // The answer stands whatever RSET gets: only the connection's reuse depends on it.
        reusable = await channel.command('RSET').then(
          (rset) => rset.code === 250,
          () => false,
        );
      }
      return result.answer;
    } finally {
      channel?.end();
      if (handedOn) {
        // The connection and its slot are the next probe's now.
      } else if (session !== null && reusable && !session.smtp.broken) {
        // A resting connection does not keep the process alive.
        if (session.smtp.pending === 0) (session.smtp.socket as Socket).unref?.();
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
  ): Promise<{ session: Session; channel: ProbeChannel } | { answer: SmtpAnswer; reply: SmtpReply }> {
    const socket = await connectTo(target.ip, this.options, deadline);
    const opened = await openSession(socket, key, this.limits, this.options.helo, deadline);
    if ('session' in opened) {
      const { session } = opened;
      // A pooled connection the server closes frees its slot at once (a no-op while in use).
      socket.once('close', () => this.manners.dropIdle(target.provider, session));
    }
    return opened;
  }

  private deferral(provider: string): void {
    const fresh = this.manners.backOff(provider);
    this.options.observer?.probe?.(this.label(provider), 'deferral');
    if (fresh) this.options.observer?.backoff?.(this.label(provider), true);
  }
}

/** The prober `CHECK_SMTP=true` runs, resolving MX hosts with `dns` (or its own resolver when the DNS check is off). */
export function createSmtpProber(
  options: ValidationOptions,
  dns: MxResolver | null,
  observer?: SmtpObserver,
): SmtpProber {
  const resolver = dns ?? createMxResolver(options);
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
