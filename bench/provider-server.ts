import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The slow dependency: a verification provider on loopback that answers after a fixed latency. */
export interface SlowProvider {
  url: string;
  /** Requests answered so far (as last reported by its process, at most 100 ms old). */
  requests(): number;
  close(): Promise<void>;
}

const ANSWER = JSON.stringify({ result: 'deliverable', reason: null, flags: [] });

/**
 * Answers every POST with `deliverable` after `latencyMs`, so a client's throughput is bounded
 * by its concurrency / latency (Little's law) and nothing else.
 */
export async function serveSlowProvider(
  latencyMs: number,
): Promise<{ url: string; answered(): number; close(): Promise<void> }> {
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
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs the provider in a process of its own, so that the harness's own work (sampling
 * offsets, drawing progress) never delays an answer and the latency stays what was asked.
 */
export async function startSlowProvider(latencyMs: number): Promise<SlowProvider> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let answered = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`slow provider exited (${code}) before listening`)));
    lines.on('line', (line) => {
      const [kind, value] = line.split(' ');
      if (kind === 'url') resolve(value!);
      else if (kind === 'answered') answered = Number(value);
    });
  });
  return {
    url,
    requests: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// As a process: `node --import tsx bench/provider-server.ts <latencyMs>` prints its URL, then
// the requests answered every 100 ms.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const provider = await serveSlowProvider(Number(process.argv[2] ?? 20));
  process.stdout.write(`url ${provider.url}\n`);
  let last = -1;
  setInterval(() => {
    const n = provider.answered();
    if (n !== last) process.stdout.write(`answered ${n}\n`);
    last = n;
  }, 100);
  process.once('SIGTERM', () => void provider.close().then(() => process.exit(0)));
}
