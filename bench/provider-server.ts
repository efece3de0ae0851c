import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The slow dependency: a verification provider on loopback that answers after a fixed latency. */
export interface SlowProvider {
  url: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

const ANSWER = JSON.stringify({ result: 'deliverable', reason: null, flags: [] });

/**
 * Answers every POST with `deliverable` after `latencyMs`, so a client's throughput is bounded
 * by its concurrency / latency (Little's law) and nothing else.
 */
export async function startSlowProvider(latencyMs: number): Promise<SlowProvider> {
  let answered = 0;
  const server: Server = createServer((req, res) => {
    // Drain the body before answering, as a real provider would read it.
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        answered++;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
        res.end(ANSWER);
      }, latencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/verify`,
    requests: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
