import type { SignupEvent } from '../contract/schemas.js';

/**
 * Deterministic synthetic sign-ups with a realistic mix: mostly good addresses at free
 * providers and company domains, some typos of big providers, disposable domains, role
 * accounts, malformed input and domains that do not exist. Seeded, so a benchmark or a test
 * sees the same stream every run.
 */
export const SAMPLE_DOMAINS = {
  free: ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'gmx.de', 'proton.me'],
  company: ['example.com', 'example.org', 'example.net'],
  typo: ['gmial.com', 'gmai.com', 'hotmial.com', 'yaho.com', 'outlok.com'],
  disposable: ['mailinator.com', 'yopmail.com', 'guerrillamail.com', '10minutemail.com'],
  nonexistent: ['no-such-domain.example', 'nxdomain.example', 'null-mx.example'],
  unreachable: ['dns-down.example'],
} as const;

const FIRST = [
  'anna',
  'ben',
  'chloe',
  'dmitri',
  'elif',
  'farid',
  'grace',
  'hiro',
  'ines',
  'jonas',
  'kofi',
  'lena',
  'marta',
  'noah',
  'olga',
  'pavel',
  'quinn',
  'rosa',
  'sven',
  'tariq',
  'uma',
  'vera',
  'wei',
  'ximena',
  'yusuf',
  'zoe',
];
const LAST = [
  'smith',
  'muller',
  'garcia',
  'rossi',
  'kowalski',
  'nakamura',
  'okafor',
  'silva',
  'novak',
  'jensen',
  'dubois',
  'ivanova',
];
const ROLES = ['info', 'admin', 'support', 'sales', 'noreply', 'postmaster'];
const MALFORMED = [
  'plainaddress',
  'two@@example.com',
  'trailing.dot.@example.com',
  '@no-local.example.com',
  'no-domain@',
  'spaces in@example.com',
  'a@b@c.example.com',
  'dot..dot@example.com',
  '',
];

export type SampleKind = 'valid' | 'typo' | 'disposable' | 'role' | 'malformed' | 'nonexistent' | 'unreachable';

/** Share of each kind, in percent. */
export const SAMPLE_MIX: Record<SampleKind, number> = {
  valid: 69,
  typo: 6,
  disposable: 8,
  role: 6,
  malformed: 6,
  nonexistent: 4,
  unreachable: 1,
};

/** mulberry32: a tiny, fast, seedable PRNG; quality is ample for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticSignup {
  kind: SampleKind;
  event: SignupEvent;
}

export function* syntheticSignups(
  count: number,
  seed = 42,
  startAt = Date.UTC(2026, 10, 1),
): Generator<SyntheticSignup> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const kinds = Object.entries(SAMPLE_MIX) as [SampleKind, number][];
  for (let i = 0; i < count; i++) {
    let roll = rand() * 100;
    let kind: SampleKind = 'valid';
    for (const [k, share] of kinds) {
      if (roll < share) {
        kind = k;
        break;
      }
      roll -= share;
    }
    const person = `${pick(FIRST)}.${pick(LAST)}${Math.floor(rand() * 1000)}`;
    let email: string;
    switch (kind) {
      case 'valid':
        email = `${person}@${rand() < 0.6 ? pick(SAMPLE_DOMAINS.free) : pick(SAMPLE_DOMAINS.company)}`;
        break;
      case 'typo':
        email = `${person}@${pick(SAMPLE_DOMAINS.typo)}`;
        break;
      case 'disposable':
        email = `${person}@${pick(SAMPLE_DOMAINS.disposable)}`;
        break;
      case 'role':
        email = `${pick(ROLES)}@${pick(SAMPLE_DOMAINS.company)}`;
        break;
      case 'malformed':
        email = pick(MALFORMED);
        break;
      case 'nonexistent':
        email = `${person}@${pick(SAMPLE_DOMAINS.nonexistent)}`;
        break;
      default:
        email = `${person}@${pick(SAMPLE_DOMAINS.unreachable)}`;
    }
    // Some users type with capitals and stray spaces; normalisation must cope.
    if (rand() < 0.05) email = ` ${email.toUpperCase()} `;
    const userId = `user-${Math.floor(rand() * Math.max(1, count / 2))}`;
    yield {
      kind,
      event: {
        eventId: `evt-${seed}-${i}`,
        userId,
        email,
        occurredAt: startAt + i * 10,
        source: pick(['web', 'ios', 'android', 'partner-api']),
        locale: pick(['en-US', 'de-CH', 'fr-FR', 'ja-JP', null]),
      },
    };
  }
}
