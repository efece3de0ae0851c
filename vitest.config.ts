import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One real broker for the whole run, started here unless KAFKA_BROKERS points at one.
    globalSetup: ['./test/global-setup.ts'],
    setupFiles: ['./test/setup-kafkajs.ts'],
    include: ['test/**/*.test.ts'],
    // Fault tests bring their own clusters: npm run test:chaos.
    exclude: ['test/chaos/**', '**/node_modules/**'],
    testTimeout: 60_000,
    // On CI (a shared machine) a failed test runs once more; .ci/run names every test that
    // needed its retry, with its first error, so noise is seen and not taken for a verdict.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 120_000,
    // The machine has 2 cores and the broker needs one; integration files share it.
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: process.env.EFV_TEST_REPORT ?? '.vitest-report.json' }]],
  },
});
