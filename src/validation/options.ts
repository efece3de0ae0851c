import { bool, int, list, optionalStr } from '../config-fields.js';

/**
 * The validation engine's slice of the configuration. Each check can be turned off on its
 * own; the checks that reach the network have their own fields below.
 */
export const validationFields = {
  listsEnabled: bool({
    env: 'CHECK_LISTS',
    description: 'Disposable-domain, role-account and free-provider lists, and typo suggestions.',
    default: true,
  }),
  allowListFile: optionalStr({
    env: 'ALLOW_LIST_FILE',
    description:
      'File of domains (one per line, # comments) never flagged disposable, overriding the packaged lists; subdomains match too.',
    example: '/etc/efv/allow-domains.txt',
  }),
  denyListFile: optionalStr({
    env: 'DENY_LIST_FILE',
    description:
      'File of domains (one per line, # comments) treated as disposable (risky, reason disposable); subdomains match too.',
    example: '/etc/efv/deny-domains.txt',
  }),
  dnsEnabled: bool({
    env: 'CHECK_DNS',
    description:
      'MX lookup with the RFC 5321 implicit-MX fallback and RFC 7505 null MX. Off, addresses pass with local checks only.',
    default: true,
  }),
  dnsServers: list({
    env: 'DNS_SERVERS',
    description: 'Resolvers to ask, comma-separated host, host:port or [v6]:port. Empty: the system resolvers.',
    default: [],
    example: '127.0.0.1:5353,[::1]:53',
    item: /^(\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:]+|[A-Za-z0-9.-]+(:\d{1,5})?)$/,
  }),
  dnsTimeoutMs: int({
    env: 'DNS_TIMEOUT_MS',
    description: 'Time to wait for one DNS answer before trying again or the next resolver.',
    default: 2000,
    min: 50,
    max: 60_000,
  }),
  dnsTries: int({
    env: 'DNS_TRIES',
    description: 'DNS attempts per query, rotating through DNS_SERVERS; then the address is unknown (dns_unavailable).',
    default: 2,
    min: 1,
    max: 10,
  }),
  dnsCacheSize: int({
    env: 'DNS_CACHE_SIZE',
    description: 'Domains kept in the MX cache (oldest dropped first).',
    default: 100_000,
    min: 0,
    max: 10_000_000,
  }),
  dnsMinTtlSeconds: int({
    env: 'DNS_MIN_TTL_SECONDS',
    description: 'Shortest time an answer is cached, whatever its TTL, so TTL-0 records do not cost a query per event.',
    default: 5,
    min: 0,
    max: 86_400,
  }),
  dnsMaxTtlSeconds: int({
    env: 'DNS_MAX_TTL_SECONDS',
    description: 'Longest time a positive answer is cached, whatever its TTL.',
    default: 3600,
    min: 0,
    max: 604_800,
  }),
  dnsMaxNegativeTtlSeconds: int({
    env: 'DNS_MAX_NEGATIVE_TTL_SECONDS',
    description: 'Longest time NXDOMAIN or "no MX" is cached (RFC 2308: the SOA minimum, capped here).',
    default: 300,
    min: 0,
    max: 86_400,
  }),
};
