import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { signupEventType } from '../../src/contract/schemas.js';
import { createValidator } from '../../src/index.js';
import { decodeValidationResult } from '../../src/integrate/read-result.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { sampleDnsZones } from '../../src/sim/sample-zones.js';
import { consumeRecords, createTopics, testBrokers, uniqueName } from '../helpers/kafka.js';
import { bin, cliEnv, collect, onTerminalWithCode, runCli } from './run-cli.js';

/** What the three ways to ask must agree on. */
interface Judgement {
  verdict: string;
  reason: string | null;
  flags?: string[];
  suggestion?: string | null;
  normalizedEmail?: string;
}

const SAMPLE = 400;

describe('validate and createValidator judge as run does', () => {
  let dns: LocalDnsServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    // The demo's set-up: its sample domains answered by a DNS server on loopback.
    dns = await startLocalDnsServer(sampleDnsZones());
    env = {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DNS_TIMEOUT_MS: '5000',
      DNS_TRIES: '2',
      RETRY_DELAYS: '',
    };
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('for the demo sample set', async () => {
    const prefix = uniqueName('cli-same');
    const t = { input: prefix, valid: `${prefix}.valid`, invalid: `${prefix}.invalid`, dlq: `${prefix}.dlq` };
    await createTopics(Object.values(t), 3);
    const kafkaEnv = {
      ...env,
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: uniqueName('cli-same-group'),
      INPUT_TOPIC: t.input,
      VALID_TOPIC: t.valid,
      INVALID_TOPIC: t.invalid,
      DLQ_TOPIC: t.dlq,
    };
    const produced = await runCli(['produce', '--count', String(SAMPLE), '--seed', '7'], { env: kafkaEnv });
    expect(produced.stderr).not.toContain('email-flow-validator:');
    expect(produced.code).toBe(0);

    // The real processor, until every sign-up has its record.
    const child = spawn(process.execPath, [bin, 'run'], { env: cliEnv(kafkaEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = collect(child, null, 180_000);
    const records = await consumeRecords([t.valid, t.invalid, t.dlq], SAMPLE, 120_000, {
      until: (rs) => rs.length >= SAMPLE && distinctEvents(rs) >= SAMPLE,
    });
    child.kill('SIGTERM');
    const run = await exited;
    expect(run.code, run.stderr).toBe(0);

    const byRun = new Map<string, { email: string; judged: Judgement }>();
    let notJudged = 0;
    for (const r of records) {
      if (r.topic === t.dlq) {
        const event = signupEventType.fromBuffer(r.message.value!) as { eventId: string; email: string };
        const code = r.message.headers?.[DLQ_HEADERS.code]?.toString();
        if (code !== 'VALIDATION_UNKNOWN') {
          notJudged++;
          continue;
        }
        const reason = r.message.headers?.[DLQ_HEADERS.verdictReason]?.toString() ?? null;
        byRun.set(event.eventId, { email: event.email, judged: { verdict: 'unknown', reason } });
        continue;
      }
      const res = decodeValidationResult(r.message.value!);
      byRun.set(res.eventId, {
        email: res.email,
        judged: {
          verdict: res.verdict,
          reason: res.reason,
          flags: res.flags,
          suggestion: res.suggestion,
          normalizedEmail: res.normalizedEmail,
        },
      });
    }
    // Every kind of the sample is there: all four verdicts (unknown: the SERVFAIL domain).
    expect(byRun.size + notJudged).toBeGreaterThanOrEqual(SAMPLE);
    expect(byRun.size).toBeGreaterThanOrEqual(SAMPLE * 0.9);
    const verdicts = new Set([...byRun.values()].map((v) => v.judged.verdict));
    expect([...verdicts].sort()).toEqual(['deliverable', 'risky', 'undeliverable', 'unknown']);

    const entries = [...byRun.entries()];
    const emails = entries.map(([, v]) => v.email);
    const cli = await runCli(['validate', ...emails], { env, timeoutMs: 120_000 });
    expect(cli.code, cli.stderr).toBe(0);
    const cliVerdicts = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Judgement & { email: string });
    expect(cliVerdicts).toHaveLength(emails.length);

    const validator = createValidator({ env });
    const lib = await Promise.all(emails.map((e) => validator.validate(e)));
    await validator.close();

    const mismatches: string[] = [];
    entries.forEach(([eventId, { email, judged }], i) => {
      const pick = (v: Judgement): Judgement =>
        judged.verdict === 'unknown'
          ? { verdict: v.verdict, reason: v.reason }
          : {
              verdict: v.verdict,
              reason: v.reason,
              flags: v.flags ?? [],
              suggestion: v.suggestion ?? null,
              normalizedEmail: v.normalizedEmail ?? '',
            };
      const fromCli = cliVerdicts[i]!;
      expect(fromCli.email).toBe(email);
      for (const [how, got] of [
        ['validate', pick(fromCli)],
        ['createValidator', pick(lib[i]!)],
      ] as const) {
        if (JSON.stringify(got) !== JSON.stringify(judged))
          mismatches.push(`${eventId} ${how}: ${JSON.stringify(got)} != run ${JSON.stringify(judged)}`);
      }
    });
    expect(mismatches).toEqual([]);
  });

  it('validate with no address and a terminal for stdin is a usage error (exit 2), not a wait', async () => {
    const r = await onTerminalWithCode(['validate'], env);
    expect(r.stdout).toContain('give addresses as arguments, or one a line on stdin');
    expect(r.code).toBe(2);
  });

  it('validate reads one address a line from stdin, as from its arguments', async () => {
    const addresses = ['ada@gmail.com', 'info@example.org', 'jane@gmial.com', 'x@null-mx.example', 'bad@@example.com'];
    const fromArgs = await runCli(['validate', ...addresses], { env });
    const fromStdin = await runCli(['validate'], { env, input: `${addresses.join('\n')}\n\n` });
    expect(fromArgs.code).toBe(0);
    expect(fromStdin.code).toBe(0);
    const strip = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => {
          const { checks, ...rest } = JSON.parse(l) as {
            email: string;
            checks: { name: string; status: string }[];
          };
          return { ...rest, checks: checks.map((c) => `${c.name}:${c.status}`) };
        });
    expect(strip(fromStdin.stdout)).toEqual(strip(fromArgs.stdout));
    expect(strip(fromArgs.stdout).map((v) => v.email)).toEqual(addresses);
    expect(strip(fromArgs.stdout).find((v) => v.email === 'x@null-mx.example')).toMatchObject({
      verdict: 'undeliverable',
      reason: 'null_mx',
    });
  });
});

function distinctEvents(rs: { topic: string; message: { value: Buffer | null; headers?: Record<string, unknown> } }[]) {
  const ids = new Set<string>();
  for (const r of rs) {
    if (!r.message.value) continue;
    try {
      ids.add(
        r.topic.endsWith('.dlq')
          ? (signupEventType.fromBuffer(r.message.value) as { eventId: string }).eventId
          : decodeValidationResult(r.message.value).eventId,
      );
    } catch {
      ids.add(`undecodable-${ids.size}`);
    }
  }
  return ids.size;
}
