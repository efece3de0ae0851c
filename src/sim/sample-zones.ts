import type { LocalZone } from './local-dns-server.js';
import { SAMPLE_DOMAINS } from './synthetic.js';

/**
 * DNS answers for the sample domains, served by the loopback DNS server in the demo and the
 * benchmark, so the DNS check runs for real on a machine with no outside network:
 * every provider and company domain has MX, the typo and disposable domains too (they
 * exist in real life), `no-such-domain`/`nxdomain` do not exist, `null-mx.example`
 * publishes a null MX (RFC 7505) and `dns-down.example` answers SERVFAIL.
 */
export function sampleDnsZones(): Record<string, LocalZone> {
  const zones: Record<string, LocalZone> = {};
  const withMx = [
    ...SAMPLE_DOMAINS.free,
    ...SAMPLE_DOMAINS.company,
    ...SAMPLE_DOMAINS.typo,
    ...SAMPLE_DOMAINS.disposable,
  ];
  for (const d of withMx) zones[d] = { mx: [{ exchange: `mx1.${d}`, preference: 10 }], a: ['192.0.2.10'], ttl: 3600 };
  zones['no-such-domain.example'] = { nxdomain: true, negativeTtl: 300 };
  zones['nxdomain.example'] = { nxdomain: true, negativeTtl: 300 };
  zones['null-mx.example'] = { mx: [{ exchange: '.', preference: 0 }], ttl: 3600 };
  zones['dns-down.example'] = { servfail: true };
  return zones;
}
