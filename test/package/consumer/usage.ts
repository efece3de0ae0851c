// The README's usage patterns, type-checked under `strict` against the packed package
// (test/package/package.test.ts copies this file into an ESM and a CommonJS project).
import { SpanKind, trace } from '@opentelemetry/api';
import {
  type AddressVerdict,
  createValidator,
  DEAD_LETTER_CODES,
  type DeadLetterCode,
  FLAGS,
  type Flag,
  injectTraceContext,
  publishSignup,
  REASONS,
  type Reason,
  type RiskyReason,
  readResultRecord,
  resultRegistryCodec,
  type SignupEvent,
  signupRecord,
  signupRegistryCodec,
  type UnknownReason,
  type ValidationResult,
  VERDICTS,
  type VerdictKind,
  verdictOf,
} from 'email-flow-validator';
import { Kafka } from 'kafkajs';

declare const user: { id: string };
declare const form: { email: string };
declare function sendWelcome(address: string): Promise<void>;
declare function askToConfirm(address: string, reason: RiskyReason, suggestion: string | null): Promise<void>;

export async function publishing(brokers: string[]): Promise<void> {
  const producer = new Kafka({ clientId: 'signup-service', brokers }).producer({ idempotent: true });
  await producer.connect();
  const event: SignupEvent = {
    eventId: 'e-1',
    userId: user.id,
    email: form.email,
    occurredAt: Date.now(),
    source: 'web',
    locale: null,
  };
  await publishSignup(producer, 'signups', event);

  // Batching: records built by signupRecord, the trace context added to their headers.
  const records = [event, { ...event, eventId: 'e-2' }].map((e) => signupRecord(e, { format: 'json' }));
  for (const record of records) injectTraceContext(record.headers);
  await producer.send({ topic: 'signups', messages: records });

  const signups = signupRegistryCodec({ url: 'http://schema-registry:8081' });
  await publishSignup(producer, 'signups', event, { registry: signups });
}

export async function consuming(kafka: Kafka): Promise<void> {
  const tracer = trace.getTracer('welcome-mailer');
  const consumer = kafka.consumer({ groupId: 'welcome-mailer' });
  await consumer.subscribe({ topics: ['signups.valid'] });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (verdictOf(message.headers) === 'unknown') return;
      const { result, traceContext } = readResultRecord(message);
      const span = tracer.startSpan('signups.valid process', { kind: SpanKind.CONSUMER }, traceContext);
      if (result.verdict === 'deliverable') await sendWelcome(result.normalizedEmail);
      else if (result.verdict === 'risky') await askToConfirm(result.normalizedEmail, result.reason, result.suggestion);
      span.end();
    },
  });
  const results = resultRegistryCodec({ url: 'http://schema-registry:8081' });
  const decoded: ValidationResult = await results.decodeAsync(Buffer.from([]));
  void decoded;
}

/** The union is discriminated by verdict: each branch's reason is typed from its own list. */
export function describe(result: ValidationResult): string {
  switch (result.verdict) {
    case 'deliverable': {
      const none: null = result.reason;
      return String(none);
    }
    case 'undeliverable':
      return result.reason === 'no_mx' ? 'no mail server' : result.reason;
    case 'risky':
      // @ts-expect-error -- a typo in a reason does not compile
      if (result.reason === 'disposible') return 'never';
      return result.reason;
    case 'unknown': {
      const r: UnknownReason = result.reason;
      return r;
    }
    default: {
      const never: never = result;
      return never;
    }
  }
}

export function lists(): void {
  const v: readonly VerdictKind[] = VERDICTS;
  const r: readonly Reason[] = REASONS;
  const f: readonly Flag[] = FLAGS;
  const c: readonly DeadLetterCode[] = DEAD_LETTER_CODES;
  // @ts-expect-error -- flags are typed too
  const bad: Flag = 'has_mxx';
  void [v, r, f, c, bad];
}

export async function signUpForm(address: string): Promise<string | null> {
  const validator = createValidator({ env: { CHECK_DNS: 'false' } });
  try {
    const verdict: AddressVerdict = await validator.validate(address);
    if (verdict.verdict === 'undeliverable') return `not an address we can reach (${verdict.reason})`;
    return verdict.suggestion ? `did you mean ${verdict.suggestion}?` : null;
  } finally {
    await validator.close();
  }
}
