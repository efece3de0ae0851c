/**
 * A real HTTP server on 127.0.0.1 standing in for the verification provider. Each test
 * sets `handle`; the server records every request (time, headers, parsed body), the number
 * of TCP connections, and the highest number of requests it held at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ProviderOptions } from '../../src/validation/provider.js';

export interface SeenRequest {
  at: number;
  headers: IncomingMessage['headers'];
  body: { email?: string };
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: { email?: string }, n: number) => void;

export interface TestProvider {
  url: string;
  requests: SeenRequest[];
  connections: number;
  maxInFlight: number;
  handle: Handler;
  reset(): void;
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startTestProvider(): Promise<TestProvider> {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const state: TestProvider = {
    url: '',
    requests: [],
    connections: 0,
    maxInFlight: 0,
    handle: (_req, res) => json(res, 200, { result: 'deliverable', reason: null }),
    reset() {
      state.requests = [];
      state.connections = 0;
      state.maxInFlight = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: { email?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {}
      state.requests.push({ at: Date.now(), headers: req.headers, body });
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const done = () => {
        inFlight--;
      };
      res.once('close', done);
      state.handle(req, res, body, state.requests.length);
    });
  });
  server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/verify`;
  return state;
}

/** ProviderClient settings for tests against `url`: fast backoff, a high rate, short timeouts. */
export function providerTestOptions(url: string, overrides: Partial<ProviderOptions> = {}): ProviderOptions {
  return {
    url,
    ratePerSecond: 1000,
    burst: 1000,
    concurrency: 8,
    retries: 0,
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    maxRetryAfterMs: 2000,
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1000,
    breakerThreshold: 100,
    breakerCooldownMs: 60_000,
    ...overrides,
  };
}
