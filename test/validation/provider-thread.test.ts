import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadTransport } from '../../src/validation/provider-thread.js';
import { json, startTestProvider, type TestProvider } from './provider-test-server.js';

/** The provider's requests on their own thread, and what happens when that thread cannot run. */
let server: TestProvider;
const signal = new AbortController().signal;
const body = JSON.stringify({ email: 'jane@example.com' });

beforeAll(async () => {
  server = await startTestProvider();
  server.handle = (_req, res) => json(res, 200, { result: 'deliverable', reason: null });
});
afterAll(async () => {
  await server?.close();
});

const options = () => ({
  url: server.url,
  apiKey: 'k',
  concurrency: 4,
  connections: 8,
  connectTimeoutMs: 1000,
  headersTimeoutMs: 1000,
  bodyTimeoutMs: 1000,
});

describe('ThreadTransport', () => {
  it('answers through its thread', async () => {
    const t = new ThreadTransport(options());
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.post(body, signal)));
    expect(answers.every((a) => a.kind === 'answer' && a.answer.reason === null)).toBe(true);
    expect(t.threaded).toBe(true);
    await t.close();
  });

  it('a thread that cannot start leaves its requests, and later ones, to this thread', async () => {
    const before = server.requests.length;
    const t = new ThreadTransport(options(), new URL('./no-such-provider-worker.js', import.meta.url).href);
    // Posted before the thread failed: answered all the same.
    const first = await t.post(body, signal);
    expect(first).toMatchObject({ kind: 'answer', answer: { reason: null, detail: 'http_200' } });
    expect(t.threaded).toBe(false);
    expect((await t.post(body, signal)).kind).toBe('answer');
    expect(server.requests.length - before).toBe(2);
    await t.close();
  });
});
