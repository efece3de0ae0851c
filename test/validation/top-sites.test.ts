import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { topSiteDomains } from '../../scripts/update-top-sites.mjs';
import { TOP_SITES, TOP_SITES_VERSION } from '../../src/validation/data/top-sites.js';

describe('the shipped top-sites copy', () => {
  it('equals the installed top-sites package (run scripts/update-top-sites.mjs after a bump)', () => {
    const { version, domains } = topSiteDomains() as { version: string; domains: string[] };
    expect(TOP_SITES_VERSION).toBe(version);
    expect([...TOP_SITES]).toEqual(domains);
    expect(TOP_SITES.length).toBeGreaterThan(400);
  });
});
