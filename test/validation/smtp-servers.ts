/**
 * Real SMTP servers (smtp-server) and raw TCP servers on loopback addresses for the probe
 * tests. Every server counts the connections it accepted and the most it had open at once.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { MxResolver } from '../../src/validation/dns.js';
import { parseDnsServer } from '../../src/validation/dns-transport.js';
import { SmtpProber } from '../../src/validation/smtp.js';

export interface Counted {
  host: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Open now. */
  open: number;
  /** Most open at once. */
  maxOpen: number;
  /** RCPT TO addresses received. */
  rcpts: string[];
  close(): Promise<void>;
}

/** An smtp-server on `host:port` (port 0: any), counting connections; `onRcptTo` decides the answers. */
/** Sessions open at once across several servers (one mail provider's). */
export interface Group {
  open: number;
  maxOpen: number;
}

export async function startSmtp(
  host: string,
  port: number,
  onRcptTo: (address: string) => Error | undefined = () => undefined,
  extra: Partial<SMTPServerOptions> = {},
  more: { group?: Group; rcptDelayMs?: number } = {},
): Promise<Counted> {
  const group = more.group;
  const counted: Counted = {
    host,
    port: 0,
    connections: 0,
    open: 0,
    maxOpen: 0,
    rcpts: [],
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // Enough for the tests that open many sessions at once against a limit.
    maxClients: 1000,
    onConnect(_session, callback) {
      counted.connections++;
      counted.open++;
      counted.maxOpen = Math.max(counted.maxOpen, counted.open);
      if (group) {
        group.open++;
        group.maxOpen = Math.max(group.maxOpen, group.open);
      }
      callback();
    },
    onClose() {
      counted.open--;
      if (group) group.open--;
    },
    onRcptTo(address, _session, callback) {
      counted.rcpts.push(address.address);
      const answer = () => callback(onRcptTo(address.address) ?? null);
      if (more.rcptDelayMs) setTimeout(answer, more.rcptDelayMs);
      else answer();
    },
    ...extra,
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  counted.port = (server.server.address() as AddressInfo).port;
  return counted;
}

export function rcptError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A raw TCP server on `host` that runs `behave` for every connection, counting them. */
export async function startRaw(
  host: string,
  port: number,
  behave: (socket: Socket) => void,
): Promise<{ port: number; connections: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const out = {
    port: 0,
    connections: 0,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((socket) => {
    out.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    behave(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  out.port = (server.address() as AddressInfo).port;
  return out;
}

/**
 * A prober for one mail server on `port` whose MX records the DNS server at `dnsAddress`
 * serves: one connection at a time to its provider, no catch-all probe, private addresses
 * allowed (everything is on loopback).
 */
export function loopbackProber(
  port: number,
  dnsAddress: string,
  overrides: Partial<ConstructorParameters<typeof SmtpProber>[0]> = {},
): SmtpProber {
  return new SmtpProber(
    {
      helo: 'probe.test',
      from: '',
      port,
      timeoutMs: 5000,
      catchAllCheck: false,
      allowPrivateNetworks: true,
      conversationTimeoutMs: 30_000,
      defaultProviderLimit: { concurrency: 1, ratePerMinute: 1_000_000 },
      ...overrides,
    },
    new MxResolver({
      servers: [parseDnsServer(dnsAddress)],
      timeoutMs: 1000,
      tries: 2,
      cacheSize: 100,
      minTtlSeconds: 60,
      maxTtlSeconds: 600,
      maxNegativeTtlSeconds: 60,
    }),
  );
}
