/**
 * The few domain facts no maintained package carries, shipped with the package and tested
 * (test/validation/known-domains.test.ts). Each entry says why it is here.
 */

/**
 * Privacy relays: a relay address forwards to the user's real, long-lived mailbox, so it
 * is flagged `relay` and never `disposable` (several disposable lists carry them). Each
 * entry covers its subdomains too (Firefox Relay and addy.io give users a subdomain).
 */
export const RELAY_DOMAINS: readonly string[] = [
  // DuckDuckGo Email Protection
  'duck.com',
  // Firefox Relay
  'mozmail.com',
  'relay.firefox.com',
  // Apple Hide My Email (Sign in with Apple)
  'privaterelay.appleid.com',
  // SimpleLogin (Proton)
  'simplelogin.com',
  'simplelogin.co',
  'simplelogin.io',
  'simplelogin.fr',
  'slmail.me',
  'aleeas.com',
  'silomails.com',
  'slmails.com',
  '8alias.com',
  '8shield.net',
  'dralias.com',
  // Proton Pass aliases
  'passmail.net',
  'passmail.com',
  'passinbox.com',
  'passfwd.com',
  // addy.io (formerly AnonAddy)
  'addy.io',
  'anonaddy.com',
  'anonaddy.me',
  // 33mail
  '33mail.com',
];

/**
 * Real institutions and businesses that a disposable list carries by mistake (each found by
 * test/validation/corpora.test.ts against the real-domain corpus). The deployment's
 * `ALLOW_LIST_FILE` adds its own.
 */
export const INSTITUTION_DOMAINS: readonly string[] = [
  // National University of Singapore (mailchecker lists it, and so every subdomain)
  'nus.edu.sg',
  // listed as a university domain by the swot data (academic-email-verifier)
  'lsmu.com',
  // GoDaddy's domain marketplace, a Moz top-500 site
  'afternic.com',
];

/**
 * Country-code TLDs that typo-squatters register big providers' names under, because they
 * are one keystroke from a generic TLD: `.co`, `.cm` and `.om` for `.com`, `.ne` and `.et`
 * for `.net`. A domain `<provider>.<squat>` is a typo even though its TLD exists and a
 * free-provider list may carry it (gmail.co). Any other valid TLD is taken as meant
 * (gmx.at, mail.ee, yahoo.fr).
 */
export const SQUAT_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  com: ['co', 'cm', 'om'],
  net: ['ne', 'et'],
};
