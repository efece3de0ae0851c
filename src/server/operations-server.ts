import type * as Http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../telemetry/logger.js';
import { EventLoopDelayMonitor } from './event-loop-delay.js';

// Required, not imported: an ES import of node:http builds the module's namespace, which reads
// its lazy WebSocket/MessageEvent exports and so loads Node's whole bundled fetch/WebSocket
// client (undici): ~11 MB of resident memory (2.5 MB of heap) that the process never uses.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof Http;

export interface OperationsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Unset: all interfaces (the kubelet and Prometheus reach the pod's address). */
  host?: string | undefined;
  /** /healthz fails while the event loop stalled longer than this recently. */
  maxEventLoopDelayMs: number;
  /** /readyz: joined the group, connected, not draining. */
  ready(): boolean;
  /** A short word for the probe bodies (e.g. the processor state). */
  state?(): string;
  /** Liveness beyond the event loop: false once the process cannot recover (it exits soon). */
  alive?(): boolean;
  metrics?: { scrape(): Promise<string>; contentType: string };
}

export interface OperationsServer {
  /** The bound port (the chosen one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and ends open keep-alive connections (a scraper's). */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  // One request per connection: probes and scrapes come seconds apart, and a reused idle
  // connection that the server times out just as the client sends on it is reset — a
  // spurious failed probe or scrape. A fresh loopback/pod connection costs nothing here.
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', connection: 'close' });
  res.end(body);
}

/**
 * /healthz (liveness), /readyz (readiness) and /metrics (Prometheus) on their own port.
 * Probes answer JSON with 200 or 503; anything else is 404, and only GET and HEAD are served.
 */
export async function startOperationsServer(
  options: OperationsServerOptions,
  logger: Logger,
): Promise<OperationsServer> {
  const log = logger.child({ component: 'http' });
  const loop = new EventLoopDelayMonitor();
  const state = () => options.state?.() ?? 'unknown';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'method not allowed\n');
    }
    switch (path) {
      case '/healthz': {
        const delayMs = Math.round(loop.recentMaxMs());
        const loopOk = delayMs <= options.maxEventLoopDelayMs;
        const ok = loopOk && (options.alive?.() ?? true);
        return send(
          res,
          ok ? 200 : 503,
          'application/json',
          `${JSON.stringify({ status: ok ? 'ok' : 'unhealthy', eventLoopDelayMs: delayMs, state: state() })}\n`,
        );
      }
      case '/readyz': {
        const ready = options.ready();
        return send(
          res,
          ready ? 200 : 503,
          'application/json',
          `${JSON.stringify({ status: ready ? 'ready' : 'not_ready', state: state() })}\n`,
        );
      }
      case '/metrics':
        if (!options.metrics) return send(res, 404, 'text/plain', 'not found\n');
        return send(res, 200, options.metrics.contentType, await options.metrics.scrape());
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.warn({ err: err.message, path: req.url }, 'operations request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  // Probes are tiny; a stuck client must not hold a socket for minutes.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, ...(options.host ? { host: options.host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: options.host ?? '(all interfaces)' }, 'serving /healthz, /readyz and /metrics');
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        loop.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
