/**
 * Verdicts without Kafka: the engine `run` uses, built from the same settings (environment
 * variables), for a sign-up form that wants a verdict (and the typo suggestion) at once,
 * and for `email-flow-validator validate`.
 */
import { type Config, type Env, loadConfig } from './config.js';
import type { AddressVerdict, VerdictReason } from './contract/verdicts.js';
import { ProcessorError } from './errors.js';
import type { Verdict } from './validation/types.js';
import { createValidator as createEngine, type EmailValidator } from './validation/validator.js';
import { checkRecords } from './validation/verdict.js';

export interface CreateValidatorOptions {
  /**
   * The settings, as environment variables (CHECK_DNS, DNS_SERVERS, CHECK_PROVIDER,
   * PROVIDER_URL, VALIDATION_TIMEOUT_MS, …; see the README's Configuration). Defaults to
   * process.env, so a service configured like the processor gets the same verdicts.
   */
  env?: Env;
}

export interface AddressValidator {
  /**
   * The verdict for one address. A validation past VALIDATION_TIMEOUT_MS is `unknown` /
   * `timeout`, as in the processor; rejects only if a check failed unexpectedly (a bug).
   */
  validate(address: string, options?: { signal?: AbortSignal }): Promise<AddressVerdict>;
  /** Releases the provider's connection pool. */
  close(): Promise<void>;
}

/**
 * A validator with the checks and settings `email-flow-validator run` would use. Throws a
 * ProcessorError (CONFIG_INVALID) naming every bad setting.
 */
export function createValidator(options: CreateValidatorOptions = {}): AddressValidator {
  const config = loadConfig(options.env ?? process.env);
  return new Engine(config, createEngine(config.validation));
}

/** The public verdict shape of an engine verdict (the result record's field names). */
export function toAddressVerdict(email: string, v: Verdict): AddressVerdict {
  return {
    email,
    normalizedEmail: v.normalized,
    // The engine sets the reason from the verdict's own list (src/validation/verdict.ts).
    ...({ verdict: v.verdict, reason: v.reason } as VerdictReason),
    flags: v.flags,
    suggestion: v.suggestion,
    checks: checkRecords(v.checks),
  };
}

class Engine implements AddressValidator {
  constructor(
    private readonly config: Config,
    private readonly engine: EmailValidator,
  ) {}

  async validate(address: string, options: { signal?: AbortSignal } = {}): Promise<AddressVerdict> {
    const now = this.engine.validateNow(address);
    if (now) return toAddressVerdict(address, now);
    const abort = new AbortController();
    const onAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.config.pipeline.validationTimeoutMs);
    });
    try {
      const verdict = await Promise.race([this.engine.validate(address, { signal: abort.signal }), expired]);
      if (verdict !== null) return toAddressVerdict(address, verdict);
      // Past the deadline the processor answers unknown/timeout; so does this.
      abort.abort();
      return {
        email: address,
        normalizedEmail: address.trim(),
        verdict: 'unknown',
        reason: 'timeout',
        flags: [],
        suggestion: null,
        checks: [],
      };
    } catch (err) {
      throw new ProcessorError('VALIDATION_ERROR', `validator failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
