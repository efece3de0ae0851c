import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATIONAL_ERRORS } from '../../src/errors.js';
import { testBrokers, uniqueName } from '../helpers/kafka.js';
import { runCli } from './run-cli.js';

/** The CLI's own error line (KafkaJS may log JSON lines of its own around it). */
function errorLine(stderr: string): string | undefined {
  return stderr.split('\n').find((l) => l.startsWith('email-flow-validator: ') && !l.includes(': warning: '));
}

describe('the CLI names the code of every error it stops on, and exits with that code’s exit code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'efv-cli-errors-'));

  it.each([
    [['frobnicate'], {}, 'USAGE_INVALID', 'unknown command "frobnicate"'],
    [['replay-dlq', '--code', 'NO_SUCH_CODE'], {}, 'USAGE_INVALID', 'unknown error code NO_SUCH_CODE'],
    [['config', '--check'], { PARTITION_WINDOW: 'many' }, 'CONFIG_INVALID', 'invalid configuration:'],
    [['config', '--check'], { CHECK_PROVIDER: 'true' }, 'CONFIG_INVALID', 'invalid configuration:'],
    [
      ['produce', '--file', join(dir, 'missing.ndjson'), '--dry-run'],
      {},
      'INPUT_FILE_INVALID',
      `${join(dir, 'missing.ndjson')}: ENOENT`,
    ],
  ] as const)('%j', async (args, env, code, message) => {
    const r = await runCli([...args], { env: { KAFKA_BROKERS: '127.0.0.1:1', ...env }, timeoutMs: 30_000 });
    expect(errorLine(r.stderr), r.stderr).toMatch(new RegExp(`^email-flow-validator: ${code}: `));
    expect(errorLine(r.stderr)).toContain(message);
    expect(r.code).toBe(OPERATIONAL_ERRORS[code].exit);
  });

  it('a usage error still points to the help of its command', async () => {
    const r = await runCli(['replay-dlq', '--since', 'yesterday'], { env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    expect(r.stderr).toContain('email-flow-validator: USAGE_INVALID: --since "yesterday" is not an ISO 8601 time');
    expect(r.stderr).toContain('(see `email-flow-validator replay-dlq --help`)');
    expect(r.code).toBe(2);
  });

  it('a file without generated tables is INPUT_FILE_INVALID', async () => {
    const file = join(dir, 'plain.md');
    writeFileSync(file, '# nothing generated here\n');
    const r = await runCli(['config', '--file', file]);
    expect(errorLine(r.stderr)).toMatch(
      /^email-flow-validator: INPUT_FILE_INVALID: .*plain\.md has no generated table/,
    );
    expect(r.code).toBe(2);
  });

  it('run on a port already taken: HTTP_PORT_UNAVAILABLE, exit 2, before any connection to the brokers', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runCli(['run'], {
        env: { KAFKA_BROKERS: '127.0.0.1:1', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), CHECK_DNS: 'false' },
        timeoutMs: 30_000,
      });
      expect(errorLine(r.stderr), r.stderr).toBe(
        `email-flow-validator: HTTP_PORT_UNAVAILABLE: cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      );
      expect(r.code).toBe(2);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('run against brokers that cannot be reached: KAFKA_FAILED, exit 1, its line the last one', async () => {
    // Nothing listens on port 1: KafkaJS retries the connection for about 30 s, logging each
    // retry (JSON lines, written through a buffer), then the CLI stops on KAFKA_FAILED.
    const r = await runCli(['run'], { env: { KAFKA_BROKERS: '127.0.0.1:1', CHECK_DNS: 'false' }, timeoutMs: 90_000 });
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(
      lines.some((l) => l.includes('ECONNREFUSED 127.0.0.1:1') && l.startsWith('{')),
      r.stderr,
    ).toBe(true);
    expect(lines.at(-1)).toMatch(/^email-flow-validator: KAFKA_FAILED: .*ECONNREFUSED 127\.0\.0\.1:1/);
    expect(r.code).toBe(OPERATIONAL_ERRORS.KAFKA_FAILED.exit);
  });

  it('run against a broker without its topics: TOPIC_MISSING, exit 2, nothing started', async () => {
    const prefix = uniqueName('cli-errors');
    const r = await runCli(['run'], {
      env: {
        KAFKA_BROKERS: testBrokers().join(','),
        INPUT_TOPIC: prefix,
        VALID_TOPIC: `${prefix}.valid`,
        INVALID_TOPIC: `${prefix}.invalid`,
        DLQ_TOPIC: `${prefix}.dlq`,
        RETRY_DELAYS: '',
        CHECK_DNS: 'false',
      },
      timeoutMs: 60_000,
    });
    expect(errorLine(r.stderr)).toMatch(
      new RegExp(`^email-flow-validator: TOPIC_MISSING: topics missing on \\S+: ${prefix}, `),
    );
    expect(r.code).toBe(2);
  });
});
