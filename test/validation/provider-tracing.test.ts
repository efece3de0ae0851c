/**
 * The provider's requests and the HTTP client spans: the requests run on a thread of their
 * own unless an OpenTelemetry SDK is registered, whose undici instrumentation sees only the
 * processor's thread. A library user who starts tracing after making the client still gets
 * a client span per request from then on.
 */
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { ProviderClient } from '../../src/validation/provider.js';
import { json, providerTestOptions, startTestProvider, type TestProvider } from './provider-test-server.js';

let server: TestProvider;
let tracing: Tracing | undefined;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  server = await startTestProvider();
  server.handle = (_req, res) => json(res, 200, { result: 'deliverable', reason: null });
});
afterAll(async () => {
  await tracing?.shutdown();
  await server?.close();
});

function client(): ProviderClient {
  return new ProviderClient(providerTestOptions(server.url, { concurrency: 4 }));
}

/** Checks an address inside a span of its own; returns that span's id. */
async function checkInSpan(c: ProviderClient, address: string): Promise<string> {
  const span = trace.getTracer('test').startSpan('check provider');
  try {
    const answer = await context.with(trace.setSpan(context.active(), span), () =>
      c.check(address, new AbortController().signal),
    );
    expect(answer.reason).toBeNull();
  } finally {
    span.end();
  }
  return span.spanContext().spanId;
}

describe('ProviderClient and tracing registered after it was made', () => {
  it('sends the requests after the SDK started from this thread: each gets an HTTP client span under its check', async () => {
    const c = client();
    try {
      // No SDK yet: the answer comes from the thread, and nothing is traced.
      expect((await c.check('before@example.com', new AbortController().signal)).reason).toBeNull();
      tracing = await startTracing(
        loadConfig({}).telemetry,
        createLogger({ ...loadConfig({}).telemetry, logLevel: 'warn' }),
        {
          spanProcessors: [new SimpleSpanProcessor({ exporter })],
        },
      );
      const parents = [await checkInSpan(c, 'after1@example.com'), await checkInSpan(c, 'after2@example.com')];
      const httpSpans = () => exporter.getFinishedSpans().filter((s) => s.name !== 'check provider');
      // The SDK exports a span once its resource's attributes are settled, which may be a
      // moment after the span ended.
      await vi.waitFor(
        () =>
          expect(
            httpSpans()
              .map((s) => s.parentSpanContext?.spanId)
              .sort(),
          ).toEqual(parents.sort()),
        {
          timeout: 5000,
        },
      );
      expect(httpSpans().every((s) => s.attributes['http.request.method'] === 'POST')).toBe(true);
      expect(server.requests.map((r) => r.body.email)).toEqual([
        'before@example.com',
        'after1@example.com',
        'after2@example.com',
      ]);
    } finally {
      await c.close();
    }
  });
});
