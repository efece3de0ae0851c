import { bool, type Field, int, list, optionalStr, redactUrlCredentials, str } from '../config-fields.js';
import { type ProviderLimit, parseProviderLimits } from './probe/manners.js';
import { parseAddress } from './syntax.js';

// RFC 1123 host name (LDH labels, the last starting with a letter), or an address literal.
const HELO =
  /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|\[[0-9.]{7,15}\]|\[IPv6:[0-9A-Fa-f:.]{2,45}\])$/;

/** SMTP_FROM: empty (the null reverse-path) or an address the syntax check accepts, no address literal. */
function reversePath(): Field<string> {
  const base = str({
    env: 'SMTP_FROM',
    description: 'Reverse-path for MAIL FROM, checked as an address at start. Empty sends the null reverse-path <>.',
    default: '',
    allowEmpty: true,
    example: 'verify@example.com',
  });
  return {
    ...base,
    parse(raw) {
      const v = base.parse(raw);
      if (v === '') return v;
      const parsed = parseAddress(v);
      if (!parsed.ok || parsed.addressLiteral || v.length > 254) throw new Error('must be an email address');
      return parsed.normalized;
    },
  };
}

function providerLimits(): Field<Record<string, ProviderLimit>> {
  const base = list({
    env: 'SMTP_PROVIDER_LIMITS',
    description:
      'Per mail provider (registrable domain of its MX hosts) concurrent connections and probes per minute, as provider=connections[:per-minute], comma-separated; added to the built-in ones (google.com, outlook.com, yahoodns.net … 5 connections).',
    default: [],
    example: 'google.com=5:300,outlook.com=3',
  });
  return {
    ...base,
    default: {},
    parse: (raw) => parseProviderLimits(base.parse(raw)),
    show: (v) =>
      Object.entries(v)
        .map(([k, l]) => `${k}=${l.concurrency}:${l.ratePerMinute}`)
        .join(','),
  };
}

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
  providerEnabled: bool({
    env: 'CHECK_PROVIDER',
    description: 'Ask the HTTP verification provider at PROVIDER_URL (see the provider contract in the README).',
    default: false,
  }),
  providerUrl: optionalStr({
    env: 'PROVIDER_URL',
    description:
      'Endpoint of the verification provider; receives POST {"email": …}. Required when CHECK_PROVIDER=true.',
    example: 'https://verify.example.com/v1/check',
    pattern: /^https?:\/\/\S+$/,
    redact: redactUrlCredentials,
  }),
  providerApiKey: optionalStr({
    env: 'PROVIDER_API_KEY',
    description: 'Sent as "Authorization: Bearer …" to the provider; never logged.',
    secret: true,
  }),
  providerRatePerSecond: int({
    env: 'PROVIDER_RATE_PER_SECOND',
    description: 'Provider requests per second, shared by all partitions of this process (token bucket).',
    default: 20,
    min: 1,
    max: 100_000,
  }),
  providerBurst: int({
    env: 'PROVIDER_BURST',
    description: 'Provider requests allowed at once above the steady rate (token bucket size).',
    default: 20,
    min: 1,
    max: 100_000,
  }),
  providerConcurrency: int({
    env: 'PROVIDER_CONCURRENCY',
    description: 'Provider requests in flight at most (also the keep-alive pool size).',
    default: 16,
    min: 1,
    max: 1024,
  }),
  providerRetries: int({
    env: 'PROVIDER_RETRIES',
    description: 'Retries after a 429, 5xx, reset or timeout, with exponential backoff and full jitter.',
    default: 3,
    min: 0,
    max: 10,
  }),
  providerBackoffBaseMs: int({
    env: 'PROVIDER_BACKOFF_BASE_MS',
    description: 'First retry waits up to this long; each further retry doubles it (full jitter).',
    default: 100,
    min: 1,
    max: 60_000,
  }),
  providerBackoffMaxMs: int({
    env: 'PROVIDER_BACKOFF_MAX_MS',
    description: 'Cap on one backoff wait, and on the Retry-After the client will honour before giving up.',
    default: 5000,
    min: 1,
    max: 600_000,
  }),
  providerConnectTimeoutMs: int({
    env: 'PROVIDER_CONNECT_TIMEOUT_MS',
    description: 'Time to open a connection to the provider.',
    default: 2000,
    min: 10,
    max: 60_000,
  }),
  providerHeadersTimeoutMs: int({
    env: 'PROVIDER_HEADERS_TIMEOUT_MS',
    description: 'Time from sending a request to receiving the response headers.',
    default: 5000,
    min: 10,
    max: 120_000,
  }),
  providerBodyTimeoutMs: int({
    env: 'PROVIDER_BODY_TIMEOUT_MS',
    description: 'Longest pause between two chunks of a response body.',
    default: 5000,
    min: 10,
    max: 120_000,
  }),
  providerBreakerThreshold: int({
    env: 'PROVIDER_BREAKER_THRESHOLD',
    description: 'Consecutive failed provider requests that open the circuit breaker (fail fast, verdict unknown).',
    default: 5,
    min: 1,
    max: 1000,
  }),
  providerBreakerCooldownMs: int({
    env: 'PROVIDER_BREAKER_COOLDOWN_MS',
    description: 'Time the breaker stays open before one probe request is let through (half-open).',
    default: 30_000,
    min: 10,
    max: 3_600_000,
  }),
  providerCacheTtlSeconds: int({
    env: 'PROVIDER_CACHE_TTL_SECONDS',
    description:
      'How long a definitive provider verdict is kept per address, so a duplicate sign-up or a retry does not pay twice; unknown answers are never kept. 0: no cache.',
    default: 3600,
    min: 0,
    max: 604_800,
  }),
  providerCacheSize: int({
    env: 'PROVIDER_CACHE_SIZE',
    description: 'Addresses kept in the provider verdict cache (oldest dropped first).',
    default: 100_000,
    min: 1,
    max: 10_000_000,
  }),
  smtpEnabled: bool({
    env: 'CHECK_SMTP',
    description:
      'Probe the best MX with EHLO/MAIL FROM/RCPT TO (no DATA), with catch-all detection. Off by default: most clouds block port 25.',
    default: false,
  }),
  smtpHelo: str({
    env: 'SMTP_HELO',
    description:
      'Name sent in EHLO, checked as a host name at start; use a fully-qualified name whose A/PTR records match the sending IP.',
    default: 'localhost',
    pattern: HELO,
  }),
  smtpFrom: reversePath(),
  smtpPort: int({
    env: 'SMTP_PORT',
    description: 'Port of the MX hosts to probe (25 in production; tests point it at a local server).',
    default: 25,
    min: 1,
    max: 65_535,
  }),
  smtpTimeoutMs: int({
    env: 'SMTP_TIMEOUT_MS',
    description: 'Idle time allowed at each step of the SMTP conversation.',
    default: 10_000,
    min: 50,
    max: 300_000,
  }),
  smtpCatchAllCheck: bool({
    env: 'SMTP_CATCH_ALL_CHECK',
    description:
      'After an accepted RCPT TO, try a random local part; if it is accepted too the domain is catch-all (risky).',
    default: true,
  }),
  smtpAllowPrivateNetworks: bool({
    env: 'SMTP_ALLOW_PRIVATE_NETWORKS',
    description:
      'Let the SMTP probe connect to loopback, private (RFC 1918), CGNAT, link-local and other non-public addresses. Only for tests and internal deployments.',
    default: false,
  }),
  smtpConversationTimeoutMs: int({
    env: 'SMTP_CONVERSATION_TIMEOUT_MS',
    description:
      'Total time one SMTP probe may take, waiting for a connection included; then the socket is destroyed (verdict unknown, detail deadline).',
    default: 8000,
    min: 100,
    max: 600_000,
  }),
  smtpMaxReplyBytes: int({
    env: 'SMTP_MAX_REPLY_BYTES',
    description: 'Longest SMTP reply (all its lines) accepted; reply lines are at most 512 octets (RFC 5321).',
    default: 16_384,
    min: 512,
    max: 1_048_576,
  }),
  smtpMaxConversationBytes: int({
    env: 'SMTP_MAX_CONVERSATION_BYTES',
    description: 'Bytes one SMTP probe may receive in all.',
    default: 65_536,
    min: 1024,
    max: 16_777_216,
  }),
  smtpProviderConcurrency: int({
    env: 'SMTP_PROVIDER_CONCURRENCY',
    description:
      'Connections open at once to one mail provider (all MX hosts under one registrable domain) not named in SMTP_PROVIDER_LIMITS.',
    default: 2,
    min: 1,
    max: 1000,
  }),
  smtpProviderRatePerMinute: int({
    env: 'SMTP_PROVIDER_RATE_PER_MINUTE',
    description: 'Probes per minute to one mail provider not named in SMTP_PROVIDER_LIMITS.',
    default: 60,
    min: 1,
    max: 1_000_000,
  }),
  smtpProviderLimits: providerLimits(),
  smtpRcptsPerConnection: int({
    env: 'SMTP_RCPTS_PER_CONNECTION',
    description: 'RCPT commands one SMTP connection carries (RSET between probes) before it is closed.',
    default: 20,
    min: 1,
    max: 1000,
  }),
  smtpBackoffMs: int({
    env: 'SMTP_BACKOFF_MS',
    description:
      'After a 421 or a reputation-looking reply, how long a mail provider is left alone: its probes answer unknown (rate_limited) at once and go to the retry topics.',
    default: 1_800_000,
    min: 1000,
    max: 86_400_000,
  }),
  smtpCatchAllTtlSeconds: int({
    env: 'SMTP_CATCH_ALL_TTL_SECONDS',
    description:
      "How long a domain's catch-all answer is kept; the random-recipient probe runs once per domain per TTL.",
    default: 86_400,
    min: 1,
    max: 2_592_000,
  }),
  smtpProxy: optionalStr({
    env: 'SMTP_PROXY',
    description:
      'SOCKS5 proxy for SMTP probes, socks5://user:password@host:port; the proxy is asked for the resolved address, never the name.',
    example: 'socks5://probe:secret@10.0.0.5:1080',
    pattern: /^socks5h?:\/\/(?:[^@/\s]*@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\/?$/,
    secret: true,
  }),
};
