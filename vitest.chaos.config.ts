import { defineConfig } from 'vitest/config';

/**
 * Fault tests: each file starts its own Kafka cluster (three nodes where it kills brokers)
 * and processor child processes, so they run one at a time, outside `npm test`'s broker.
 * `npm run test:chaos`; `.ci/run` runs them after `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    setupFiles: ['./test/setup-kafkajs.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // As in vitest.config.ts: on CI a failed test runs once more and .ci/run names it.
    retry: process.env.CI ? 1 : 0,
    maxWorkers: 1,
    reporters: ['default', ['json', { outputFile: process.env.EFV_TEST_REPORT ?? '.vitest-chaos-report.json' }]],
  },
});
