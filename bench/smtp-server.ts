import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { type LocalDnsServer, type LocalZone, startLocalDnsServer } from '../src/sim/local-dns-server.js';
import { sampleDnsZones } from '../src/sim/sample-zones.js';

/**
 * The slow mail provider of the SMTP contenders: two smtp-server instances on 127.0.0.2 and
 * 127.0.0.3 (one port number, as SMTP_PORT is one setting) that answer RCPT TO after a fixed
 * latency, and a loopback DNS server on which every sample domain with MX has its MX at one
 * of them — `mx1`/`mx2.bench-mail.test`, one provider for the per-provider limits. So a
 * prober's probe rate is bounded by the provider's connection limit / latency (Little's law).
 *
 * Only RCPT carries the latency. smtp-server waits 100 ms before every greeting (to catch
 * clients that talk too soon); that pause, paid once per connection, is not part of this
 * provider's model, so these servers greet at once (`PROMPT`, below). The reverse lookup of
 * the client's address is skipped for the same reason.
 *
 * The servers also measure what the bound assumes: how many sessions were open and how many
 * RCPTs were being held at each moment (time-weighted, so Little's law can be checked from
 * the server's side: RCPT rate = RCPTs held on average / hold time), how long each RCPT was
 * actually held (the timer's own lateness included), and how many connections were opened.
 */
export interface SlowSmtp {
  /** `smtp://` URL of the first MX host, for the report. */
  url: string;
  port: number;
  /** `host:port` of the DNS server (DNS_SERVERS). */
  dns: string;
  /** The provider's registrable domain (the SMTP_PROVIDER_LIMITS key). */
  provider: string;
  /** RCPT TO commands answered so far: one per probe with SMTP_CATCH_ALL_CHECK=false. */
  requests(): number;
  /** What the servers saw since the last `resetStats` (or start). */
  stats(): SmtpServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

export interface SmtpServerStats {
  seconds: number;
  connections: number;
  mails: number;
  rcpts: number;
  /** Mean time from accepting a connection to the session's start (before the greeting). */
  acceptToSessionMs: number;
  /** Connections open (accept to close): the most at once, and the time-weighted mean. */
  maxSessions: number;
  meanSessions: number;
  /** RCPTs being held (the latency running): the most at once, and the time-weighted mean. */
  maxRcptsHeld: number;
  meanRcptsHeld: number;
  /** Time from onRcptTo to its answer, ms: mean, p50, p99 (the timer's lateness included). */
  holdMs: { mean: number; p50: number; p99: number };
}

/**
 * The servers that greet without smtp-server's early-talker pause. Its `init` sets up the
 * socket's listeners and then waits 100 ms before `connectionReady` (reverse lookup, onConnect,
 * greeting); for these servers it goes on at once. `acceptToSessionMs` in the stats shows
 * whether this still holds after an upgrade of smtp-server.
 */
const PROMPT = new WeakSet<SMTPServer>();
const init = SMTPConnection.prototype.init;
SMTPConnection.prototype.init = function (this: SMTPConnection): void {
  if (!PROMPT.has(this._server)) init.call(this);
  else this._setListeners(() => this.connectionReady());
};

export const BENCH_MAIL_PROVIDER = 'bench-mail.test';
const HOSTS = ['127.0.0.2', '127.0.0.3'];

/** A count whose time integral is kept, for time-weighted means. */
class Level {
  value = 0;
  max = 0;
  private area = 0;
  private since = performance.now();
  private start = this.since;

  add(d: number): void {
    const now = performance.now();
    this.area += this.value * (now - this.since);
    this.since = now;
    this.value += d;
    if (this.value > this.max) this.max = this.value;
  }

  mean(): number {
    this.add(0);
    const span = this.since - this.start;
    return span > 0 ? this.area / span : 0;
  }

  reset(): void {
    this.add(0);
    this.area = 0;
    this.start = this.since;
    this.max = this.value;
  }
}

export async function startSlowSmtp(latencyMs: number): Promise<SlowSmtp> {
  let answered = 0;
  let connections = 0;
  let mails = 0;
  let since = performance.now();
  const sessions = new Level();
  const held = new Level();
  // Hold times in 0.1 ms buckets up to 10 s: a bounded histogram, no per-RCPT allocation.
  const holds = new Uint32Array(100_001);
  let holdCount = 0;
  let holdSum = 0;
  const accepted = new Map<string, number>();
  let acceptSum = 0;
  let acceptCount = 0;
  const servers: SMTPServer[] = [];
  let port = 0;
  for (const host of HOSTS) {
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      maxClients: 10_000,
      disableReverseLookup: true,
      onConnect(session, callback) {
        const t = accepted.get(`${session.remotePort}`);
        if (t !== undefined) {
          accepted.delete(`${session.remotePort}`);
          acceptSum += performance.now() - t;
          acceptCount++;
        }
        connections++;
        callback();
      },
      onMailFrom(_address, _session, callback) {
        mails++;
        callback();
      },
      onRcptTo(_address, _session, callback) {
        const t0 = performance.now();
        held.add(1);
        setTimeout(() => {
          const ms = performance.now() - t0;
          held.add(-1);
          holds[Math.min(holds.length - 1, Math.round(ms * 10))]!++;
          holdCount++;
          holdSum += ms;
          answered++;
          callback();
        }, latencyMs);
      },
    });
    PROMPT.add(server);
    // A client that resets its connection is not the benchmark's failure.
    server.on('error', () => {});
    // Connections are counted from their accept until one side ends it (the client's FIN,
    // the server's own end after QUIT) or it closes: a socket's close event waits for a later
    // phase of the event loop than the accept of the client's next connection, which the
    // client opens only once the old one is gone on its side.
    server.server.prependListener('connection', (socket: Socket) => {
      accepted.set(`${socket.remotePort}`, performance.now());
      sessions.add(1);
      let open = true;
      const gone = () => {
        if (open) sessions.add(-1);
        open = false;
      };
      socket.once('end', gone);
      socket.once('finish', gone);
      socket.once('close', gone);
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    port = (server.server.address() as AddressInfo).port;
    servers.push(server);
  }
  const zones: Record<string, LocalZone> = {};
  let i = 0;
  for (const [name, zone] of Object.entries(sampleDnsZones())) {
    const hasMx = (zone.mx ?? []).some((m) => m.exchange !== '.');
    zones[name] = hasMx
      ? { ...zone, mx: [{ exchange: `mx${(i++ % HOSTS.length) + 1}.${BENCH_MAIL_PROVIDER}`, preference: 10 }] }
      : zone;
  }
  HOSTS.forEach((ip, n) => {
    zones[`mx${n + 1}.${BENCH_MAIL_PROVIDER}`] = { a: [ip], ttl: 3600 };
  });
  const dns: LocalDnsServer = await startLocalDnsServer(zones);
  const percentile = (q: number) => {
    let seen = 0;
    for (let b = 0; b < holds.length; b++) {
      seen += holds[b]!;
      if (seen >= q * holdCount) return b / 10;
    }
    return 0;
  };
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  let rcptBase = 0;
  return {
    url: `smtp://${HOSTS[0]}:${port}`,
    port,
    dns: dns.address,
    provider: BENCH_MAIL_PROVIDER,
    requests: () => answered,
    stats: () => ({
      seconds: round((performance.now() - since) / 1000),
      connections,
      mails,
      rcpts: answered - rcptBase,
      acceptToSessionMs: round(acceptCount > 0 ? acceptSum / acceptCount : 0, 2),
      maxSessions: sessions.max,
      meanSessions: round(sessions.mean()),
      maxRcptsHeld: held.max,
      meanRcptsHeld: round(held.mean()),
      holdMs: {
        mean: round(holdCount > 0 ? holdSum / holdCount : 0, 2),
        p50: percentile(0.5),
        p99: percentile(0.99),
      },
    }),
    resetStats: () => {
      since = performance.now();
      connections = 0;
      mails = 0;
      rcptBase = answered;
      sessions.reset();
      held.reset();
      holds.fill(0);
      holdCount = 0;
      holdSum = 0;
      acceptSum = 0;
      acceptCount = 0;
    },
    close: async () => {
      for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
      await dns.close();
    },
  };
}
