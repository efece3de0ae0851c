import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as tracing from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw } from '../helpers/processor.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { json, startTestProvider, type TestProvider } from '../validation/provider-test-server.js';

/** One W3C trace context per case, as an upstream producer would have sent it. */
function traceparent(n: number): { traceId: string; spanId: string; header: string } {
  const traceId = `4bf92f3577b34da6a3ce929d0e0e${String(4700 + n).padStart(4, '0')}`;
  const spanId = `00f067aa0ba9${String(n).padStart(4, '0')}`;
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

function parseTraceparent(v: Buffer | string | string[] | undefined): { traceId: string; parentId: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(v));
  if (!m) throw new Error(`not a traceparent: ${String(v)}`);
  return { traceId: m[1]!, parentId: m[2]! };
}

const exporter = new tracing.InMemorySpanExporter();
let dns: LocalDnsServer;
let provider: TestProvider;
let svc: TestService;

beforeAll(async () => {
  dns = await startLocalDnsServer({
    'example.com': { mx: [{ exchange: 'mx.example.com', preference: 10 }] },
    // nx.example is not served: NXDOMAIN.
  });
  provider = await startTestProvider();
  provider.handle = (_req, res, body) => {
    if (body.email?.startsWith('flaky')) json(res, 503, { error: 'down' });
    else json(res, 200, { result: 'deliverable', reason: null });
  };
  svc = await startTestService({
    partitions: 1,
    spanProcessors: [new tracing.SimpleSpanProcessor({ exporter })],
    env: {
      CHECK_DNS: 'true',
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      CHECK_PROVIDER: 'true',
      PROVIDER_URL: provider.url,
      PROVIDER_RETRIES: '0',
      PROVIDER_BREAKER_THRESHOLD: '100',
    },
  });
});

afterAll(async () => {
  await svc?.stop();
  await provider?.close();
  await dns?.close();
});

function spansOf(traceId: string): tracing.ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

function child(spans: tracing.ReadableSpan[], parentSpanId: string, name: string | RegExp): tracing.ReadableSpan {
  const found = spans.filter(
    (s) =>
      s.parentSpanContext?.spanId === parentSpanId && (typeof name === 'string' ? s.name === name : name.test(s.name)),
  );
  expect(
    found.map((s) => s.name),
    `one "${String(name)}" span under ${parentSpanId}`,
  ).toHaveLength(1);
  return found[0]!;
}

describe('traces through Kafka headers (in-memory exporter, real broker, DNS and provider)', () => {
  it('continues the producer trace for the valid, invalid and dead-letter routes, with check spans below the process span', async () => {
    const t = svc.topics;
    const cases = [
      { name: 'valid', email: 'anna@example.com', topic: t.valid, checks: ['check dns', 'check provider'] },
      { name: 'invalid', email: 'bob@nx.example', topic: t.invalid, checks: ['check dns'] },
      { name: 'unknown', email: 'flaky@example.com', topic: t.deadLetter, checks: ['check dns', 'check provider'] },
      { name: 'poison', email: null, topic: t.deadLetter, checks: [] },
    ].map((c, i) => ({ ...c, tp: traceparent(i), key: `user-${i}` }));
    await produceRaw(
      t.input,
      cases.map((c, i) => ({
        key: c.key,
        value:
          c.email === null
            ? Buffer.from([0xde, 0xad, 0xbe, 0xef])
            : encodeSignupEvent({
                eventId: `evt-${i}`,
                userId: c.key,
                email: c.email,
                occurredAt: 1_764_300_000_000,
                source: null,
                locale: null,
              }),
        headers: { traceparent: c.tp.header },
      })),
    );
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], cases.length);
    expect(out).toHaveLength(cases.length);

    for (const c of cases) {
      const record = out.find((r) => r.message.key?.toString() === c.key);
      expect(record?.topic, c.name).toBe(c.topic);
      // The span ends once the broker acknowledged the result: wait for it to be exported.
      const process = await vi.waitFor(
        () => {
          const found = spansOf(c.tp.traceId).find((s) => s.name === `process ${t.input}`);
          if (!found) throw new Error(`no process span yet for ${c.name}`);
          return found;
        },
        { timeout: 10_000 },
      );
      const spans = spansOf(c.tp.traceId);
      expect(process.kind, c.name).toBe(SpanKind.CONSUMER);
      expect(process.parentSpanContext?.spanId, c.name).toBe(c.tp.spanId);
      expect(process.attributes['messaging.system']).toBe('kafka');
      expect(process.attributes['messaging.destination.name']).toBe(t.input);
      expect(process.attributes['messaging.consumer.group.name']).toBe(svc.config.kafka.groupId);
      // One partition: the cases sit at offsets 0, 1, 2, 3.
      expect(process.attributes['messaging.kafka.offset']).toBe(cases.indexOf(c));
      // The key (a user id) is on the span only as an HMAC with the deployment's secret.
      expect(process.attributes['messaging.kafka.message.key']).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
      expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(c.key);
      if (c.email) expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(c.email);

      // Check spans are children of the process span, in the order they ran.
      const checkSpans = spans.filter((s) => s.name.startsWith('check '));
      expect(checkSpans.map((s) => s.name).sort(), c.name).toEqual([...c.checks].sort());
      for (const name of c.checks) child(spans, process.spanContext().spanId, name);

      // The output record carries the context of a publish span below the process span.
      const publish = child(spans, process.spanContext().spanId, `send ${c.topic}`);
      expect(publish.kind).toBe(SpanKind.PRODUCER);
      const continued = parseTraceparent(record!.message.headers?.traceparent as Buffer);
      expect(continued.traceId, c.name).toBe(c.tp.traceId);
      expect(continued.parentId, c.name).toBe(publish.spanContext().spanId);
    }

    const [valid, invalid, unknown, poison] = cases.map((c) => spansOf(c.tp.traceId));
    const processOf = (spans: tracing.ReadableSpan[]) => spans.find((s) => s.name.startsWith('process '))!;
    expect(processOf(valid!).attributes['efv.verdict']).toBe('deliverable');
    expect(processOf(invalid!).attributes['efv.verdict']).toBe('undeliverable');
    expect(processOf(invalid!).attributes['efv.reason']).toBe('invalid_domain');
    expect(processOf(unknown!).attributes['efv.reason']).toBe('provider_unavailable');
    expect(processOf(unknown!).attributes['efv.error.code']).toBe('VALIDATION_UNKNOWN');
    expect(processOf(poison!).attributes['efv.error.code']).toBe('AVRO_DECODE');
    const dnsSpan = invalid!.find((s) => s.name === 'check dns')!;
    expect(dnsSpan.attributes['efv.check.detail']).toBe('nxdomain');
    expect(dnsSpan.attributes['efv.check.status']).toBe('fail');

    // Provider calls: the undici instrumentation's HTTP client span hangs below the provider
    // check span, and the provider received that span's context.
    for (const [spans, status] of [
      [valid!, 200],
      [unknown!, 503],
    ] as const) {
      const check = spans.find((s) => s.name === 'check provider')!;
      const http = child(spans, check.spanContext().spanId, /^POST/);
      expect(http.kind).toBe(SpanKind.CLIENT);
      expect(http.attributes['http.response.status_code']).toBe(status);
      const seen = provider.requests.find(
        (r) => parseTraceparent(r.headers.traceparent).parentId === http.spanContext().spanId,
      );
      expect(seen, 'the provider saw the HTTP span as parent').toBeDefined();
      expect(parseTraceparent(seen!.headers.traceparent).traceId).toBe(http.spanContext().traceId);
    }
    const failedCheck = unknown!.find((s) => s.name === 'check provider')!;
    expect(failedCheck.status.code).toBe(SpanStatusCode.ERROR);
    expect(failedCheck.attributes['efv.check.detail']).toBe('http_503');
  });
});
