import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { BreakerState } from '../../src/validation/circuit-breaker.js';
import { ProviderClient, type ProviderOptions } from '../../src/validation/provider.js';
import { createValidator } from '../../src/validation/validator.js';
import { json, providerTestOptions, startTestProvider, type TestProvider } from './provider-test-server.js';

let server: TestProvider;
const clients: ProviderClient[] = [];
/** The transport under test: the requests on their own thread (the default without tracing), or on this one. */
let ownThread = true;
const signal = new AbortController().signal;

beforeAll(async () => {
  server = await startTestProvider();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.reset();
});
afterAll(async () => {
  await server?.close();
});

function client(overrides: Partial<ProviderOptions> = {}): ProviderClient {
  const c = new ProviderClient(
    providerTestOptions(server.url, { apiKey: 'test-key', retries: 2, ownThread, ...overrides }),
  );
  clients.push(c);
  return c;
}

describe.each([
  ['on a thread of its own', true],
  ['on this thread', false],
])('ProviderClient against a real HTTP server on 127.0.0.1, requests %s', (_, thread) => {
  beforeAll(() => {
    ownThread = thread;
  });
  afterAll(() => {
    ownThread = true;
  });

  it('posts the address with the API key and maps the answer', async () => {
    server.handle = (_req, res, body) =>
      json(
        res,
        200,
        body.email?.startsWith('gone')
          ? { result: 'undeliverable', reason: 'mailbox_not_found' }
          : { result: 'deliverable', reason: null },
      );
    const c = client();
    expect(await c.check('jane@example.com', signal)).toMatchObject({ reason: null, detail: 'http_200', attempts: 1 });
    expect(await c.check('gone@example.com', signal)).toMatchObject({ reason: 'mailbox_not_found', attempts: 1 });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer test-key');
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(server.requests[0]!.body).toEqual({ email: 'jane@example.com' });
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const c = client();
    for (let i = 0; i < 10; i++) await c.check(`u${i}@example.com`, signal);
    expect(server.requests).toHaveLength(10);
    // undici may open a second socket when the next request is dispatched in the same tick
    // the previous response ends; what matters is that sockets are reused, not one per request.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('retries a 500 and gives up as provider_unavailable, never undeliverable', async () => {
    server.handle = (_req, res) => json(res, 500, { error: 'boom' });
    const a = await client({ retries: 2 }).check('jane@example.com', signal);
    expect(a).toMatchObject({ reason: 'provider_unavailable', detail: 'http_500', attempts: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it('recovers when a retry succeeds', async () => {
    server.handle = (_req, res, _b, n) => (n < 3 ? json(res, 502, {}) : json(res, 200, { result: 'deliverable' }));
    expect(await client({ retries: 3 }).check('jane@example.com', signal)).toMatchObject({ reason: null, attempts: 3 });
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    server.handle = (_req, res, _b, n) =>
      n === 1 ? json(res, 429, {}, { 'retry-after': '1' }) : json(res, 200, { result: 'deliverable' });
    expect(await client().check('jane@example.com', signal)).toMatchObject({ reason: null, attempts: 2 });
    // The retry came no earlier than the server asked (a lower bound: sleeping never ends early).
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('honours Retry-After on 503', async () => {
    server.handle = (_req, res, _b, n) =>
      n === 1 ? json(res, 503, {}, { 'retry-after': '1' }) : json(res, 200, { result: 'deliverable' });
    expect(await client().check('jane@example.com', signal)).toMatchObject({ reason: null, attempts: 2 });
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('a Retry-After longer than it will wait gives up at once as rate_limited', async () => {
    server.handle = (_req, res) => json(res, 429, {}, { 'retry-after': '3600' });
    expect(await client().check('jane@example.com', signal)).toMatchObject({
      reason: 'rate_limited',
      detail: 'http_429',
      attempts: 1,
    });
  });

  it('persistent 429 ends as rate_limited after the retries', async () => {
    server.handle = (_req, res) => json(res, 429, {});
    expect(await client({ retries: 2 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'rate_limited',
      attempts: 3,
    });
  });

  it('retries a connection reset', async () => {
    server.handle = (req, res, _b, n) => (n === 1 ? req.socket.destroy() : json(res, 200, { result: 'deliverable' }));
    expect(await client().check('jane@example.com', signal)).toMatchObject({ reason: null, attempts: 2 });
  });

  it('resets on every attempt → provider_unavailable (reset)', async () => {
    server.handle = (req) => req.socket.destroy();
    expect(await client({ retries: 1 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'reset',
      attempts: 2,
    });
  });

  // undici's parser timeouts tick at about 1 s, so the server stalls well beyond that.
  it('slow headers time out as provider_unavailable', async () => {
    server.handle = (_req, res) =>
      setTimeout(() => json(res, 200, { result: 'undeliverable', reason: 'mailbox_not_found' }), 4000);
    expect(await client({ headersTimeoutMs: 100, retries: 0 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'headers_timeout',
    });
  });

  it('a stalled body times out as provider_unavailable', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":"undeliv');
      setTimeout(() => res.end('erable","reason":"mailbox_not_found"}'), 4000);
    };
    expect(await client({ bodyTimeoutMs: 100, retries: 0 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'body_timeout',
    });
  });

  it('a slow but steady body is read', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":"risky",');
      setTimeout(() => res.end('"reason":"accept_all"}'), 50);
    };
    expect(await client({ bodyTimeoutMs: 1000 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'accept_all',
    });
  });

  it('an answer over 64 KiB is refused, with or without a declared length, and one under it is read', async () => {
    const big = JSON.stringify({ result: 'deliverable', padding: 'x'.repeat(70 * 1024) });
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) });
      res.end(big);
    };
    expect(await client({ retries: 0 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'body_too_large',
    });
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no declared length
      res.write(big.slice(0, 40_000));
      res.end(big.slice(40_000));
    };
    expect(await client({ retries: 0 }).check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'body_too_large',
    });
    const small = JSON.stringify({ result: 'undeliverable', reason: 'mailbox_not_found' });
    server.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(small.slice(0, 10));
      res.end(small.slice(10));
    };
    expect(await client({ retries: 0 }).check('jane@example.com', signal)).toMatchObject({ detail: 'http_200' });
  });

  it('malformed JSON and 4xx are not retried', async () => {
    server.handle = (_req, res) => {
      res.writeHead(200);
      res.end('<html>');
    };
    expect(await client().check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'bad_response',
      attempts: 1,
    });
    server.handle = (_req, res) => json(res, 401, { error: 'bad key' });
    expect(await client().check('jane@example.com', signal)).toMatchObject({
      reason: 'provider_unavailable',
      detail: 'http_401',
      attempts: 1,
    });
  });

  it('an aborted event is a timeout and stops retrying', async () => {
    server.handle = (_req, res) => setTimeout(() => json(res, 500, {}), 100);
    const ac = new AbortController();
    const pending = client({ retries: 5 }).check('jane@example.com', ac.signal);
    setTimeout(() => ac.abort(), 30);
    expect(await pending).toMatchObject({ reason: 'timeout', detail: 'aborted' });
  });

  it('caps requests in flight at PROVIDER_CONCURRENCY', async () => {
    server.handle = (_req, res) => setTimeout(() => json(res, 200, { result: 'deliverable' }), 30);
    const c = client({ concurrency: 3 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.check(`u${i}@example.com`, signal)));
    expect(server.requests).toHaveLength(20);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThan(1);
  });

  it('paces requests with one token bucket shared by all callers', async () => {
    const c = client({ ratePerSecond: 20, burst: 5 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => c.check(`u${i}@example.com`, signal)));
    // Loosely: the first second can hold at most burst + rate requests (+1 for edges).
    const firstSecond = server.requests.filter((r) => r.at - started < 1000).length;
    expect(firstSecond).toBeLessThanOrEqual(5 + 20 + 1);
    // 30 requests at 20/s after a burst of 5 cannot finish before ~1.25 s.
    expect(server.requests.at(-1)!.at - started).toBeGreaterThanOrEqual(1200);
  });

  it('tells the request observer of every attempt, an aborted one included', async () => {
    const seen: [string, number][] = [];
    const c = client({ retries: 1, backoffBaseMs: 1, onRequest: (outcome, ms) => seen.push([outcome, ms]) });
    server.handle = (_req, res) => json(res, 503, {});
    expect((await c.check('busy@example.com', signal)).attempts).toBe(2);
    server.handle = (_req, res) => json(res, 200, { result: 'deliverable' });
    await c.check('jane@example.com', signal);
    server.handle = () => {}; // never answers
    const ac = new AbortController();
    const pending = c.check('stuck@example.com', ac.signal);
    await expect.poll(() => server.requests.length).toBe(4);
    ac.abort();
    expect((await pending).detail).toBe('aborted');
    await expect.poll(() => seen.length).toBe(4);
    expect(seen.map(([o]) => o)).toEqual(['http_503', 'http_503', 'http_200', 'aborted']);
    for (const [, ms] of seen) expect(ms).toBeGreaterThanOrEqual(0);
  });
});

describe('circuit breaker', () => {
  it('opens after N failures, fails fast, probes half-open and closes on success', async () => {
    const changes: [BreakerState, BreakerState][] = [];
    const c = client({
      retries: 0,
      breakerThreshold: 3,
      breakerCooldownMs: 200,
      onBreakerStateChange: (s, p) => changes.push([s, p]),
    });
    server.handle = (_req, res) => json(res, 500, {});
    for (let i = 0; i < 3; i++) await c.check('jane@example.com', signal);
    expect(c.breakerState).toBe('open');
    expect(changes).toEqual([['open', 'closed']]);

    const seen = server.requests.length;
    const fast = await c.check('jane@example.com', signal);
    expect(fast).toMatchObject({ reason: 'provider_unavailable', detail: 'breaker_open', attempts: 0 });
    expect(server.requests.length).toBe(seen);

    await new Promise((r) => setTimeout(r, 250));
    server.handle = (_req, res) => setTimeout(() => json(res, 200, { result: 'deliverable' }), 50);
    // One probe goes through; a concurrent caller still fails fast.
    const [probe, other] = await Promise.all([c.check('a@example.com', signal), c.check('b@example.com', signal)]);
    expect(probe).toMatchObject({ reason: null });
    expect(other).toMatchObject({ reason: 'provider_unavailable', detail: 'breaker_open' });
    expect(c.breakerState).toBe('closed');
    expect(changes).toEqual([
      ['open', 'closed'],
      ['half_open', 'open'],
      ['closed', 'half_open'],
    ]);
  });

  it('a failed probe re-opens it', async () => {
    const changes: BreakerState[] = [];
    const c = client({
      retries: 0,
      breakerThreshold: 1,
      breakerCooldownMs: 100,
      onBreakerStateChange: (s) => changes.push(s),
    });
    server.handle = (_req, res) => json(res, 503, {});
    await c.check('jane@example.com', signal);
    await new Promise((r) => setTimeout(r, 150));
    await c.check('jane@example.com', signal);
    expect(changes).toEqual(['open', 'half_open', 'open']);
  });

  it('429s do not open it', async () => {
    const c = client({ retries: 0, breakerThreshold: 2 });
    server.handle = (_req, res) => json(res, 429, {});
    for (let i = 0; i < 5; i++) await c.check('jane@example.com', signal);
    expect(c.breakerState).toBe('closed');
  });
});

describe('validator with the provider', () => {
  const env = (extra: Record<string, string> = {}) =>
    loadConfig(
      {},
      {
        CHECK_DNS: 'false',
        CHECK_PROVIDER: 'true',
        PROVIDER_URL: server.url,
        PROVIDER_RETRIES: '1',
        PROVIDER_BACKOFF_BASE_MS: '5',
        ...extra,
      },
    ).validation;

  it('maps the provider answer into the verdict', async () => {
    server.handle = (_req, res, body) =>
      json(
        res,
        200,
        body.email === 'gone@example.org'
          ? { result: 'undeliverable', reason: 'mailbox_not_found' }
          : { result: 'risky', reason: 'accept_all', flags: ['accept_all'] },
      );
    const v = createValidator(env());
    try {
      expect(await v.validate('gone@example.org', { signal })).toMatchObject({
        verdict: 'undeliverable',
        reason: 'mailbox_not_found',
      });
      const r = await v.validate('jane@example.org', { signal });
      expect(r).toMatchObject({ verdict: 'risky', reason: 'accept_all', flags: ['accept_all'] });
      expect(r.checks.map((c) => c.name)).toEqual(['syntax', 'lists', 'provider']);
    } finally {
      await v.close();
    }
  });

  it('an unreachable provider gives unknown, never undeliverable, and the breaker reports', async () => {
    const changes: BreakerState[] = [];
    const v = createValidator(env({ PROVIDER_URL: 'http://127.0.0.1:9/v1', PROVIDER_BREAKER_THRESHOLD: '2' }), {
      onProviderBreakerStateChange: (s) => changes.push(s),
    });
    try {
      const r = await v.validate('jane@example.org', { signal });
      expect(r).toMatchObject({ verdict: 'unknown', reason: 'provider_unavailable' });
      expect(changes).toEqual(['open']);
      expect(await v.validate('jane@example.org', { signal })).toMatchObject({ verdict: 'unknown' });
    } finally {
      await v.close();
    }
  });

  it('does not ask the provider about an address already known undeliverable', async () => {
    const v = createValidator(env());
    try {
      await v.validate('not-an-address', { signal });
      expect(server.requests).toHaveLength(0);
    } finally {
      await v.close();
    }
  });

  it('CHECK_PROVIDER=true without PROVIDER_URL is a configuration error', () => {
    expect(() => createValidator(loadConfig({}, { CHECK_DNS: 'false', CHECK_PROVIDER: 'true' }).validation)).toThrow(
      /PROVIDER_URL/,
    );
  });
});
