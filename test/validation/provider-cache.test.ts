import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SchemaRegistryClient } from '../../src/schema-registry/client.js';
import { ProviderClient, type ProviderOptions } from '../../src/validation/provider.js';
import { json, providerTestOptions, startTestProvider, type TestProvider } from './provider-test-server.js';

/** Provider verdicts cached per address; credentials in PROVIDER_URL / SCHEMA_REGISTRY_URL never echoed. */
let server: TestProvider;
const signal = new AbortController().signal;

beforeAll(async () => {
  server = await startTestProvider();
});
afterAll(async () => {
  await server?.close();
});

function client(overrides: Partial<ProviderOptions> = {}): ProviderClient {
  return new ProviderClient(
    providerTestOptions(server.url, { breakerCooldownMs: 1000, cacheTtlSeconds: 60, ...overrides }),
  );
}

describe('provider verdict cache', () => {
  it('a duplicate or a retry within the TTL does not ask again; after it, it does', async () => {
    server.reset();
    server.handle = (_req, res, body) =>
      json(
        res,
        200,
        body.email?.startsWith('gone')
          ? { result: 'undeliverable', reason: 'mailbox_not_found' }
          : { result: 'deliverable', reason: null },
      );
    let now = 1_000_000;
    const c = client({ now: () => now });
    expect((await c.check('jane@x.test', signal)).reason).toBeNull();
    const again = await c.check('jane@x.test', signal);
    expect(again).toMatchObject({ reason: null, detail: 'cached', attempts: 0 });
    expect((await c.check('gone@x.test', signal)).reason).toBe('mailbox_not_found');
    expect((await c.check('gone@x.test', signal)).reason).toBe('mailbox_not_found');
    expect(server.requests.map((r) => r.body.email)).toEqual(['jane@x.test', 'gone@x.test']);
    now += 61_000;
    await c.check('jane@x.test', signal);
    expect(server.requests).toHaveLength(3);
    await c.close();
  });

  it('concurrent checks of one address share one request', async () => {
    server.reset();
    server.handle = (_req, res) => setTimeout(() => json(res, 200, { result: 'deliverable', reason: null }), 50);
    const c = client();
    const answers = await Promise.all(Array.from({ length: 10 }, () => c.check('dup@x.test', signal)));
    expect(answers.every((a) => a.reason === null)).toBe(true);
    expect(server.requests).toHaveLength(1);
    await c.close();
  });

  it('unknown answers are not cached', async () => {
    server.reset();
    server.handle = (_req, res) => json(res, 503, {});
    const c = client();
    expect((await c.check('busy@x.test', signal)).reason).toBe('provider_unavailable');
    expect((await c.check('busy@x.test', signal)).reason).toBe('provider_unavailable');
    expect(server.requests).toHaveLength(2);
    await c.close();
  });

  it('TTL 0 turns the cache off', async () => {
    server.reset();
    server.handle = (_req, res) => json(res, 200, { result: 'deliverable', reason: null });
    const c = client({ cacheTtlSeconds: 0 });
    await c.check('jane@x.test', signal);
    await c.check('jane@x.test', signal);
    expect(server.requests).toHaveLength(2);
    await c.close();
  });
});

describe('credentials in URLs', () => {
  it('PROVIDER_URL credentials go into Basic auth, never into the request line', async () => {
    server.reset();
    server.handle = (_req, res) => json(res, 200, { result: 'deliverable', reason: null });
    const u = new URL(server.url);
    u.username = 'acct';
    u.password = 'p@ss word';
    const c = client({ url: u.href });
    expect((await c.check('jane@x.test', signal)).reason).toBeNull();
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('acct:p@ss word').toString('base64')}`);
    await c.close();
  });

  it('a bad PROVIDER_URL or SCHEMA_REGISTRY_URL is refused without echoing its credentials', () => {
    for (const env of ['PROVIDER_URL', 'SCHEMA_REGISTRY_URL']) {
      let message = '';
      try {
        loadConfig({}, { [env]: 'ftp://admin:hunter2@host/x?token=tok3n' });
      } catch (err) {
        message = String(err);
      }
      expect(message).toContain(env);
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('tok3n');
      expect(message).not.toContain('admin');
    }
  });

  it('SCHEMA_REGISTRY_URL credentials are used, and absent from errors', async () => {
    server.reset();
    server.handle = (_req, res) => json(res, 200, { schema: '{"type":"string"}' });
    const u = new URL(server.url);
    u.username = 'reg';
    u.password = 'hunter2';
    u.pathname = '/';
    const registry = new SchemaRegistryClient({ url: u.href, timeoutMs: 2000 });
    expect(await registry.schemaById(1)).toBe('{"type":"string"}');
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('reg:hunter2').toString('base64')}`);
    // Unreachable: the error names the registry without the credentials.
    const down = new SchemaRegistryClient({ url: 'http://reg:hunter2@127.0.0.1:9/', timeoutMs: 2000 });
    const err = await down.schemaById(1).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/unreachable/);
    expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toContain('hunter2');
  });
});
