import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type OperationsServer, startOperationsServer } from '../../src/server/operations-server.js';

const logger = pino({ level: 'silent' });
let server: OperationsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Blocks the event loop, as a runaway synchronous task would.
  }
}

describe('operations server (real HTTP on 127.0.0.1)', () => {
  it('answers the probes from the callbacks it was given', async () => {
    let ready = false;
    server = await startOperationsServer(
      {
        port: 0,
        host: '127.0.0.1',
        maxEventLoopDelayMs: 5000,
        ready: () => ready,
        state: () => (ready ? 'running' : 'starting'),
        metrics: { scrape: async () => 'efv_x 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' },
      },
      logger,
    );
    const base = `http://127.0.0.1:${server.port}`;
    expect(server.port).toBeGreaterThan(0);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', state: 'starting' });
    ready = true;
    res = await fetch(`${base}/readyz?verbose=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', state: 'running' });
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('version=0.0.4');
    expect(await res.text()).toBe('efv_x 1\n');
    res = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    res = await fetch(`${base}/readyz`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails liveness after the event loop stalled longer than the bound, and when the process is dead', async () => {
    let alive = true;
    server = await startOperationsServer(
      { port: 0, host: '127.0.0.1', maxEventLoopDelayMs: 1000, ready: () => true, alive: () => alive },
      logger,
    );
    const base = `http://127.0.0.1:${server.port}`;
    busyWait(2000);
    // Served right after the stall (maybe before the monitor's late tick ran): still seen.
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; eventLoopDelayMs: number };
    expect(body.status).toBe('unhealthy');
    expect(body.eventLoopDelayMs).toBeGreaterThan(1000);
    // And a moment later, once the late tick ran, from the recorded window.
    await new Promise((r) => setTimeout(r, 250));
    expect((await fetch(`${base}/healthz`)).status).toBe(503);

    await server.close();
    server = await startOperationsServer(
      { port: 0, host: '127.0.0.1', maxEventLoopDelayMs: 5000, ready: () => true, alive: () => alive },
      logger,
    );
    alive = false;
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
    // No metrics source: nothing to serve.
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
  });

  it('answers one request per connection, and refuses connections once closed', async () => {
    server = await startOperationsServer(
      { port: 0, host: '127.0.0.1', maxEventLoopDelayMs: 5000, ready: () => true },
      logger,
    );
    const base = `http://127.0.0.1:${server.port}`;
    const res = await fetch(`${base}/healthz`, { headers: { connection: 'keep-alive' } });
    // No idle keep-alive connection that a probe or scrape could reuse just as it is reset.
    expect(res.headers.get('connection')).toBe('close');
    await res.arrayBuffer();
    await server.close();
    server = undefined;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('fails to start, with the error, when the port is taken', async () => {
    server = await startOperationsServer(
      { port: 0, host: '127.0.0.1', maxEventLoopDelayMs: 5000, ready: () => true },
      logger,
    );
    await expect(
      startOperationsServer(
        { port: server.port, host: '127.0.0.1', maxEventLoopDelayMs: 5000, ready: () => true },
        logger,
      ),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
