import type { AddressInfo, Socket } from 'node:net';
import { getPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { type LocalDnsServer, type LocalZone, startLocalDnsServer } from '../src/sim/local-dns-server.js';
import { sampleDnsZones } from '../src/sim/sample-zones.js';
import {
  type HoldMode,
  HoldQueue,
  type HoldStats,
  holdModeFromEnv,
  holdWindow,
  Level,
  NO_HOLDS,
  serveAsProcess,
  spawnService,
} from './slow-service.js';

/**
 * The slow mail provider of the SMTP contenders: two smtp-server instances on 127.0.0.2 and
 * 127.0.0.3 (one port number, as SMTP_PORT is one setting) that answer RCPT TO after a fixed
 * latency, and a loopback DNS server on which every sample domain with MX has its MX at one
 * of them — `mx1`/`mx2.bench-mail.test`, one provider for the per-provider limits. So a
 * prober's probe rate is bounded by the provider's connection limit / latency (Little's law).
 *
 * Like the HTTP provider it runs as a process of its own at raised priority (slow-service.ts):
 * in the harness's process its RCPT timers fired late whenever the harness was busy, and
 * the bound measured was partly the harness's. The DNS server goes with it: it is not on the
 * probes' hot path (the validator caches the few sample domains' records; `dnsQueries` in the
 * stats shows how few reach it), but it is part of the provider, and the harness then serves
 * nothing itself.
 *
 * Only RCPT carries the latency, held exactly (a HoldQueue: one FIFO behind a precise alarm;
 * BENCH_PROVIDER_HOLD=timer, a timer per RCPT). smtp-server waits 100 ms before every greeting
 * (to catch clients that talk too soon); that pause, paid once per connection, is not part of
 * this provider's model, so these servers greet at once (`PROMPT`, below). The reverse lookup
 * of the client's address is skipped for the same reason.
 *
 * The servers also measure what the bound assumes: how many sessions were open and how many
 * RCPTs were being held at each moment (time-weighted, so Little's law can be checked from
 * the server's side: RCPT rate = RCPTs held on average / hold time), how long each RCPT was
 * actually held, and how many connections were opened.
 */
export interface SlowSmtp {
  /** `smtp://` URL of the first MX host, for the report. */
  url: string;
  port: number;
  /** `host:port` of the DNS server (DNS_SERVERS). */
  dns: string;
  /** The provider's registrable domain (the SMTP_PROVIDER_LIMITS key). */
  provider: string;
  /** RCPT TO commands answered so far (as last reported by its process, at most 100 ms old): one per probe with SMTP_CATCH_ALL_CHECK=false. */
  requests(): number;
  /** What the servers saw since the last `resetStats` (or start), as last reported. */
  stats(): SmtpServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Where the provider is: what its process reports when ready. */
type SmtpAddresses = Pick<SlowSmtp, 'url' | 'port' | 'dns' | 'provider'>;

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
  /** Time from onRcptTo to its answer, ms: mean, p50, p99 (bucket upper edges, 0.1 ms). */
  holdMs: { mean: number; p50: number; p99: number };
  /** Mean lateness of an answer past the latency, ms. */
  meanLateMs: number;
  /**
   * From an RCPT's answer to the session's next MAIL (the client's next probe), ms on average,
   * and the share more than 1 ms after it: ~0 while the client pipelines the next probe ahead.
   */
  meanNextMailMs: number;
  slowNextMail: number;
  /** DNS queries the provider's DNS server answered. */
  dnsQueries: number;
  /** The servers' nice value, the share of the time their event loop was busy, their CPU time per second. */
  priority: number;
  busy: number;
  cpu: number;
}

/** The servers' cumulative measurements since they started (the process's report; `inFlightMs`: ∫ RCPTs held dt). */
export interface SmtpServerSnapshot extends HoldStats {
  /** Connections accepted, MAIL FROMs. */
  connections: number;
  mails: number;
  /** Σ accept → session start, ms, over `sessionsStarted` sessions. */
  acceptMs: number;
  sessionsStarted: number;
  /** ∫ sessions open dt, ms. */
  sessionsMs: number;
  /** Open now, and the most at once since the previous snapshot. */
  sessions: number;
  held: number;
  peakSessions: number;
  peakHeld: number;
  dnsQueries: number;
  /** Next MAILs on a session after an RCPT's answer: how many, Σ answer → MAIL, ms, and those more than 1 ms after. */
  gaps: number;
  gapMs: number;
  slowGaps: number;
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

/** The servers, in this process (the bench runs them in their own: startSlowSmtp). */
export async function serveSlowSmtp(
  latencyMs: number,
  mode: HoldMode = 'queue',
): Promise<{ ready: SmtpAddresses; stats(): SmtpServerSnapshot; close(): Promise<void> }> {
  const started = performance.now();
  let connections = 0;
  let mails = 0;
  const sessions = new Level();
  const holds = new HoldQueue<() => void>(latencyMs, mode, (answer) => answer());
  const accepted = new Map<string, number>();
  // The client's side of a session: from an RCPT's answer to the next MAIL on it (~0 when the
  // next probe's commands were pipelined ahead and waited at the server).
  const lastAnswer = new WeakMap<object, number>();
  let gaps = 0;
  let gapMs = 0;
  let slowGaps = 0;
  let acceptMs = 0;
  let sessionsStarted = 0;
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
          acceptMs += performance.now() - t;
          sessionsStarted++;
        }
        connections++;
        callback();
      },
      onMailFrom(_address, session, callback) {
        mails++;
        const answeredAt = lastAnswer.get(session);
        if (answeredAt !== undefined) {
          const gap = performance.now() - answeredAt;
          gaps++;
          gapMs += gap;
          if (gap > 1) slowGaps++;
        }
        callback();
      },
      onRcptTo(_address, session, callback) {
        holds.hold(() => {
          lastAnswer.set(session, performance.now());
          callback();
        }, holds.arrive());
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
  return {
    ready: { url: `smtp://${HOSTS[0]}:${port}`, port, dns: dns.address, provider: BENCH_MAIL_PROVIDER },
    stats: () => {
      const now = performance.now();
      let dnsQueries = 0;
      for (const n of dns.queries.values()) dnsQueries += n;
      return {
        atMs: now - started,
        ...holds.stats(now),
        priority: getPriority(),
        connections,
        mails,
        acceptMs,
        sessionsStarted,
        sessionsMs: sessions.integral(now),
        sessions: sessions.value,
        held: holds.held.value,
        peakSessions: sessions.takePeak(),
        peakHeld: holds.held.takePeak(),
        dnsQueries,
        gaps,
        gapMs,
        slowGaps,
      };
    },
    close: async () => {
      holds.close();
      for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
      await dns.close();
    },
  };
}

/**
 * Runs the mail provider in a process of its own (slow-service.ts) and reads its reports:
 * `stats` is the difference of its cumulative measurements since `resetStats`, the peaks the
 * most any report since then saw.
 */
export async function startSlowSmtp(latencyMs: number): Promise<SlowSmtp> {
  let base: SmtpServerSnapshot | undefined;
  let peaks = { sessions: 0, held: 0 };
  const service = await spawnService<SmtpAddresses, SmtpServerSnapshot>(
    fileURLToPath(import.meta.url),
    [String(latencyMs)],
    (s) => {
      peaks = { sessions: Math.max(peaks.sessions, s.peakSessions), held: Math.max(peaks.held, s.peakHeld) };
    },
  );
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    ...service.ready,
    requests: () => service.last()?.answered ?? 0,
    stats: () => {
      const to = service.last() ?? NONE;
      const from = base ?? NONE;
      const dt = to.atMs - from.atMs;
      const w = holdWindow(from, to, latencyMs);
      const started = to.sessionsStarted - from.sessionsStarted;
      const gaps = to.gaps - from.gaps;
      return {
        seconds: round(dt / 1000),
        connections: to.connections - from.connections,
        mails: to.mails - from.mails,
        rcpts: to.answered - from.answered,
        acceptToSessionMs: round(started > 0 ? (to.acceptMs - from.acceptMs) / started : 0, 2),
        maxSessions: peaks.sessions,
        meanSessions: round(dt > 0 ? (to.sessionsMs - from.sessionsMs) / dt : 0),
        maxRcptsHeld: peaks.held,
        meanRcptsHeld: round(dt > 0 ? (to.inFlightMs - from.inFlightMs) / dt : 0),
        holdMs: { mean: round(w?.meanHoldMs ?? 0, 2), p50: round(w?.p50HoldMs ?? 0), p99: round(w?.p99HoldMs ?? 0) },
        meanLateMs: round(w?.meanLateMs ?? 0, 2),
        meanNextMailMs: round(gaps > 0 ? (to.gapMs - from.gapMs) / gaps : 0, 2),
        slowNextMail: round(gaps > 0 ? (to.slowGaps - from.slowGaps) / gaps : 0, 3),
        dnsQueries: to.dnsQueries - from.dnsQueries,
        priority: to.priority,
        busy: round(w?.busy ?? 0, 2),
        cpu: round(w?.cpu ?? 0, 2),
      };
    },
    resetStats: () => {
      base = service.last();
      peaks = { sessions: base?.sessions ?? 0, held: base?.held ?? 0 };
    },
    close: service.close,
  };
}

/** Before the first report: nothing seen. */
const NONE: SmtpServerSnapshot = {
  ...NO_HOLDS,
  connections: 0,
  mails: 0,
  acceptMs: 0,
  sessionsStarted: 0,
  sessionsMs: 0,
  sessions: 0,
  held: 0,
  peakSessions: 0,
  peakHeld: 0,
  dnsQueries: 0,
  gaps: 0,
  gapMs: 0,
  slowGaps: 0,
};

// As a process: `node --import tsx bench/smtp-server.ts <latencyMs> [queue|timer]` prints
// where the servers are, then their cumulative measurements every 100 ms while they change.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const latencyMs = Number(process.argv[2] ?? 20);
  const mode = holdModeFromEnv(process.argv[3] ?? process.env.BENCH_PROVIDER_HOLD);
  await serveAsProcess(() => serveSlowSmtp(latencyMs, mode));
}
