/**
 * A small DNS server on a loopback UDP port (and TCP on the same port, for truncated
 * answers) serving fixed zones. The tests use it to prove caching and single-flight by
 * counting the queries it receives; the demo and the benchmark use it so DNS checks run
 * on a machine with no outside network. Not a general-purpose DNS server.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server as TcpServer } from 'node:net';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

export interface LocalZone {
  mx?: { exchange: string; preference: number }[];
  a?: string[];
  aaaa?: string[];
  /** TTL of every record in this zone. */
  ttl?: number;
  /** SOA minimum for negative answers. */
  negativeTtl?: number;
  nxdomain?: boolean;
  servfail?: boolean;
  /** Never answer (the client must time out). */
  drop?: boolean;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Answer over UDP with TC set and no records, and fully over TCP. */
  truncate?: boolean;
}

export interface LocalDnsServer {
  port: number;
  address: string;
  zones: Map<string, LocalZone>;
  /** Queries received, keyed `name TYPE` (e.g. `example.test MX`), over both transports. */
  queries: Map<string, number>;
  queryCount(name: string, type: string): number;
  close(): Promise<void>;
}

const SOA_TEMPLATE = {
  mname: 'ns.test',
  rname: 'hostmaster.test',
  serial: 1,
  refresh: 3600,
  retry: 600,
  expire: 86400,
};

function answer(zones: Map<string, LocalZone>, query: Packet): Buffer | null {
  const q = query.questions?.[0] as Question;
  const name = q.name.toLowerCase();
  const zone = zones.get(name);
  const response: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [q],
    answers: [],
    authorities: [],
  };
  const soa = (ttl: number): Answer => ({
    type: 'SOA',
    name: name.split('.').slice(-1)[0] ?? name,
    ttl,
    data: { ...SOA_TEMPLATE, minimum: ttl },
  });
  if (zone === undefined || zone.nxdomain) {
    response.flags! |= 3; // NXDOMAIN
    response.authorities!.push(soa(zone?.negativeTtl ?? 60));
    return dnsPacket.encode(response);
  }
  if (zone.servfail) {
    response.flags! |= 2; // SERVFAIL
    return dnsPacket.encode(response);
  }
  const ttl = zone.ttl ?? 300;
  if (q.type === 'MX') for (const mx of zone.mx ?? []) response.answers!.push({ type: 'MX', name, ttl, data: mx });
  if (q.type === 'A') for (const ip of zone.a ?? []) response.answers!.push({ type: 'A', name, ttl, data: ip });
  if (q.type === 'AAAA')
    for (const ip of zone.aaaa ?? []) response.answers!.push({ type: 'AAAA', name, ttl, data: ip });
  if (response.answers!.length === 0) response.authorities!.push(soa(zone.negativeTtl ?? 60));
  return dnsPacket.encode(response);
}

export async function startLocalDnsServer(zones: Record<string, LocalZone> = {}): Promise<LocalDnsServer> {
  const zoneMap = new Map(Object.entries(zones));
  const queries = new Map<string, number>();
  const count = (q: Question) => {
    const key = `${q.name.toLowerCase()} ${q.type}`;
    queries.set(key, (queries.get(key) ?? 0) + 1);
  };

  // TCP and UDP share a port number; retry on the rare clash with another process.
  for (let attempt = 0; ; attempt++) {
    const udp: UdpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const tcp: TcpServer = createServer((conn) => {
      let buf = Buffer.alloc(0);
      conn.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        let query: Packet;
        try {
          query = dnsPacket.streamDecode(buf);
        } catch {
          conn.destroy();
          return;
        }
        buf = Buffer.alloc(0);
        const q = query.questions?.[0];
        if (!q) return;
        count(q);
        const out = answer(zoneMap, query);
        if (out) {
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          conn.write(framed);
        }
      });
      conn.on('error', () => {});
    });
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) {
      udp.close();
      if (attempt > 10) throw new Error('no free port pair for the local DNS server');
      continue;
    }

    const timers = new Set<NodeJS.Timeout>();
    udp.on('message', (msg, rinfo) => {
      let query: Packet;
      try {
        query = dnsPacket.decode(msg);
      } catch {
        return;
      }
      const q = query.questions?.[0];
      if (!q) return;
      count(q);
      const zone = zoneMap.get(q.name.toLowerCase());
      if (zone?.drop) return;
      let out: Buffer | null;
      if (zone?.truncate) {
        out = dnsPacket.encode({
          type: 'response',
          id: query.id ?? 0,
          flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_DESIRED,
          questions: [q],
          answers: [],
        });
      } else {
        out = answer(zoneMap, query);
      }
      if (!out) return;
      const send = () => udp.send(out, rinfo.port, rinfo.address);
      if (zone?.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, zone.delayMs);
        timers.add(t);
      } else {
        send();
      }
    });

    return {
      port,
      address: `127.0.0.1:${port}`,
      zones: zoneMap,
      queries,
      queryCount: (name, type) => queries.get(`${name} ${type}`) ?? 0,
      close: async () => {
        for (const t of timers) clearTimeout(t);
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      },
    };
  }
}
