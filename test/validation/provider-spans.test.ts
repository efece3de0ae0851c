import { context, trace } from '@opentelemetry/api';
import * as tracing from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { ProviderClient } from '../../src/validation/provider.js';
import { json, startTestProvider, type TestProvider } from './provider-test-server.js';

/** Credentials in PROVIDER_URL (user-info or query) never appear in the HTTP client spans. */
const exporter = new tracing.InMemorySpanExporter();
let server: TestProvider;
let tracer: Tracing;

beforeAll(async () => {
  server = await startTestProvider();
  server.handle = (_req, res) => json(res, 200, { result: 'deliverable', reason: null });
  const config = loadConfig({}, {});
  tracer = await startTracing(config.telemetry, createLogger({ ...config.telemetry, logLevel: 'silent' }), {
    spanProcessors: [new tracing.SimpleSpanProcessor({ exporter })],
  });
});

afterAll(async () => {
  await tracer?.shutdown();
  await server?.close();
});

describe('provider HTTP spans', () => {
  it('carry neither the URL credentials nor the query', async () => {
    const u = new URL(server.url);
    u.username = 'acct';
    u.password = 'hunter2';
    u.search = '?api_key=tok3n';
    const client = new ProviderClient({
      url: u.href,
      ratePerSecond: 100,
      burst: 100,
      concurrency: 2,
      retries: 0,
      backoffBaseMs: 5,
      backoffMaxMs: 50,
      maxRetryAfterMs: 100,
      connectTimeoutMs: 1000,
      headersTimeoutMs: 1000,
      bodyTimeoutMs: 1000,
      breakerThreshold: 10,
      breakerCooldownMs: 1000,
    });
    const parent = trace.getTracer('test').startSpan('check provider');
    const answer = await context.with(trace.setSpan(context.active(), parent), () =>
      client.check('jane@x.test', new AbortController().signal),
    );
    parent.end();
    expect(answer.reason).toBeNull();
    // The query still reaches the provider: only the spans lose it.
    expect(server.requests.at(-1)?.headers.authorization).toMatch(/^Basic /);
    // The SDK exports asynchronously (it waits for the resource): poll for both spans.
    await expect.poll(() => exporter.getFinishedSpans().length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const spans = exporter.getFinishedSpans();
    const http = spans.find((s) => s.attributes['url.full'] !== undefined);
    expect(http, 'an HTTP client span').toBeDefined();
    expect(String(http!.attributes['url.full'])).toMatch(/\?\(redacted\)$/);
    const all = JSON.stringify(spans.map((s) => s.attributes));
    for (const secret of ['hunter2', 'acct', 'tok3n']) expect(all).not.toContain(secret);
    await client.close();
  });
});
