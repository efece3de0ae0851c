import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

/** SMTP_HELO is checked as a host name and SMTP_FROM as an address when the process starts. */
describe('SMTP settings checked at start', () => {
  it.each([['localhost'], ['probe.example.com'], ['mx-1.example.co.uk'], ['[192.0.2.1]']])(
    'SMTP_HELO=%s is accepted',
    (helo) => {
      expect(loadConfig({}, { SMTP_HELO: helo }).validation.smtpHelo).toBe(helo);
    },
  );

  it.each([
    ['probe example.com'],
    ['probe.example.com\r\nRCPT TO:<x@y>'],
    ['-bad.example.com'],
    ['example.123'],
    ['under_score.example.com'],
    ['a'.repeat(64) + '.example.com'],
  ])('SMTP_HELO=%j is refused', (helo) => {
    expect(() => loadConfig({}, { SMTP_HELO: helo })).toThrow(/SMTP_HELO/);
  });

  it.each([
    ['', ''],
    ['verify@example.com', 'verify@example.com'],
    ['Verify@EXAMPLE.com', 'Verify@example.com'],
  ])('SMTP_FROM=%j is accepted as %j', (from, stored) => {
    expect(loadConfig({}, { SMTP_FROM: from }).validation.smtpFrom).toBe(stored);
  });

  it.each([
    ['verify'],
    ['verify@'],
    ['a@b@c.com'],
    ['verify@example.com>\r\nRCPT TO:<x@y.z'],
    ['v@[127.0.0.1]'],
    ['<verify@example.com>'],
  ])('SMTP_FROM=%j is refused', (from) => {
    expect(() => loadConfig({}, { SMTP_FROM: from })).toThrow(/SMTP_FROM/);
  });

  it('SMTP_PROVIDER_LIMITS is read as provider=connections[:per-minute]', () => {
    expect(
      loadConfig({}, { SMTP_PROVIDER_LIMITS: 'google.com=3:100,example.net=1' }).validation.smtpProviderLimits,
    ).toEqual({
      'google.com': { concurrency: 3, ratePerMinute: 100 },
      'example.net': { concurrency: 1, ratePerMinute: 60 },
    });
    expect(() => loadConfig({}, { SMTP_PROVIDER_LIMITS: 'google.com=many' })).toThrow(/SMTP_PROVIDER_LIMITS/);
  });
});
