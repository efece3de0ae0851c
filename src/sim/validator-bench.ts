/**
 * Validator throughput, for the benchmark harness (`npm run bench`): addresses per second
 * through `validate()` on one core, with local checks only, and with DNS against a local
 * DNS server once its cache is warm. No network beyond 127.0.0.1.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config.js';
import { createValidator } from '../validation/validator.js';
import { type LocalZone, startLocalDnsServer } from './local-dns-server.js';

export interface ThroughputResult {
  /** Addresses per second. */
  perSecond: number;
  addresses: number;
  elapsedMs: number;
  /** Verdict counts, to show the mix was realistic. */
  verdicts: Record<string, number>;
}

const BENCH_DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'hotmail.co.uk',
  'acme-corp.com',
  'example-shop.io',
  'bücher.de',
  'mailinator.com',
  'gmial.com',
  'gmail.con',
];

/**
 * A realistic mix: mostly valid personal addresses at a few hundred domains' worth of
 * repeats, some role accounts, disposable domains, typos, IDN and broken syntax.
 */
export function syntheticAddresses(count: number, domains: readonly string[] = BENCH_DOMAINS): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = domains[i % domains.length]!;
    const k = i % 20;
    if (k === 0) out.push(`not-an-address-${i}`);
    else if (k === 1) out.push(`admin@${d}`);
    else if (k === 2) out.push(`"quoted user ${i}"@${d}`);
    else if (k === 3) out.push(`jösé.${i}@${d}`);
    else if (k === 4) out.push(`  First.Last+${i}@${d.toUpperCase()} `);
    else out.push(`user.${i}@${d}`);
  }
  return out;
}

async function drive(
  validate: (a: string) => Promise<{ verdict: string }>,
  addresses: string[],
  durationMs: number,
): Promise<ThroughputResult> {
  const verdicts: Record<string, number> = {};
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  // Batches of concurrent calls, as the pipeline issues them within a partition.
  const batch = 256;
  while (elapsed < durationMs) {
    for (let i = 0; i < addresses.length; i += batch) {
      const slice = addresses.slice(i, i + batch);
      const results = await Promise.all(slice.map(validate));
      for (const r of results) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
      n += slice.length;
    }
    elapsed = performance.now() - start;
  }
  return { perSecond: Math.round(n / (elapsed / 1000)), addresses: n, elapsedMs: Math.round(elapsed), verdicts };
}

/** Syntax + lists, no I/O. */
export async function benchLocalChecks(
  options: { durationMs?: number; addresses?: string[] } = {},
): Promise<ThroughputResult> {
  const validator = createValidator(loadConfig({}, { CHECK_DNS: 'false', CHECK_PROVIDER: 'false' }).validation);
  const addresses = options.addresses ?? syntheticAddresses(10_000);
  const signal = new AbortController().signal;
  const validate = (a: string) => validator.validate(a, { signal });
  await drive(validate, addresses.slice(0, 2_000), 200); // warm up the JIT and the domain cache
  return drive(validate, addresses, options.durationMs ?? 2_000);
}

/** Syntax + lists + DNS, against a local DNS server serving every benchmark domain, cache warm. */
export async function benchDnsWarmCache(options: { durationMs?: number } = {}): Promise<ThroughputResult> {
  const zones: Record<string, LocalZone> = {};
  for (const d of BENCH_DOMAINS) {
    const ascii = new URL(`http://${d}`).hostname;
    zones[ascii] = { mx: [{ exchange: `mx.${ascii}`, preference: 10 }], ttl: 3600 };
  }
  const server = await startLocalDnsServer(zones);
  try {
    const validator = createValidator(
      loadConfig({}, { CHECK_DNS: 'true', CHECK_PROVIDER: 'false', DNS_SERVERS: server.address }).validation,
    );
    const addresses = syntheticAddresses(10_000);
    const signal = new AbortController().signal;
    // One signal shared by a whole batch stands in for the pipeline's one-per-event signals.
    setMaxListeners(0, signal);
    const validate = (a: string) => validator.validate(a, { signal });
    await drive(validate, addresses.slice(0, 2_000), 200);
    return await drive(validate, addresses, options.durationMs ?? 2_000);
  } finally {
    await server.close();
  }
}
