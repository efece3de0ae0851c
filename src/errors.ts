/**
 * Errors with a stable code, on one small base class (`ProcessorError { code, retriable,
 * cause }`). Two sets of codes, kept apart:
 *
 * - **record codes** (`DEAD_LETTER_CODES`, src/contract/verdicts.ts): why one record became
 *   a dead letter. They are data, part of the dead-letter contract (the `efv-error-code`
 *   header), and never stop anything; their texts live with the contract.
 * - **operational codes** (`OPERATIONAL_ERRORS`, below): why a command or the processor
 *   could not go on (the command line, the configuration, a topic, the brokers, the schema
 *   registry, a replay). Each has its one text here, with its exit code and what an
 *   operator does; the CLI prints the code before the message, the processor logs it, and
 *   the table in docs/ARCHITECTURE.md is generated from this one (`npm run docs:env`).
 *
 * Classify a failure by its code, never by its message text. A message carries the
 * specifics (which variable, which topic, the broker's reason); the code says what kind.
 */
import { DEAD_LETTER_CODES, type DeadLetterCode, RETRIABLE_DEAD_LETTER_CODES } from './contract/verdicts.js';

export interface OperationalErrorSpec {
  /** The CLI's exit code: 2 when nothing was done (fix the input and run again), 1 when a command failed while working. */
  readonly exit: 1 | 2;
  /** Whether the same work may succeed later unchanged (a broker back, a registry up again). */
  readonly retriable: boolean;
  /** When the code is used. */
  readonly when: string;
  /** What an operator does about it. */
  readonly action: string;
}

export const OPERATIONAL_ERRORS = {
  USAGE_INVALID: {
    exit: 2,
    retriable: false,
    when: 'the command line is wrong: an unknown command or option, a bad option value, options that exclude each other',
    action: 'see `email-flow-validator <command> --help` (the message names the option)',
  },
  CONFIG_INVALID: {
    exit: 2,
    retriable: false,
    when: 'a setting is invalid, contradicts another, or names a file that cannot be read (TLS, allow/deny lists); every problem is named at once',
    action: 'fix the variables; `config --check` checks them all without connecting to anything',
  },
  INPUT_FILE_INVALID: {
    exit: 2,
    retriable: false,
    when: 'a file given to a command cannot be read or is unusable: the bad lines of a `produce --file` NDJSON file (every one listed; nothing was sent), a `config --file` without generated tables',
    action: 'fix the file (each bad line is named as file:line: reason)',
  },
  TOPIC_MISSING: {
    exit: 2,
    retriable: false,
    when: "a topic the command needs does not exist: the processor's input, result, retry or dead-letter topics at start, the target of `produce` or `replay-dlq`",
    action: 'create them with `email-flow-validator topics`, or fix the `*_TOPIC` variables',
  },
  EXACTLY_ONCE_UNAVAILABLE: {
    exit: 2,
    retriable: false,
    when: '`DELIVERY=exactly-once` but the consumer-group fencing of transactional offset commits could not be installed (the KafkaJS build differs from the one it was written for)',
    action: 'run the pinned kafkajs version, or `DELIVERY=at-least-once`',
  },
  HTTP_PORT_UNAVAILABLE: {
    exit: 2,
    retriable: false,
    when: '`run` cannot serve /healthz, /readyz and /metrics: `HTTP_PORT` is taken (`EADDRINUSE`), not allowed (`EACCES`), or `HTTP_HOST` is no address of this host',
    action: 'choose another `HTTP_PORT` (0 picks a free one, -1 turns the server off) or fix `HTTP_HOST`',
  },
  UNSUPPORTED: {
    exit: 2,
    retriable: false,
    when: 'the command cannot run from here: `bench` outside a clone of the repository',
    action: 'run it from a clone (`npm ci`, then `npm run bench`)',
  },
  TOPIC_CREATION_REFUSED: {
    exit: 1,
    retriable: false,
    when: "the brokers refused to create a topic; each topic is named with the broker's reason (e.g. `INVALID_REPLICATION_FACTOR`, `TOPIC_AUTHORIZATION_FAILED`)",
    action: 'lower `--replication-factor` to the number of brokers, or grant the ACL / meet the topic policy',
  },
  KAFKA_FAILED: {
    exit: 1,
    retriable: true,
    when: 'the brokers could not be reached or refused a request of a command (connection, TLS, SASL, authorization, no partition leaders)',
    action: 'check `KAFKA_BROKERS`, the `KAFKA_SSL_*`/`KAFKA_SASL_*` settings and the ACLs, and that the cluster is up',
  },
  CONSUMER_CRASHED: {
    exit: 1,
    retriable: false,
    when: "the processor's consumer crashed and KafkaJS does not restart it (group authorization, coordinator unreachable past its retries); the processor stops",
    action:
      'check the `KAFKA_*` credentials, the group ACLs and the group coordinator; the restart reads again from the committed offsets',
  },
  PUBLISH_FAILED: {
    exit: 1,
    retriable: true,
    when: 'results could not be written after 20 attempts with new producers (brokers unreachable, `NOT_ENOUGH_REPLICAS`, ACLs), or an exactly-once transaction failed for good; the processor stops, as no input offset may be committed past them',
    action:
      "restore the brokers or the topic's ISR/ACLs; the restart replays the uncommitted window (an open transaction is aborted), nothing is lost",
  },
  SCHEMA_REGISTRY_FAILED: {
    exit: 1,
    retriable: true,
    when: "the schema registry refused a request or could not be reached (at start: registering the result schemas; the message has the HTTP status and the registry's error code)",
    action:
      "check `SCHEMA_REGISTRY_URL` and its credentials, and the subject's compatibility setting for a refused schema",
  },
  SCHEMA_NOT_REGISTERED: {
    exit: 1,
    retriable: false,
    when: '`AvroRegistryCodec.encode` for a topic whose schema was not registered first (a bug of the caller)',
    action: 'call `register(topic)` once first, or use `encodeAsync`',
  },
  REPLAY_CONCURRENT: {
    exit: 1,
    retriable: true,
    when: 'another `replay-dlq` with the same filter and destination holds some of the dead-letter partitions',
    action: 'run it again once the other one has finished (the consumer group is named in the message)',
  },
  INTERNAL: {
    exit: 1,
    retriable: false,
    when: 'an error no other code covers reached the top of a command or of the processor (which stops): a bug, or a failure of a library not classified yet',
    action: 'report it with the log lines before it; a restarted processor reads again from the committed offsets',
  },
} as const satisfies Record<string, OperationalErrorSpec>;

export type OperationalCode = keyof typeof OPERATIONAL_ERRORS;
export type { DeadLetterCode };
/** Every code an error of ours can carry: a record code or an operational one. */
export type ErrorCode = DeadLetterCode | OperationalCode;

/** The closed set of codes, both kinds, each with whether it is retriable by default. */
export const ErrorCodes: Readonly<
  Record<ErrorCode, { readonly kind: 'record' | 'operational'; readonly retriable: boolean }>
> = Object.freeze({
  ...(Object.fromEntries(
    DEAD_LETTER_CODES.map((c) => [
      c,
      { kind: 'record', retriable: (RETRIABLE_DEAD_LETTER_CODES as readonly string[]).includes(c) },
    ]),
  ) as Record<DeadLetterCode, { kind: 'record'; retriable: boolean }>),
  ...(Object.fromEntries(
    Object.entries(OPERATIONAL_ERRORS).map(([c, s]) => [c, { kind: 'operational', retriable: s.retriable }]),
  ) as Record<OperationalCode, { kind: 'operational'; retriable: boolean }>),
});

export function isOperationalCode(code: string): code is OperationalCode {
  return Object.hasOwn(OPERATIONAL_ERRORS, code);
}

export class ProcessorError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    // A record code is data (why a record was dead-lettered), made for every such record and
    // never thrown past the router: its stack would say nothing, and capturing one costs
    // microseconds a record. Operational errors keep theirs.
    const record = ErrorCodes[code]?.kind === 'record';
    const limit = Error.stackTraceLimit;
    if (record) Error.stackTraceLimit = 0;
    try {
      super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    } finally {
      if (record) Error.stackTraceLimit = limit;
    }
    this.name = 'ProcessorError';
    this.code = code;
    this.retriable = options?.retriable ?? ErrorCodes[code].retriable;
  }
}

export function isProcessorError(err: unknown): err is ProcessorError {
  return err instanceof ProcessorError;
}

/**
 * CONFIG_INVALID listing every problem, one a line: the one form of a configuration error,
 * whoever finds the problems (the variables, the files they name, the validator's settings).
 */
export class ConfigError extends ProcessorError {
  constructor(readonly problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The problems a configuration error names, or its message for any other error. */
export function problemsOf(err: unknown): readonly string[] {
  return err instanceof ConfigError ? err.problems : [String((err as Error)?.message ?? err)];
}

/**
 * The code of any error that reached the top: ours as it is; an error KafkaJS raised
 * (connection, authentication, a protocol error) KAFKA_FAILED; anything else INTERNAL.
 */
export function codeOf(err: unknown): ErrorCode {
  if (isProcessorError(err)) return err.code;
  const name = (err as Error | undefined)?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS') ? 'KAFKA_FAILED' : 'INTERNAL';
}

/** The error as one of ours: itself if it has a code, else wrapped (KAFKA_FAILED or INTERNAL) with it as the cause. */
export function asProcessorError(err: unknown): ProcessorError {
  if (isProcessorError(err)) return err;
  return new ProcessorError(codeOf(err), String((err as Error)?.message ?? err), { cause: err });
}

/** Failures are data: each stage returns ok or a typed failure, and the router decides. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ProcessorError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: ProcessorError): Result<T> => ({ ok: false, error });
