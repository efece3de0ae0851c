import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { type LocalDnsServer, type LocalZone, startLocalDnsServer } from '../src/sim/local-dns-server.js';
import { sampleDnsZones } from '../src/sim/sample-zones.js';

/**
 * The slow mail provider of the SMTP contenders: two smtp-server instances on 127.0.0.2 and
 * 127.0.0.3 (one port number, as SMTP_PORT is one setting) that answer RCPT TO after a fixed
 * latency, and a loopback DNS server on which every sample domain with MX has its MX at one
 * of them — `mx1`/`mx2.bench-mail.test`, one provider for the per-provider limits. So a
 * prober's probe rate is bounded by the provider's connection limit / latency (Little's law).
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
  close(): Promise<void>;
}

export const BENCH_MAIL_PROVIDER = 'bench-mail.test';
const HOSTS = ['127.0.0.2', '127.0.0.3'];

export async function startSlowSmtp(latencyMs: number): Promise<SlowSmtp> {
  let answered = 0;
  const servers: SMTPServer[] = [];
  let port = 0;
  for (const host of HOSTS) {
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      maxClients: 10_000,
      onRcptTo(_address, _session, callback) {
        setTimeout(() => {
          answered++;
          callback();
        }, latencyMs);
      },
    });
    // A client that resets its connection is not the benchmark's failure.
    server.on('error', () => {});
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
    url: `smtp://${HOSTS[0]}:${port}`,
    port,
    dns: dns.address,
    provider: BENCH_MAIL_PROVIDER,
    requests: () => answered,
    close: async () => {
      for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
      await dns.close();
    },
  };
}
