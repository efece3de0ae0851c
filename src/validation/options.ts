import { bool, int, list, optionalStr, str } from '../config-fields.js';

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
  smtpEnabled: bool({
    env: 'CHECK_SMTP',
    description:
      'Probe the best MX with EHLO/MAIL FROM/RCPT TO (no DATA), with catch-all detection. Off by default: most clouds block port 25.',
    default: false,
  }),
  smtpHelo: str({
    env: 'SMTP_HELO',
    description: 'Name sent in EHLO; use a fully-qualified name whose A/PTR records match the sending IP.',
    default: 'localhost',
  }),
  smtpFrom: str({
    env: 'SMTP_FROM',
    description: 'Reverse-path for MAIL FROM. Empty sends the null reverse-path <>.',
    default: '',
    allowEmpty: true,
    example: 'verify@example.com',
  }),
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
};
