import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { createLogger, redactAddress, setLogAddresses } from '../../src/telemetry/logger.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw } from '../helpers/processor.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { json, startTestProvider, type TestProvider } from '../validation/provider-test-server.js';

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  [k: string]: unknown;
}

/** A pino destination that keeps every line, parsed, and the raw text. */
function captureLogs(): { stream: Writable; lines: LogLine[]; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return {
    stream,
    get lines() {
      return chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine);
    },
    raw: () => chunks.join(''),
  };
}

const INFO = 30;

describe('logs', () => {
  afterEach(() => setLogAddresses(false));

  it('redacts address fields and hashes addresses unless LOG_ADDRESSES is on', () => {
    const cap = captureLogs();
    const log = createLogger({ logLevel: 'debug' }, cap.stream).child({ component: 'test' });
    log.info({ email: 'anna@example.com', nested: { address: 'bob@example.com' } }, 'judged');
    const hashed = redactAddress('anna@example.com');
    expect(hashed).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(redactAddress('anna@example.com')).toBe(hashed);
    setLogAddresses(true);
    expect(redactAddress('anna@example.com')).toBe('anna@example.com');
    expect(cap.raw()).not.toContain('@example.com');
    expect(cap.lines[0]).toMatchObject({ email: '[redacted]', nested: { address: '[redacted]' }, component: 'test' });
  });

  it('LOG_ADDRESSES shows address fields in clear at debug level only, and secrets never', () => {
    setLogAddresses(true);
    const debug = captureLogs();
    createLogger({ logLevel: 'debug' }, debug.stream).debug(
      { email: 'anna@example.com', nested: { address: 'bob@example.com', apiKey: 'k-123' }, password: 'p' },
      'judged',
    );
    expect(debug.lines[0]).toMatchObject({
      email: 'anna@example.com',
      nested: { address: 'bob@example.com', apiKey: '[redacted]' },
      password: '[redacted]',
    });
    const info = captureLogs();
    createLogger({ logLevel: 'info' }, info.stream).info({ email: 'anna@example.com' }, 'judged');
    expect(info.lines[0]).toMatchObject({ email: '[redacted]' });
    expect(info.raw()).not.toContain('@example.com');
  });

  describe('a run against the real broker', () => {
    let svc: TestService | undefined;
    let provider: TestProvider | undefined;
    afterAll(async () => {
      await svc?.stop();
      await provider?.close();
    });

    it('has no address or user id in any line, and one line per state change, not per event', async () => {
      provider = await startTestProvider();
      provider.handle = (_req, res) => json(res, 500, { error: 'down' });
      const cap = captureLogs();
      svc = await startTestService({
        partitions: 2,
        // Debug as well: addresses must not appear there either while LOG_ADDRESSES is off.
        logger: createLogger({ logLevel: 'debug' }, cap.stream),
        env: {
          CHECK_PROVIDER: 'true',
          PROVIDER_URL: provider.url,
          PROVIDER_RETRIES: '0',
          PROVIDER_BREAKER_THRESHOLD: '3',
          PROVIDER_BREAKER_COOLDOWN_MS: '600000',
        },
      });
      const t = svc.topics;
      const n = 40;
      const events = Array.from({ length: n }, (_, i) => ({
        key: `user-${1000 + i}`,
        value: encodeSignupEvent({
          eventId: `evt-${i}`,
          userId: `user-${1000 + i}`,
          email: `person.${1000 + i}@example.org`,
          occurredAt: 1_764_300_000_000,
          source: null,
          locale: null,
        }),
      }));
      await produceRaw(t.input, events);
      const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], n);
      expect(out).toHaveLength(n);
      await svc.stop();
      svc = undefined;

      const raw = cap.raw();
      expect(raw).not.toMatch(/person\.\d+|@example\.org|user-1\d{3}/);
      const lines = cap.lines;
      const info = lines.filter((l) => l.level >= INFO);
      // State changes only: far fewer lines than events, whatever the events were.
      expect(info.length).toBeLessThan(n);
      const count = (msg: string | RegExp) =>
        info.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg))).length;
      expect(count('joined consumer group')).toBe(1);
      expect(count('provider circuit breaker opened: failing fast')).toBe(1);
      expect(count('shutdown complete')).toBe(1);
      expect(count(/^processor (running|draining|stopped)$/)).toBe(3);
      // Every line is JSON from a named component (or the root for the service's own lines).
      for (const l of info) expect(typeof l.msg).toBe('string');
      expect(new Set(info.map((l) => l.component)).has('processor')).toBe(true);
    });
  });
});
