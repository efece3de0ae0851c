import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createTopics, testBrokers, topicSize, uniqueName } from '../helpers/kafka.js';
import { produceRaw } from '../helpers/processor.js';
import { bin, cliEnv, collect, jsonLines, onTerminal, runCli } from './run-cli.js';

describe('run', () => {
  it('logs a line per interval with events in, results per topic, dead letters and lag', async () => {
    const prefix = uniqueName('cli-stats');
    const t = { input: prefix, valid: `${prefix}.valid`, invalid: `${prefix}.invalid`, dlq: `${prefix}.dlq` };
    await createTopics(Object.values(t), 2);
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: uniqueName('cli-stats-group'),
      INPUT_TOPIC: t.input,
      VALID_TOPIC: t.valid,
      INVALID_TOPIC: t.invalid,
      DLQ_TOPIC: t.dlq,
      RETRY_DELAYS: '',
      CHECK_DNS: 'false',
      LOG_LEVEL: 'info',
      LOG_STATS_INTERVAL_MS: '1000',
    };
    // 40 deliverable, 10 undeliverable, 5 undecodable (dead letters).
    const good = Array.from({ length: 40 }, (_, i) => ({
      key: `u${i}`,
      value: JSON.stringify({ email: `ada${i}@example.com` }),
    }));
    const bad = Array.from({ length: 10 }, (_, i) => ({
      key: `b${i}`,
      value: JSON.stringify({ email: `no-at-sign-${i}` }),
    }));
    const garbage = Array.from({ length: 5 }, (_, i) => ({ key: `g${i}`, value: `{not json ${i}` }));
    await produceRaw(t.input, [...good, ...bad, ...garbage]);
    // The test producer is not idempotent and may write a record twice: count what is there.
    const inputs = await topicSize(t.input);
    expect(inputs).toBeGreaterThanOrEqual(55);

    const child = spawn(process.execPath, [bin, 'run'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const totals = { events: 0, valid: 0, invalid: 0, deadLetters: 0 };
    const statsLines: Record<string, unknown>[] = [];
    const allIn = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        const before = stderr.length;
        stderr += d.toString();
        const start = stderr.lastIndexOf('\n', before) + 1;
        const complete = stderr.slice(start, stderr.lastIndexOf('\n') + 1);
        for (const line of jsonLines(complete)) {
          if (line.component !== 'stats' || statsLines.includes(line)) continue;
          statsLines.push(line);
          const results = line.results as Record<string, number>;
          totals.events += line.events as number;
          totals.valid += results[t.valid]!;
          totals.invalid += results[t.invalid]!;
          totals.deadLetters += line.deadLetters as number;
          if (totals.events >= inputs) resolve();
        }
      });
    });
    const done = collect(child, null, 120_000);
    await Promise.race([allIn, done]);
    child.kill('SIGTERM');
    const r = await done;
    expect(totals, stderr).toEqual({
      events: inputs,
      valid: await topicSize(t.valid),
      invalid: await topicSize(t.invalid),
      deadLetters: await topicSize(t.dlq),
    });
    expect(totals.deadLetters).toBeGreaterThanOrEqual(5);
    const last = statsLines[statsLines.length - 1]!;
    expect(last.level).toBe(30);
    expect(last.deadLetterCodes).toEqual(expect.any(Object));
    expect(typeof last.lag).toBe('number');
    expect(typeof last.inFlight).toBe('number');
    const withDeadLetters = statsLines.find((l) => (l.deadLetters as number) > 0)!;
    const n = withDeadLetters.deadLetters as number;
    expect(withDeadLetters.deadLetterCodes).toEqual({ JSON_DECODE: n });
    expect(withDeadLetters.msg).toMatch(
      new RegExp(
        `^last 1 s: \\d+ events in; ${t.valid} \\d+, ${t.invalid} \\d+, retry 0, ${t.dlq} ${n} \\(JSON_DECODE ${n}\\); in flight \\d+, lag \\d+$`,
      ),
    );
    // Counts only: no address in a stats line.
    expect(JSON.stringify(statsLines)).not.toContain('example.com');
    expect(r.code).toBe(0);
  });
});

describe('logs', () => {
  it('are readable lines on a terminal, JSON with LOG_FORMAT=json or when not on a terminal', async () => {
    // A typo'd variable makes `validate` log one warning.
    const env = { PARTITON_WINDOW: '1', CHECK_DNS: 'false', LOG_LEVEL: 'info' };
    const tty = await onTerminal(['validate', 'a@@b'], env);
    const warnLine = tty.split(/\r?\n/).find((l) => l.includes('PARTITON_WINDOW is not a setting'))!;
    expect(warnLine).toMatch(/WARN/);
    expect(warnLine).not.toMatch(/^\{/);
    const json = await onTerminal(['validate', 'a@@b'], { ...env, LOG_FORMAT: 'json' });
    const jsonLine = json.split(/\r?\n/).find((l) => l.includes('PARTITON_WINDOW is not a setting'))!;
    expect(JSON.parse(jsonLine)).toMatchObject({ level: 40, variable: 'PARTITON_WINDOW' });
    const piped = await runCli(['validate', 'a@@b'], { env });
    expect(jsonLines(piped.stderr).find((l) => l.level === 40)).toMatchObject({ suggestion: 'PARTITION_WINDOW' });
    const pretty = await runCli(['validate', 'a@@b'], { env: { ...env, LOG_FORMAT: 'pretty' } });
    expect(pretty.stderr).toMatch(/WARN.*PARTITON_WINDOW is not a setting/);
    expect(jsonLines(pretty.stderr)).toEqual([]);
  });
});
