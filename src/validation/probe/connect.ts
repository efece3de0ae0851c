/**
 * How a probe reaches a mail server: a TCP connection to a pinned address (never a name:
 * nothing is resolved again here), directly or through a SOCKS5 proxy that is asked for
 * that address; bounded by the step timeout and by the probe's deadline.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type * as Socks from 'socks';
import { type FailureKind, ProbeFailure } from './conversation.js';

export interface SmtpProxy {
  host: string;
  port: number;
  userId?: string;
  password?: string;
}

/** `socks5://user:pass@host:port` → the proxy; credentials percent-decoded. */
export function parseSmtpProxy(url: string): SmtpProxy {
  const u = new URL(url);
  if (u.protocol !== 'socks5:' && u.protocol !== 'socks5h:') throw new Error('must be a socks5:// URL');
  if (!u.hostname || !u.port) throw new Error('must name host and port');
  const proxy: SmtpProxy = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  if (u.username) proxy.userId = decodeURIComponent(u.username);
  if (u.password) proxy.password = decodeURIComponent(u.password);
  return proxy;
}

/** A probe's end: its signal, why it fired, and the cleanup of its timer. */
export type Deadline = { signal: AbortSignal; kind: () => FailureKind; dispose: () => void };

/** The probe's own deadline of `totalMs`, and the event's: whichever fires first ends it. */
export function probeDeadline(event: AbortSignal, totalMs: number): Deadline {
  const total = new AbortController();
  const timer = setTimeout(() => total.abort(new ProbeFailure('deadline')), totalMs);
  // Not AbortSignal.any: it registers the probe's signal, through WeakRefs, with the event's
  // sources down to the partition's long-lived one, and V8's young-generation GC keeps a
  // WeakRef's target alive: every probe, with its listeners and what they hold, was promoted to
  // the old generation, and the scavenges copying them stalled the event loop for 10-20 ms.
  // A listener removed when the probe ends lets the probe die young.
  const onEvent = () => total.abort(event.reason);
  if (event.aborted) onEvent();
  else event.addEventListener('abort', onEvent, { once: true });
  return {
    signal: total.signal,
    kind: () => (event.aborted ? 'aborted' : 'deadline'),
    dispose: () => {
      clearTimeout(timer);
      event.removeEventListener('abort', onEvent);
    },
  };
}

export interface ConnectOptions {
  port: number;
  /** How long connecting (or the proxy's handshake) may take. */
  timeoutMs: number;
  proxy?: SmtpProxy | undefined;
}

/** A connected socket to `ip`, or a `ProbeFailure` (`connect`, `proxy`, or the deadline's kind). */
export async function connectTo(ip: string, options: ConnectOptions, deadline: Deadline): Promise<Socket> {
  if (deadline.signal.aborted) throw new ProbeFailure(deadline.kind());
  const { proxy } = options;
  if (proxy !== undefined) {
    // Loaded with the first proxied probe: without SMTP_PROXY no process needs it.
    const { SocksClient } = createRequire(import.meta.url)('socks') as typeof Socks;
    const pending = SocksClient.createConnection({
      proxy: {
        host: proxy.host,
        port: proxy.port,
        type: 5,
        ...(proxy.userId !== undefined ? { userId: proxy.userId } : {}),
        ...(proxy.password !== undefined ? { password: proxy.password } : {}),
      },
      command: 'connect',
      destination: { host: ip, port: options.port },
      timeout: options.timeoutMs,
    });
    return await new Promise<Socket>((resolve, reject) => {
      const onAbort = () => reject(new ProbeFailure(deadline.kind()));
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        ({ socket }) => {
          deadline.signal.removeEventListener('abort', onAbort);
          if (deadline.signal.aborted) {
            socket.destroy();
            return;
          }
          resolve(socket);
        },
        () => {
          deadline.signal.removeEventListener('abort', onAbort);
          reject(new ProbeFailure('proxy'));
        },
      );
    });
  }
  const socket = new Socket();
  return await new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => fail('connect'), options.timeoutMs);
    const fail = (kind: FailureKind) => {
      clearTimeout(timer);
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new ProbeFailure(kind));
    };
    const onAbort = () => fail(deadline.kind());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', () => fail('connect'));
    socket.once('connect', () => {
      clearTimeout(timer);
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    // An address, never a name: nothing is resolved again here.
    socket.connect({ port: options.port, host: ip });
  });
}
