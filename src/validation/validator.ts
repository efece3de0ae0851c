/**
 * Composes the checks behind the one interface the pipeline sees. Checks run in order of
 * cost — syntax → lists → DNS/MX → HTTP provider → SMTP — and a definitive negative stops
 * the costlier ones (no point asking a provider about a domain without MX).
 */

import { performance } from 'node:perf_hooks';
import { context, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { ValidationOptions } from '../config.js';
import { ProcessorError } from '../errors.js';
import { PROCESSOR_VERSION } from '../version.js';
import { isPublicAddressLiteral } from './address-literal.js';
import type { BreakerState } from './circuit-breaker.js';
import { createMxResolver, type MxCacheStats, type MxHost, type MxLookup, type MxResolver } from './dns.js';
import { type EmailLists, loadEmailLists } from './lists.js';
import type { ProviderSnapshot } from './probe/manners.js';
import { type ProviderAnswer, ProviderClient } from './provider.js';
import { createSmtpProber, type SmtpAnswer, type SmtpObserver, type SmtpProber } from './smtp.js';
import { type ParsedAddress, parseAddress } from './syntax.js';
import type { CheckOutcome, Reason, ValidateOptions, Validator, Verdict } from './types.js';
import { statusFor, VerdictBuilder } from './verdict.js';

export interface ValidatorDeps {
  /** Pre-built lists (tests, or to share one copy between validators). */
  lists?: EmailLists;
  /** A pre-built resolver (tests inject one with a fake clock). */
  dns?: MxResolver;
  /** A pre-built provider client. */
  provider?: ProviderClient;
  /** Told of every provider circuit-breaker state change (metrics hook here). */
  onProviderBreakerStateChange?: (state: BreakerState, previous: BreakerState) => void;
  /** Told of every provider HTTP request's outcome and duration (metrics hook here). */
  onProviderRequest?: (outcome: string, durationMs: number) => void;
  /** Told of SMTP probe outcomes and back-offs per mail provider (metrics hook here). */
  smtpObserver?: SmtpObserver;
}

function outcome(
  name: string,
  reason: Reason | null,
  detail: string | null,
  started: number,
  ended = performance.now(),
): CheckOutcome {
  return { name, status: statusFor(reason), reason, detail, durationMs: ended - started };
}

export interface ValidatorChecks {
  lists: EmailLists | null;
  dns: MxResolver | null;
  provider: ProviderClient | null;
  smtp: SmtpProber | null;
}

export class EmailValidator implements Validator {
  // Taken once per validator, not per module: a tracer provider registered later (the SDK
  // starts before the processor, tests start their own) is still found.
  private readonly tracer: Tracer = trace.getTracer('email-flow-validator', PROCESSOR_VERSION);

  constructor(private readonly checks: ValidatorChecks) {}

  /** SMTP connections per mail provider label, or null while the SMTP check is off. */
  get smtpProviders(): ProviderSnapshot[] | null {
    return this.checks.smtp?.providers() ?? null;
  }

  /** MX cache counters, or null while the DNS check is off. */
  get dnsCacheStats(): MxCacheStats | null {
    return this.checks.dns?.stats ?? null;
  }

  async validate(address: string, options: ValidateOptions): Promise<Verdict> {
    const b = new VerdictBuilder();
    const parsed = this.runLocal(address, b);
    if (parsed === null) return b.build('');
    if (!parsed.ok) return b.build(parsed.normalized);
    // Each I/O check gets a span, a child of the event's process span (the active context).
    // Only outcomes go on it — never the address or its domain.
    const { dns } = this.checks;
    let hosts: MxHost[] | null = null;
    if (dns !== null && !parsed.addressLiteral) {
      const started = performance.now();
      // The warm-cache path stays synchronous: no promise per cached domain.
      const hit = dns.cached(parsed.asciiDomain);
      const lookup = hit ?? (await resolveOrTimeout(dns, parsed.asciiDomain, options.signal));
      hosts = this.recordDnsCheck(b, lookup, started, hit !== undefined);
      applyDnsEvidence(b, this.checks.lists, parsed, lookup);
    }
    const { provider } = this.checks;
    if (provider !== null && !b.undeliverable) {
      const span = this.tracer.startSpan('check provider', { attributes: { 'efv.check.name': 'provider' } });
      const started = performance.now();
      // Active, so the undici instrumentation's HTTP client spans (one per attempt) hang below it.
      const answer = await context.with(trace.setSpan(context.active(), span), () =>
        provider.check(parsed.normalized, options.signal),
      );
      span.setAttribute('efv.provider.attempts', answer.attempts);
      recordProvider(b, answer, started);
      endCheckSpan(span, b, answer.detail);
    }
    const { smtp } = this.checks;
    if (smtp !== null && !b.undeliverable && !parsed.addressLiteral) {
      // Without the DNS check, the domain itself is the only host to try (implicit MX).
      const targets = hosts ?? (dns === null ? [{ exchange: parsed.asciiDomain, preference: 0 }] : []);
      if (targets.length > 0) {
        const span = this.tracer.startSpan('check smtp', { attributes: { 'efv.check.name': 'smtp' } });
        const started = performance.now();
        const answer = await smtp.probe(parsed.local, parsed.asciiDomain, targets, options.signal, parsed.smtputf8);
        recordSmtp(b, answer, started);
        endCheckSpan(span, b, answer.detail);
      }
    }
    return b.build(parsed.normalized, parsed.canonical);
  }

  /**
   * The verdict without I/O, when there is one and neither the provider nor SMTP is on: the
   * local checks decided it, or the DNS check is off or its answer is cached. Undefined otherwise
   * (the caller then runs `validate`). The same checks, spans and verdict as `validate`.
   */
  validateNow(address: string): Verdict | undefined {
    const { dns, provider, smtp } = this.checks;
    // With the provider or SMTP on, almost every address needs I/O: decline before the local
    // checks, which `validate` would otherwise run a second time.
    if (provider !== null || smtp !== null) return undefined;
    const b = new VerdictBuilder();
    const parsed = this.runLocal(address, b);
    if (parsed === null) return b.build('');
    if (!parsed.ok) return b.build(parsed.normalized);
    if (dns !== null && !parsed.addressLiteral) {
      const started = performance.now();
      const hit = dns.cached(parsed.asciiDomain);
      if (hit === undefined) return undefined;
      this.recordDnsCheck(b, hit, started, true);
      applyDnsEvidence(b, this.checks.lists, parsed, hit);
    }
    return b.build(parsed.normalized, parsed.canonical);
  }

  /** Records the DNS check (and its span); returns the MX hosts to probe, if any. */
  private recordDnsCheck(
    b: VerdictBuilder,
    lookup: MxLookup | 'aborted',
    started: number,
    cached: boolean,
  ): MxHost[] | null {
    // Started after the fact: a cached answer took no time, and a lookup's span would need
    // the context across the await; its duration is the check's own measure.
    const span = this.tracer.startSpan('check dns', {
      attributes: { 'efv.check.name': 'dns', 'efv.dns.cached': cached },
      startTime: performance.timeOrigin + started,
    });
    recordDns(b, lookup, started);
    endCheckSpan(span, b, lookup === 'aborted' ? 'aborted' : lookup.kind);
    return lookup !== 'aborted' && (lookup.kind === 'mx' || lookup.kind === 'implicit_mx') ? lookup.hosts : null;
  }

  /** Only the synchronous local checks (syntax and lists), for callers and benchmarks that want no I/O. */
  validateLocal(address: string): Verdict {
    const b = new VerdictBuilder();
    const parsed = this.runLocal(address, b);
    if (parsed === null) return b.build('');
    return b.build(parsed.normalized, parsed.ok ? parsed.canonical : null);
  }

  /** Syntax then lists; returns the parse (or null for a non-string), having recorded both checks. */
  private runLocal(address: string, b: VerdictBuilder): ReturnType<typeof parseAddress> | null {
    const started = performance.now();
    if (typeof address !== 'string') {
      b.addCheck(outcome('syntax', 'invalid_syntax', 'not_a_string', started));
      return null;
    }
    const parsed = parseAddress(address);
    if (!parsed.ok) {
      b.addCheck(outcome('syntax', parsed.reason, parsed.detail, started));
      return parsed;
    }
    if (parsed.smtputf8) b.flag('smtputf8');
    if (parsed.addressLiteral) {
      // Judged here and never probed: DNS, the lists and SMTP all skip literals.
      const pub = isPublicAddressLiteral(parsed.asciiDomain);
      b.addCheck(
        outcome(
          'syntax',
          pub ? 'address_literal' : 'invalid_domain',
          pub ? 'address_literal_public' : 'address_literal_private',
          started,
        ),
      );
      return parsed;
    }
    // One clock read between the checks: the end of syntax is the start of lists.
    const syntaxEnded = performance.now();
    b.addCheck(outcome('syntax', null, null, started, syntaxEnded));
    const { lists } = this.checks;
    if (lists !== null) {
      const { reason, detail } = applyLists(b, lists, parsed);
      b.addCheck(outcome('lists', reason, detail, syntaxEnded));
    }
    return parsed;
  }

  async close(): Promise<void> {
    this.checks.smtp?.close();
    await this.checks.provider?.close();
  }
}

/**
 * Flags what the lists know about the address and returns the lists check's reason. A
 * typo of a big provider is reported as `possible_typo` even when a disposable list
 * carries the typo domain (typo-squats are listed): the suggestion is what the sign-up
 * form should show. A privacy relay gets the `relay` flag and no risk.
 */
function applyLists(
  b: VerdictBuilder,
  lists: EmailLists,
  parsed: ParsedAddress,
): { reason: Reason | null; detail: string | null } {
  const facts = lists.domainFacts(parsed.asciiDomain);
  let reason: Reason | null = null;
  let detail: string | null = null;
  if (facts.suggestion !== null) {
    reason = 'possible_typo';
    b.suggest(`${parsed.local}@${facts.suggestion}`);
    detail = `did_you_mean=${facts.suggestion}`;
  }
  if (facts.disposable) {
    reason ??= 'disposable';
    b.flag('disposable');
    if (facts.denied) detail ??= 'deny_list';
  }
  if (lists.isRole(parsed.local)) {
    reason ??= 'role';
    b.flag('role');
  }
  if (facts.free) b.flag('free');
  if (facts.relay) b.flag('relay');
  return { reason, detail };
}

/**
 * DNS evidence for a typo: a domain one edit from a provider with a short name (`aoll.com`)
 * is only suggested once DNS says it receives no mail (NXDOMAIN, or no MX and no address);
 * where it has mail servers it is somebody's real domain.
 */
function applyDnsEvidence(
  b: VerdictBuilder,
  lists: EmailLists | null,
  parsed: ParsedAddress,
  lookup: MxLookup | 'aborted',
): void {
  if (lists === null || b.hasSuggestion || lookup === 'aborted') return;
  if (lookup.kind !== 'nxdomain' && lookup.kind !== 'no_mx') return;
  const weak = lists.domainFacts(parsed.asciiDomain).weakSuggestion;
  if (weak !== null) b.suggest(`${parsed.local}@${weak}`);
}

/** Ends a check span with the outcome just recorded (the builder's last check). */
function endCheckSpan(span: Span, b: VerdictBuilder, detail: string | null): void {
  const last = b.lastCheck;
  if (last) {
    span.setAttribute('efv.check.status', last.status);
    if (last.reason) span.setAttribute('efv.check.reason', last.reason);
    // An unknown outcome is a failed dependency call: an error on the trace, not on the event.
    if (last.status === 'unknown') span.setStatus({ code: SpanStatusCode.ERROR, message: last.reason ?? 'unknown' });
  }
  if (detail !== null) span.setAttribute('efv.check.detail', detail);
  span.end();
}

async function resolveOrTimeout(dns: MxResolver, domain: string, signal: AbortSignal): Promise<MxLookup | 'aborted'> {
  try {
    return await dns.resolveMx(domain, signal);
  } catch {
    // resolveMx only rejects when this caller's signal fired.
    return 'aborted';
  }
}

/** DNS answers to verdict reasons. Only definitive answers may be undeliverable. */
function recordDns(b: VerdictBuilder, lookup: MxLookup | 'aborted', started: number): void {
  if (lookup === 'aborted') {
    b.addCheck(outcome('dns', 'timeout', 'aborted', started));
    return;
  }
  switch (lookup.kind) {
    case 'mx':
      b.flag('has_mx');
      b.addCheck(outcome('dns', null, `mx=${lookup.hosts[0]?.exchange ?? ''}`, started));
      return;
    case 'implicit_mx':
      b.addCheck(outcome('dns', null, 'implicit_mx', started));
      return;
    case 'null_mx':
      b.addCheck(outcome('dns', 'null_mx', 'null_mx', started));
      return;
    case 'no_mx':
      b.addCheck(outcome('dns', 'no_mx', 'no_mx', started));
      return;
    case 'nxdomain':
      b.addCheck(outcome('dns', 'invalid_domain', 'nxdomain', started));
      return;
    case 'unavailable':
      b.addCheck(outcome('dns', 'dns_unavailable', lookup.detail, started));
      return;
  }
}

function recordProvider(b: VerdictBuilder, answer: ProviderAnswer, started: number): void {
  for (const f of answer.flags) b.flag(f);
  if (answer.suggestion !== null && !b.hasSuggestion) b.suggest(answer.suggestion);
  const detail = answer.attempts > 1 ? `${answer.detail} attempts=${answer.attempts}` : answer.detail;
  b.addCheck(outcome('provider', answer.reason, detail, started));
}

function recordSmtp(b: VerdictBuilder, answer: SmtpAnswer, started: number): void {
  if (answer.acceptAll) b.flag('accept_all');
  b.addCheck(outcome('smtp', answer.reason, answer.detail, started));
}

/** The validator the pipeline runs, built from the `validation` slice of the configuration. */
export function createValidator(options: ValidationOptions, deps: ValidatorDeps = {}): EmailValidator {
  const lists = options.listsEnabled
    ? (deps.lists ?? loadEmailLists({ allowListFile: options.allowListFile, denyListFile: options.denyListFile }))
    : null;
  let dns: MxResolver | null = null;
  if (options.dnsEnabled) {
    dns = deps.dns ?? createMxResolver(options);
  }
  let provider: ProviderClient | null = null;
  if (options.providerEnabled) {
    if (deps.provider) {
      provider = deps.provider;
    } else {
      if (!options.providerUrl) throw new ProcessorError('CONFIG_INVALID', 'CHECK_PROVIDER=true needs PROVIDER_URL');
      provider = new ProviderClient({
        url: options.providerUrl,
        apiKey: options.providerApiKey,
        ratePerSecond: options.providerRatePerSecond,
        burst: options.providerBurst,
        concurrency: options.providerConcurrency,
        retries: options.providerRetries,
        backoffBaseMs: options.providerBackoffBaseMs,
        backoffMaxMs: options.providerBackoffMaxMs,
        maxRetryAfterMs: options.providerBackoffMaxMs,
        connectTimeoutMs: options.providerConnectTimeoutMs,
        headersTimeoutMs: options.providerHeadersTimeoutMs,
        bodyTimeoutMs: options.providerBodyTimeoutMs,
        breakerThreshold: options.providerBreakerThreshold,
        breakerCooldownMs: options.providerBreakerCooldownMs,
        cacheTtlSeconds: options.providerCacheTtlSeconds,
        cacheSize: options.providerCacheSize,
        ...(deps.onProviderBreakerStateChange ? { onBreakerStateChange: deps.onProviderBreakerStateChange } : {}),
        ...(deps.onProviderRequest ? { onRequest: deps.onProviderRequest } : {}),
      });
    }
  }
  const smtp = options.smtpEnabled ? createSmtpProber(options, dns, deps.smtpObserver) : null;
  return new EmailValidator({ lists, dns, provider, smtp });
}
