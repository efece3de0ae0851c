import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type HoldMode,
  HoldQueue,
  type HoldStats,
  type HoldWindow,
  holdModeFromEnv,
  holdWindow,
  serveAsProcess,
  spawnService,
} from './slow-service.js';

/**
 * What the provider measured of itself, cumulative since it started (see HoldStats: Δ of two
 * snapshots give a window's Little's L and W).
 */
export interface ProviderServerStats extends HoldStats {
  /** Connections open now, and the most requests ever in flight on one connection (> 1: pipelining). */
  connections: number;
  maxPerConnection: number;
}

/** The slow dependency: a verification provider on loopback that answers after a fixed latency. */
export interface SlowProvider {
  url: string;
  /** Requests answered so far (as last reported by its process, at most 100 ms old). */
  requests(): number;
  /** Its own measurements (as last reported, at most 100 ms old); absent for a provider that keeps none. */
  stats?(): ProviderServerStats | undefined;
  close(): Promise<void>;
}

const ANSWER = JSON.stringify({ result: 'deliverable', reason: null, flags: [] });
const ANSWER_HEADERS = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) };

/**
 * Answers every POST with `deliverable` exactly `latencyMs` after the request arrived, so a
 * client's throughput is bounded by its concurrency / latency (Little's law) and nothing else.
 * The answers wait in a HoldQueue (one FIFO behind a precise alarm; `timer`: a timer per
 * request once the body was read, the former way): what the server delivers is the bound it
 * advertises, to within its event loop.
 */
export async function serveSlowProvider(
  latencyMs: number,
  mode: HoldMode = 'queue',
): Promise<{
  url: string;
  answered(): number;
  stats(): ProviderServerStats;
  close(): Promise<void>;
}> {
  const started = performance.now();
  let connections = 0;
  let maxPerConnection = 0;
  const perConnection = new WeakMap<object, number>();
  const holds = new HoldQueue<ServerResponse>(latencyMs, mode, (res) => {
    res.writeHead(200, ANSWER_HEADERS);
    res.end(ANSWER);
    const socket = res.socket;
    if (socket) perConnection.set(socket, (perConnection.get(socket) ?? 1) - 1);
  });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = holds.arrive();
    const socket = req.socket;
    const onSocket = (perConnection.get(socket) ?? 0) + 1;
    perConnection.set(socket, onSocket);
    if (onSocket > maxPerConnection) maxPerConnection = onSocket;
    // Drain the body before answering, as a real provider would read it; the hold counts
    // from the arrival of the request, whatever reading it takes.
    req.resume();
    req.on('end', () => holds.hold(res, arrivedAt));
  });
  server.on('connection', (socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/verify`,
    answered: () => holds.answered,
    stats: () => {
      const now = performance.now();
      return {
        atMs: now - started,
        ...holds.stats(now),
        connections,
        maxPerConnection,
        priority: getPriority(),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        holds.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs the provider in a process of its own (slow-service.ts), so that the harness's own work
 * (sampling offsets, drawing progress) never delays an answer and the latency stays what was asked.
 */
export async function startSlowProvider(latencyMs: number): Promise<SlowProvider> {
  const service = await spawnService<{ url: string }, ProviderServerStats>(fileURLToPath(import.meta.url), [
    String(latencyMs),
  ]);
  return {
    url: service.ready.url,
    requests: () => service.last()?.answered ?? 0,
    stats: () => service.last(),
    close: service.close,
  };
}

/** A window's figures from two snapshots of the provider's own measurements. */
export interface ProviderWindow extends HoldWindow {
  /** Connections open at the end of the window; the most requests one connection ever had in flight. */
  connections: number;
  maxPerConnection: number;
}

export function providerWindow(
  from: ProviderServerStats,
  to: ProviderServerStats,
  latencyMs: number,
): ProviderWindow | undefined {
  const w = holdWindow(from, to, latencyMs);
  return w && { ...w, connections: to.connections, maxPerConnection: to.maxPerConnection };
}

// As a process: `node --import tsx bench/provider-server.ts <latencyMs> [queue|timer]` prints
// its URL, then its cumulative measurements every 100 ms while they change.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const latencyMs = Number(process.argv[2] ?? 20);
  const mode = holdModeFromEnv(process.argv[3] ?? process.env.BENCH_PROVIDER_HOLD);
  await serveAsProcess(async () => {
    const provider = await serveSlowProvider(latencyMs, mode);
    return { ready: { url: provider.url }, stats: provider.stats, close: provider.close };
  });
}
