#!/usr/bin/env node
// Reads vitest's JSON reports (one per suite run by .ci/run) and prints, in this order:
// each failed test with the start of its error, each test that failed first and passed on
// its retry (CI retries a failed test once: a shared machine's noise is not a verdict, but
// a test that needed the retry is named here so it gets looked at), one line per suite, and
// last the one plain line "N passed, N failed". CI shows only the end of its output, so the
// failures are printed here, after the last suite, and not only inside each suite's log.
//
//   node scripts/ci-summary.mjs .vitest-report-node24.json .vitest-report-node22.json ...
import { existsSync, readFileSync } from 'node:fs';

const MESSAGE_LINES = 6;

function head(message) {
  return message
    .split('\n')
    .filter((line) => line.trim() !== '' && !/node_modules|node:internal|new Promise \(/.test(line))
    .slice(0, MESSAGE_LINES)
    .map((line) => `      ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`)
    .join('\n');
}

function suiteName(file) {
  return file.replace(/^.*\.vitest-report-|\.json$/g, '');
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const flaky = [];
const lines = [];

for (const file of process.argv.slice(2)) {
  const suite = suiteName(file);
  if (!existsSync(file)) {
    lines.push(`${suite} suite: no report (the run did not finish)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  lines.push(
    `${suite} suite: passed ${report.numPassedTests}, failed ${report.numFailedTests}, suites failed ${report.numFailedTestSuites}`,
  );
  passed += report.numPassedTests;
  // A file that fails outside any test (an import error, a hook) counts as one failure.
  failed +=
    report.numFailedTests +
    (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
  skipped += report.numPendingTests + (report.numTodoTests || 0);
  for (const result of report.testResults) {
    const where = result.name.replace(/^.*?\/test\//, 'test/');
    if (result.status === 'failed' && result.assertionResults.every((t) => t.status !== 'failed')) {
      failures.push(
        `  [${suite}] ${where}: the file failed outside its tests\n${head(result.message || 'no message')}`,
      );
    }
    for (const test of result.assertionResults) {
      const first = test.failureMessages?.[0];
      if (test.status === 'failed')
        failures.push(`  [${suite}] ${where} > ${test.fullName}\n${head(first || 'no message')}`);
      else if (test.status === 'passed' && first)
        flaky.push(`  [${suite}] ${where} > ${test.fullName}\n${head(first)}`);
    }
  }
}

if (failures.length) console.log(`\nFailed tests (${failures.length}):\n${failures.join('\n')}`);
if (flaky.length)
  console.log(`\nPassed only on their retry (${flaky.length}); the first attempt's error:\n${flaky.join('\n')}`);
console.log('');
for (const line of lines) console.log(line);
// Skipped (opt-in) tests are reported on their own line: the last line stays "N passed, N failed".
if (skipped) console.log(`${skipped} skipped (opt-in tests, see their files)`);
console.log(`${passed} passed, ${failed} failed`);
