/**
 * The alert rules (deploy/prometheus/alerts.yml, also the chart's PrometheusRule), checked
 * and unit-tested by a real promtool (Debian's prometheus package, installed by
 * scripts/install-prometheus.sh): each alert fires on the series it is meant for and stays
 * quiet on the harmless one beside it (deploy/prometheus/alerts.test.yml).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './tools.js';

const dir = join(repoRoot, 'deploy', 'prometheus');

function promtool(args: string[], cwd = dir): { status: number | null; out: string } {
  const res = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (res.error) {
    throw new Error(`promtool not found (${res.error.message}). Install it with: bash scripts/install-prometheus.sh`);
  }
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

describe('alert rules', () => {
  const rules = parse(readFileSync(join(dir, 'alerts.yml'), 'utf8'));
  const alerts = rules.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((r) => r.alert));

  it('has the lag, dead-letter, breaker, no-results, event-loop and publish alerts', () => {
    expect(alerts).toEqual([
      'EfvConsumerLagGrowing',
      'EfvDeadLetterRateHigh',
      'EfvProviderBreakerOpen',
      'EfvNoResults',
      'EfvEventLoopDelayHigh',
      'EfvPublishFailures',
    ]);
  });

  it('passes promtool check rules', () => {
    const res = promtool(['check', 'rules', 'alerts.yml']);
    expect(res.status, res.out).toBe(0);
    expect(res.out).toMatch(/SUCCESS: 6 rules found/);
  });

  it('passes promtool test rules, with a test for every alert', () => {
    const tests = parse(readFileSync(join(dir, 'alerts.test.yml'), 'utf8'));
    const tested = new Set(
      tests.tests.flatMap((t: { alert_rule_test: { alertname: string }[] }) =>
        t.alert_rule_test.map((a) => a.alertname),
      ),
    );
    expect([...tested].sort()).toEqual([...alerts].sort());
    const res = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(res.status, res.out).toBe(0);
    expect(res.out).toMatch(/SUCCESS/);
  });

  it('fails the unit tests when a threshold is wrong (the tests have teeth)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'efv-alerts-'));
    try {
      cpSync(join(dir, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
      const loose = readFileSync(join(dir, 'alerts.yml'), 'utf8').replace('> 0.05', '> 0.5').replace('== 2', '>= 1');
      writeFileSync(join(scratch, 'alerts.yml'), loose);
      const res = promtool(['test', 'rules', 'alerts.test.yml'], scratch);
      expect(res.status).not.toBe(0);
      expect(res.out).toMatch(/alertname: EfvDeadLetterRateHigh/);
      expect(res.out).toMatch(/alertname: EfvProviderBreakerOpen/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
