import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signupEventType } from '../../src/contract/schemas.js';
import { consumeRecords, createTopics, testBrokers, topicSize, uniqueName } from '../helpers/kafka.js';
import { bin, cliEnv, collect, runCli } from './run-cli.js';

const brokers = () => testBrokers().join(',');

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'efv-produce-')), name);
  writeFileSync(path, text);
  return path;
}

describe('produce', () => {
  it('--dry-run builds every record and publishes none', async () => {
    const topic = uniqueName('cli-dry');
    await createTopics([topic]);
    const r = await runCli(['produce', '--count', '500', '--topic', topic, '--dry-run'], {
      env: { KAFKA_BROKERS: brokers() },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dry run: 500 sign-ups (avro) would be published to ${topic}; nothing was sent`);
    expect(await topicSize(topic)).toBe(0);
    // The same command without --dry-run does publish: the check above can fail.
    const real = await runCli(['produce', '--count', '500', '--topic', topic], { env: { KAFKA_BROKERS: brokers() } });
    expect(real.code).toBe(0);
    expect(await topicSize(topic)).toBe(500);
    // Node 24 warns of KafkaJS's negative timer; the CLI keeps that noise off the terminal.
    expect(real.stderr).not.toContain('Warning');
  });

  it('--file reports every bad line with its number before sending anything (exit 2)', async () => {
    const topic = uniqueName('cli-file-bad');
    await createTopics([topic]);
    const lines: string[] = [];
    for (let i = 1; i <= 2500; i++) lines.push(JSON.stringify({ userId: `u${i}`, email: `user${i}@example.com` }));
    lines[2 - 1] = '{"email": "half a line';
    lines[2001 - 1] = JSON.stringify({ userId: 'u', email: 42 });
    lines[2400 - 1] = JSON.stringify({ email: 'a@example.com', occurredAt: 'yesterday' });
    lines[2500 - 1] = '[1, 2]';
    const file = tempFile('signups.ndjson', `${lines.join('\n')}\n`);
    const r = await runCli(['produce', '--file', file, '--format', 'json', '--topic', topic], {
      env: { KAFKA_BROKERS: brokers() },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: 4 bad lines (of 2500); nothing was sent`);
    expect(r.stderr).toMatch(new RegExp(`${file}:2: not JSON`));
    expect(r.stderr).toContain(`${file}:2001: "email" must be a non-empty string`);
    expect(r.stderr).toContain(`${file}:2400: "occurredAt" "yesterday" is not an ISO 8601 time`);
    expect(r.stderr).toContain(`${file}:2500: not a JSON object`);
    expect(await topicSize(topic)).toBe(0);
    // Avro cannot carry a field the schema lacks: an error, not a silent drop.
    const extra = tempFile('extra.ndjson', `${JSON.stringify({ email: 'a@example.com', plan: 'pro' })}\n`);
    const avro = await runCli(['produce', '--file', extra, '--topic', topic], { env: { KAFKA_BROKERS: brokers() } });
    expect(avro.code).toBe(2);
    expect(avro.stderr).toContain(`${extra}:1: field "plan" not in the SignupEvent schema (--format json keeps them)`);
    expect(await topicSize(topic)).toBe(0);
  });

  it('--file keeps every field: an ISO occurredAt, and with JSON the fields beyond the schema', async () => {
    const topic = uniqueName('cli-file-ok');
    await createTopics([topic]);
    const iso = '2026-03-01T12:34:56.789Z';
    const line = {
      eventId: 'e-1',
      userId: 'u-1',
      email: 'ada@example.com',
      occurredAt: iso,
      source: 'web',
      locale: 'de',
    };
    const file = tempFile(
      'one.ndjson',
      `${JSON.stringify(line)}\n\n${JSON.stringify({ ...line, eventId: 'e-2', plan: 'pro' })}\n`,
    );
    const json = await runCli(['produce', '--file', file, '--format', 'json', '--topic', topic], {
      env: { KAFKA_BROKERS: brokers() },
    });
    expect(json.stderr).not.toContain('bad line');
    expect(json.code).toBe(0);
    expect(json.stdout).toContain(`published 2 sign-ups to ${topic}`);
    const avroFile = tempFile('avro.ndjson', `${JSON.stringify({ ...line, eventId: 'e-3' })}\n`);
    const avro = await runCli(['produce', '--file', avroFile, '--topic', topic], { env: { KAFKA_BROKERS: brokers() } });
    expect(avro.code).toBe(0);
    const records = await consumeRecords([topic], 3);
    const byId = new Map<string, Record<string, unknown>>();
    for (const r of records) {
      const ct = r.message.headers?.['content-type']?.toString();
      const value =
        ct === 'application/json'
          ? (JSON.parse(r.message.value!.toString()) as Record<string, unknown>)
          : (signupEventType.fromBuffer(r.message.value!) as Record<string, unknown>);
      byId.set(value.eventId as string, value);
    }
    expect(byId.get('e-1')).toEqual(line);
    expect(byId.get('e-2')).toEqual({ ...line, eventId: 'e-2', plan: 'pro' });
    expect(byId.get('e-3')).toEqual({ ...line, eventId: 'e-3', occurredAt: Date.parse(iso) });
    expect(records.find((r) => r.message.key?.toString() === 'u-1')).toBeDefined();
  });

  it('to a missing topic fails at once naming the topic (exit 2)', async () => {
    const topic = uniqueName('cli-missing');
    const r = await runCli(['produce', '--count', '10', '--topic', topic], {
      env: { KAFKA_BROKERS: brokers() },
      timeoutMs: 60_000,
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`topic "${topic}" does not exist`);
  });
});

describe('topics', () => {
  it("names the broker's reason when it refuses to create a topic", async () => {
    const prefix = uniqueName('cli-topics');
    const env = {
      KAFKA_BROKERS: brokers(),
      INPUT_TOPIC: prefix,
      VALID_TOPIC: `${prefix}.valid`,
      INVALID_TOPIC: `${prefix}.invalid`,
      DLQ_TOPIC: `${prefix}.dlq`,
      RETRY_DELAYS: '',
    };
    // One broker cannot hold three replicas.
    const r = await runCli(['topics', '--partitions', '1', '--replication-factor', '3'], { env });
    expect(r.code).toBe(1);
    // The CLI's own message (KafkaJS logs the aggregate's text as a JSON line of its own).
    const error = r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('{'))
      .join('\n');
    expect(error).toContain(`${prefix}: INVALID_REPLICATION_FACTOR (Replication-factor is invalid)`);
    expect(error).toContain(`${prefix}.dlq: INVALID_REPLICATION_FACTOR`);
    expect(error).not.toContain('Topic creation errors');
    const ok = await runCli(['topics', '--partitions', '1'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`created ${prefix}.dlq`);
  });
});

describe('Ctrl-C', () => {
  it('restores the terminal cursor the progress bar hid', async () => {
    const topic = uniqueName('cli-ctrl-c');
    await createTopics([topic]);
    // `script` gives the CLI a terminal; ^C typed into it interrupts the CLI.
    const command = `${process.execPath} ${bin} produce --count 5000000 --topic ${topic}`;
    const child = spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], {
      env: { ...cliEnv({ KAFKA_BROKERS: brokers() }), TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let seen = '';
    const barShown = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        if (/produce \[.*\d+\/5000000/.test(seen)) resolve();
      });
    });
    const done = collect(child, null, 90_000);
    await barShown;
    child.stdin.write('\x03');
    const r = await done;
    const out = seen + r.stdout;
    const hidden = out.indexOf('\x1b[?25l');
    expect(hidden).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('\x1b[?25h', hidden)).toBeGreaterThan(hidden);
    // Interrupted, not finished: fewer records than asked for.
    expect(out).not.toContain('published 5000000');
    expect(r.code).not.toBe(0);
  });
});
