import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './run-cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['run', 'produce', 'topics', 'replay-dlq', 'validate', 'demo', 'bench', 'config'];

describe('CLI usage', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`email-flow-validator ${pkg.version}`);
  });

  it('<command> --help shows that command: its own options and an example', async () => {
    const helps = new Map<string, string>();
    for (const c of COMMANDS) {
      const r = await runCli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^usage: email-flow-validator ${c}\\b`));
      expect(r.stdout, c).toMatch(/\nexamples?:\n {2}email-flow-validator |\nexamples?:\n {2}[A-Z_]+=/);
      helps.set(c, r.stdout);
    }
    expect(new Set(helps.values()).size).toBe(COMMANDS.length);
    expect(helps.get('produce')).toContain('--dry-run');
    expect(helps.get('produce')).toContain('--file F.ndjson');
    expect(helps.get('topics')).toContain('--replication-factor R');
    expect(helps.get('topics')).not.toContain('--file');
    expect(helps.get('config')).toContain('--check');
    expect(helps.get('replay-dlq')).toContain('--since ISO');
    // `help <command>` is the same text.
    expect((await runCli(['help', 'topics'])).stdout).toBe(helps.get('topics'));
  });

  it('an option the command does not take is an error naming it (exit 2)', async () => {
    const produce = await runCli(['produce', '--keep']);
    expect(produce.code).toBe(2);
    expect(produce.stderr).toContain('produce does not take the option --keep');
    const run = await runCli(['run', '--count', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('run does not take the option --count');
    const typo = await runCli(['produce', '--cuont', '3']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean --count?');
  });

  it.each([
    [[], /usage: email-flow-validator <command>/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['prodce'], /unknown command "prodce" \(did you mean produce\?\)/],
    [['--verbose', 'run'], /unknown option --verbose/],
    [['produce', '--count', 'abc'], /--count must be a whole number from 1 to 100000000, got "abc"/],
    [['produce', '--count', '0'], /--count must be a whole number/],
    [['produce', '--format', 'xml'], /--format must be avro or json/],
    [['produce', '--count'], /--count/],
    [['produce', '--dry-run=yes'], /--dry-run/],
    [['topics', '--partitions', '-3'], /--partitions/],
    [['run', 'now'], /run takes no arguments, got "now"/],
    [['bench', '--set', 'lower=1'], /--set expects NAME=VALUE/],
    [['config', '--check', '--file', 'README.md'], /exclude each other/],
    [['replay-dlq', '--code', 'NO_SUCH_CODE'], /unknown error code NO_SUCH_CODE/],
    [['--version', 'extra'], /takes no arguments/],
  ])('usage error %j exits 2 with a message', async (args, message) => {
    const r = await runCli(args as string[], { env: { KAFKA_BROKERS: '127.0.0.1:1' }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('warns of a variable that looks like one of ours, naming the one it likely meant', async () => {
    const r = await runCli(['config', '--check'], {
      env: {
        PARTITON_WINDOW: '1000',
        KAFKA_BROKER: '127.0.0.1:9092',
        DNS_TIMOUT_MS: '100',
        EFV_SOMETHING: '1',
        // Not ours: nothing to say about them.
        MY_APP_MODE: 'x',
        KAFKA_HEAP_OPTS: '-Xmx1g',
        KAFKA_PORT_9092_TCP: 'tcp://10.0.0.1:9092',
      },
    });
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
    expect(warnings).toEqual([
      'email-flow-validator: warning: DNS_TIMOUT_MS is not a setting of email-flow-validator and is ignored; did you mean DNS_TIMEOUT_MS?',
      expect.stringMatching(/^email-flow-validator: warning: EFV_SOMETHING is not a setting .* is ignored \(/),
      'email-flow-validator: warning: KAFKA_BROKER is not a setting of email-flow-validator and is ignored; did you mean KAFKA_BROKERS?',
      'email-flow-validator: warning: PARTITON_WINDOW is not a setting of email-flow-validator and is ignored; did you mean PARTITION_WINDOW?',
    ]);
    // The typo had no effect: the default applies.
    expect(r.stdout).toMatch(/^PARTITION_WINDOW +default +500$/m);
  });

  it('logs the typo warning as a log line for a command that logs', async () => {
    const r = await runCli(['validate', 'a@@b'], { env: { PARTITON_WINDOW: '1000', CHECK_DNS: 'false' } });
    expect(r.code).toBe(0);
    const warn = jsonLines(r.stderr).find((l) => l.level === 40);
    expect(warn).toMatchObject({ variable: 'PARTITON_WINDOW', suggestion: 'PARTITION_WINDOW' });
  });

  it('config --check prints every effective value, set ones marked, secrets masked', async () => {
    const r = await runCli(['config', '--check'], {
      env: {
        KAFKA_BROKERS: 'b1:9092,b2:9092',
        CHECK_PROVIDER: 'true',
        PROVIDER_URL: 'http://127.0.0.1:9/verify',
        PROVIDER_API_KEY: 's3cr3t-key',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'svc-user',
        KAFKA_SASL_PASSWORD: 'hunter2',
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KAFKA_BROKERS +set +b1:9092,b2:9092$/m);
    expect(r.stdout).toMatch(/^PROVIDER_API_KEY +set +\*\*\*\*$/m);
    expect(r.stdout).toMatch(/^KAFKA_SASL_PASSWORD +set +\*\*\*\*$/m);
    expect(r.stdout).toMatch(/^INPUT_TOPIC +default +signups$/m);
    expect(r.stdout).not.toContain('s3cr3t-key');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('svc-user');
    // One line per variable of the table `config` prints.
    const table = await runCli(['config']);
    const variables = table.stdout.split('\n').filter((l) => l.startsWith('| `')).length;
    expect(r.stdout.trim().split('\n')).toHaveLength(variables);
    expect(r.stderr).toContain('configuration is valid');
  });

  it('config --check reports every bad value at once, and the checks that need files, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'efv-cli-'));
    const r = await runCli(['config', '--check'], {
      env: { PARTITION_WINDOW: 'many', DNS_TRIES: '0', DELIVERY: 'twice' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PARTITION_WINDOW="many"');
    expect(r.stderr).toContain('DNS_TRIES="0"');
    expect(r.stderr).toContain('DELIVERY="twice"');
    const provider = await runCli(['config', '--check'], { env: { CHECK_PROVIDER: 'true' } });
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain('CHECK_PROVIDER=true needs PROVIDER_URL');
    const files = await runCli(['config', '--check'], {
      env: {
        ALLOW_LIST_FILE: join(dir, 'missing.txt'),
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
        DNS_SERVERS: '127.0.0.1:99999',
      },
    });
    expect(files.code).toBe(2);
    expect(files.stderr).toContain(`ALLOW_LIST_FILE=${join(dir, 'missing.txt')}: ENOENT`);
    expect(files.stderr).toContain(`KAFKA_SSL_CA_FILE=${join(dir, 'ca.pem')}: ENOENT`);
    expect(files.stderr).toContain('DNS_SERVERS');
    writeFileSync(join(dir, 'deny.txt'), 'blocked.example\n');
    const ok = await runCli(['config', '--check'], { env: { DENY_LIST_FILE: join(dir, 'deny.txt') } });
    expect(ok.code).toBe(0);
  });
});

describe('configuration is checked before any connection', () => {
  // A listener on loopback standing where the broker would be: it only counts who connects.
  let server: Server;
  let connections = 0;
  let brokers = '';
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    brokers = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['run', { CHECK_PROVIDER: 'true' }, 'CHECK_PROVIDER=true needs PROVIDER_URL'],
    ['run', { ALLOW_LIST_FILE: '/nonexistent/allow.txt' }, 'ALLOW_LIST_FILE=/nonexistent/allow.txt: ENOENT'],
    ['run', { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, 'KAFKA_SSL_CA_FILE'],
    ['produce', { KAFKA_SASL_MECHANISM: 'plain' }, 'needs KAFKA_SASL_USERNAME'],
    ['topics', { DNS_SERVERS: '127.0.0.1:99999' }, 'DNS_SERVERS'],
    ['replay-dlq', { PARTITION_CONCURRENCY: '600' }, 'must not exceed PARTITION_WINDOW'],
  ])('%s with %j fails with exit 2 and never connects', async (command, env, message) => {
    const before = connections;
    const r = await runCli([command], { env: { KAFKA_BROKERS: brokers, ...env }, timeoutMs: 30_000 });
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
    expect(connections).toBe(before);
  });

  it('produce --dry-run connects to nothing', async () => {
    const before = connections;
    const r = await runCli(['produce', '--count', '50', '--dry-run'], { env: { KAFKA_BROKERS: brokers } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run: 50 sign-ups (avro) would be published to signups');
    expect(connections).toBe(before);
  });

  it('(the listener does see a command that gets past its checks)', async () => {
    const before = connections;
    // It is no broker, so the command fails after connecting; the point is that it connected.
    const r = await runCli(['topics'], { env: { KAFKA_BROKERS: brokers }, timeoutMs: 8000 });
    expect(r.code).not.toBe(0);
    expect(connections).toBeGreaterThan(before);
  });
});
