/**
 * A small DNS stub client over UDP (TCP when the answer is truncated, RFC 7766), built on
 * `dns-packet`. We do not use `node:dns` because its `resolveMx()` hides the record TTLs
 * and the SOA of negative answers, and the MX cache must honour both (RFC 2308).
 *
 * Each query uses its own UDP socket so the source port is random per query, and a reply
 * is accepted only from the server asked, with the query's id and question (RFC 5452).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6, Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

export interface DnsServer {
  host: string;
  port: number;
}

export type RecordType = 'MX' | 'A' | 'AAAA';

export interface DnsResponse {
  rcode: string;
  answers: Answer[];
  authorities: Answer[];
}

/** Why no usable answer came back. Always transient from the caller's point of view. */
export class DnsTransportError extends Error {
  constructor(readonly kind: 'timeout' | 'network' | 'malformed' | 'aborted') {
    super(`dns ${kind}`);
    this.name = 'DnsTransportError';
  }
}

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function parseDnsServer(spec: string): DnsServer {
  const s = spec.trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new Error(`bad DNS server "${spec}"`);
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    return { host, port: rest.startsWith(':') ? parsePort(rest.slice(1), spec) : 53 };
  }
  if (isIPv6(s)) return { host: s, port: 53 };
  const colon = s.lastIndexOf(':');
  if (colon < 0) return { host: s, port: 53 };
  return { host: s.slice(0, colon), port: parsePort(s.slice(colon + 1), spec) };
}

function parsePort(p: string, spec: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port in DNS server "${spec}"`);
  return n;
}

export interface DnsTransportOptions {
  servers: DnsServer[];
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts in total, rotating through the servers. */
  tries: number;
}

export class DnsTransport {
  constructor(private readonly options: DnsTransportOptions) {
    if (options.servers.length === 0) throw new Error('no DNS servers configured');
  }

  /**
   * Asks the servers in turn until one gives a definitive answer (NOERROR or NXDOMAIN).
   * SERVFAIL/REFUSED from the last server asked is returned as is; timeouts and network
   * errors throw DnsTransportError.
   */
  async query(name: string, type: RecordType, signal?: AbortSignal): Promise<DnsResponse> {
    const { servers, tries } = this.options;
    let last: DnsResponse | undefined;
    let lastError: DnsTransportError = new DnsTransportError('timeout');
    for (let attempt = 0; attempt < Math.max(1, tries); attempt++) {
      if (signal?.aborted) throw new DnsTransportError('aborted');
      const server = servers[attempt % servers.length]!;
      try {
        let r = await this.udp(server, name, type, signal);
        if (r.truncated) r = await this.tcp(server, name, type, signal);
        if (r.response.rcode === 'NOERROR' || r.response.rcode === 'NXDOMAIN') return r.response;
        last = r.response;
      } catch (err) {
        if (!(err instanceof DnsTransportError) || err.kind === 'aborted') throw err;
        lastError = err;
      }
    }
    if (last !== undefined) return last;
    throw lastError;
  }

  private udp(server: DnsServer, name: string, type: RecordType, signal?: AbortSignal): Promise<Exchanged> {
    const id = randomInt(0, 65536);
    const query = dnsPacket.encode(question(id, name, type));
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
      const finish = exchangeEnd(resolve, reject, this.options.timeoutMs, signal, () => socket.close());
      socket.on('error', () => finish(new DnsTransportError('network')));
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== server.port || !sameHost(rinfo.address, server.host)) return;
        let packet: Packet;
        try {
          packet = dnsPacket.decode(msg);
        } catch {
          return; // garbage is ignored like a spoof: the timer decides
        }
        if (!matches(packet, id, name, type)) return;
        finish(null, {
          response: toResponse(packet),
          truncated: ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0,
        });
      });
      socket.send(query, server.port, server.host, (err) => {
        if (err) finish(new DnsTransportError('network'));
      });
    });
  }

  private tcp(server: DnsServer, name: string, type: RecordType, signal?: AbortSignal): Promise<Exchanged> {
    const id = randomInt(0, 65536);
    const query = dnsPacket.streamEncode(question(id, name, type));
    return new Promise((resolve, reject) => {
      const socket = new TcpSocket();
      let buffered = Buffer.alloc(0);
      const finish = exchangeEnd(resolve, reject, this.options.timeoutMs, signal, () => socket.destroy());
      socket.on('error', () => finish(new DnsTransportError('network')));
      socket.on('close', () => finish(new DnsTransportError('network')));
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
        let packet: Packet;
        try {
          packet = dnsPacket.streamDecode(buffered);
        } catch {
          finish(new DnsTransportError('malformed'));
          return;
        }
        if (!matches(packet, id, name, type)) finish(new DnsTransportError('malformed'));
        else finish(null, { response: toResponse(packet), truncated: false });
      });
      socket.connect(server.port, server.host, () => socket.write(query));
    });
  }
}

/** A recursive query for one name and type. */
function question(id: number, name: string, type: RecordType): Packet {
  return { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] };
}

type Exchanged = { response: DnsResponse; truncated: boolean };

/**
 * The end of one query's exchange: settles the promise once (an answer, an error, the timeout
 * or the abort, whichever comes first), then clears the timer and releases the socket.
 */
function exchangeEnd(
  resolve: (value: Exchanged) => void,
  reject: (err: Error) => void,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  release: () => void,
): (err: Error | null, value?: Exchanged) => void {
  let settled = false;
  const finish = (err: Error | null, value?: Exchanged) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    release();
    if (err) reject(err);
    else resolve(value!);
  };
  const onAbort = () => finish(new DnsTransportError('aborted'));
  const timer = setTimeout(() => finish(new DnsTransportError('timeout')), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return finish;
}

function sameHost(a: string, b: string): boolean {
  return a === b || a === `::ffff:${b}`;
}

function matches(packet: Packet, id: number, name: string, type: RecordType): boolean {
  if (packet.type !== 'response' || packet.id !== id) return false;
  const q = packet.questions?.[0];
  return q !== undefined && q.type === type && q.name.toLowerCase() === name.toLowerCase();
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function toResponse(packet: Packet): DnsResponse {
  const code = (packet.flags ?? 0) & 0xf;
  return {
    rcode: RCODES[code] ?? `RCODE${code}`,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
  };
}
