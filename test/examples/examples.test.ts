import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { consumeRecords, testBrokers, uniqueName } from '../helpers/kafka.js';
import { resultType, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs an example as a user would (`npx tsx examples/…`), bounded by a deadline. */
function runExample(
  file: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: stdout.split('\n').filter(Boolean), stderr });
    });
  });
}

let pipeline: TestPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

describe('examples/ against the real broker and processor', () => {
  it('producer.ts publishes sign-ups the processor judges, consume-valid.ts reads their results', async () => {
    pipeline = await startTestPipeline({ partitions: 2 });
    const brokers = testBrokers().join(',');

    const produced = await runExample('examples/producer.ts', ['6'], {
      KAFKA_BROKERS: brokers,
      INPUT_TOPIC: pipeline.topics.input,
    });
    // stderr may hold KafkaJS's logs of retried conditions (a fresh broker's coordinator
    // loading); the exit code and stdout are the contract.
    expect(produced.code, produced.stderr).toBe(0);
    const events = produced.lines.map((l) => JSON.parse(l) as { eventId: string; email: string });
    expect(events).toHaveLength(6);

    // Two of every three addresses are valid (deliverable, risky role account); one is not.
    const expectedValid = events.filter((e) => !e.email.includes('@@'));
    const expectedInvalid = events.filter((e) => e.email.includes('@@'));
    const invalid = await consumeRecords([pipeline.topics.invalid], expectedInvalid.length);
    expect(invalid.map((r) => resultType.fromBuffer(r.message.value!).eventId).sort()).toEqual(
      expectedInvalid.map((e) => e.eventId).sort(),
    );

    const consumed = await runExample('examples/consume-valid.ts', [], {
      KAFKA_BROKERS: brokers,
      VALID_TOPIC: pipeline.topics.valid,
      GROUP_ID: uniqueName('welcome-mailer'),
      MAX_MESSAGES: String(expectedValid.length),
    });
    expect(consumed.code, consumed.stderr).toBe(0);
    const results = consumed.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results.map((r) => r.eventId).sort()).toEqual(expectedValid.map((e) => e.eventId).sort());
    for (const r of results) {
      if (r.to === 'ada.lovelace@example.com')
        expect(r).toMatchObject({ verdict: 'deliverable', action: 'send-welcome' });
      else
        expect(r).toMatchObject({ to: 'info@example.org', verdict: 'risky', reason: 'role', action: 'ask-to-confirm' });
    }
  });
});
