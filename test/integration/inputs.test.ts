/**
 * Every record a real producer can send (issue 13), through a processor on the real broker,
 * produced by an independent client: kcat (librdkafka). Compressed batches of each codec,
 * a gzip bomb, 100,000 headers, a 600 KB key, a record whose dead letter would pass the
 * broker's limit, 1,000 large results of one key and forged retry headers: each input gets
 * exactly one result (its own dead-letter code for the hostile ones), the records around
 * them are processed, and the processor never stops. The event loop delay of each case is
 * measured with monitorEventLoopDelay and printed (not asserted: the machine is shared).
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { testBrokers, testKafka, uniqueName } from '../helpers/kafka.js';
import { resultType, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

let pipeline: TestPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** Runs kcat as a producer, the lines on its stdin; resolves when it exited 0. */
function kcat(args: string[], input: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-P', '-b', testBrokers().join(','), '-X', 'acks=all', ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString().slice(0, 2000);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`))));
    child.stdin.end(input);
  });
}

/** Reads `count` records of a topic with kcat (librdkafka) and returns how many it printed. */
function kcatConsume(topic: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['-C', '-b', testBrokers().join(','), '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-q'];
    const child = spawn('kcat', [...args, '-f', '%o\n', '-X', 'isolation.level=read_committed'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const b of d) if (b === 0x0a) lines++;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString().slice(0, 2000);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`kcat -C exited ${code}: ${stderr}`))));
  });
}

interface Result {
  topic: string;
  message: KafkaMessage;
  /** The input record it answers: `topic/offset`. */
  source: string;
  code: string | null;
}

/** Reads the result topics from the beginning for the whole test. */
async function collect(topics: { valid: string; invalid: string; deadLetter: string }) {
  const results: Result[] = [];
  const consumer = testKafka().consumer({ groupId: uniqueName('inputs-reader'), maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.valid, topics.invalid, topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === topics.deadLetter) {
        const h = (n: string) => message.headers?.[n]?.toString() ?? '?';
        results.push({
          topic,
          message,
          source: `${h(DLQ_HEADERS.topic)}/${h(DLQ_HEADERS.offset)}`,
          code: h(DLQ_HEADERS.code),
        });
      } else {
        const r = resultType.fromBuffer(message.value!) as { sourceRecord: { topic: string; offset: number } };
        results.push({ topic, message, source: `${r.sourceRecord.topic}/${r.sourceRecord.offset}`, code: null });
      }
    },
  });
  return {
    results,
    async waitFor(n: number, timeoutMs = 120_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (results.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    },
    stop: () => consumer.disconnect(),
  };
}

const note = 'Signed up from the spring campaign landing page, newsletter opt-in checked. '.repeat(20);
const signup = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ eventId: id, userId: `u-${id}`, email: `${id}@example.org`, source: 'web', note, ...extra });

describe('inputs from real producers (kcat)', () => {
  it.each([
    ['at-least-once', 'lz4'],
    ['exactly-once', 'zstd'],
  ])(
    'routes every record of every kind exactly once and never stops (%s, results in %s)',
    async (delivery, compression) => {
      // A 4 MiB decompression cap (default 16 MiB) keeps the bomb small enough for a quick kcat run.
      pipeline = await startTestPipeline({
        partitions: 1,
        env: {
          RETRY_DELAYS: '1m',
          KAFKA_MAX_DECOMPRESSED_BATCH_BYTES: String(4 * 1024 * 1024),
          DELIVERY: delivery,
          KAFKA_PRODUCER_COMPRESSION: compression,
          KAFKA_TRANSACTIONAL_ID: uniqueName('inputs-txn'),
        },
      });
      const { input } = pipeline.topics;
      const retryTopic = `${input}.retry.1m`;
      const reader = await collect(pipeline.topics);
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const delays: Record<string, number> = {};
      const took: Record<string, string> = {};
      let expected = 0;
      const phase = async (name: string, inputs: number, produce: () => Promise<void>) => {
        loop.reset();
        const started = Date.now();
        await produce();
        const produced = Date.now();
        expected += inputs;
        await reader.waitFor(expected);
        delays[name] = Math.round(loop.max / 1e6);
        took[name] = `${produced - started} ms producing, ${Date.now() - produced} ms to results`;
        expect(reader.results.length, `results after ${name}`).toBeGreaterThanOrEqual(expected);
        expect(pipeline!.processor.failure, `after ${name}`).toBeUndefined();
      };
      const good = (id: string) => kcat(['-t', input, '-p', '0'], `${signup(id)}\n`);

      for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
        const lines = Array.from({ length: 50 }, (_, i) => `k${i}\t${signup(`${codec}-${i}`)}`).join('\n');
        // One linger for all 50: they go as one or a few compressed batches (~1.6 KB each, ~40:1).
        await phase(`50 × kcat -z ${codec}`, 50, () =>
          kcat(['-t', input, '-p', '0', '-K', '\t', '-z', codec, '-X', 'linger.ms=200'], `${lines}\n`),
        );
      }

      // 8 MiB of one character: ~8 KB gzip (1,000:1), over the 4 MiB decompression cap.
      const bomb = `${signup('bomb', { pad: '0'.repeat(8 * 1024 * 1024) })}\n`;
      await phase('gzip bomb (8 MiB in ~8 KB) + 1 good', 2, async () => {
        await kcat(['-t', input, '-p', '0', '-z', 'gzip', '-X', 'message.max.bytes=20000000'], bomb);
        await good('after-bomb');
      });

      const headerArgs = Array.from({ length: 100_000 }, (_, i) => `-H${i % 10}=`);
      await phase('100,000 headers + 1 good', 2, async () => {
        await kcat(['-t', input, '-p', '0', ...headerArgs], `${signup('headers')}\n`);
        await good('after-headers');
      });

      await phase('600 KB key + 1 good', 2, async () => {
        await kcat(['-t', input, '-p', '0', '-K', '\t'], `${'K'.repeat(600_000)}\t${signup('big-key')}\n`);
        await good('after-key');
      });

      // Just under the broker's 1,048,588 bytes: a 524,059-byte key and a 512 KiB value. Its
      // dead letter (key and value kept, plus ~700 B of headers) would not fit.
      const nearKey = 'n'.repeat(524_059);
      const nearValue = signup('near-limit', { pad: 'p'.repeat(524_288 - signup('near-limit', { pad: '' }).length) });
      expect(nearValue.length).toBe(524_288);
      await phase('near-limit record + 1 good', 2, async () => {
        await kcat(
          ['-t', input, '-p', '0', '-K', '\t', '-X', 'message.max.bytes=2000000'],
          `${nearKey}\t${nearValue}\n`,
        );
        await good('after-near');
      });

      // 1,000 results of ~2.2 KB, all of one key (so one output partition, in order): 2.2 MB.
      const longId = (i: number) => `${String(i).padStart(4, '0')}-${'i'.repeat(995)}`;
      const sameKey = Array.from({ length: 1000 }, (_, i) => `same-key\t${signup(longId(i))}`).join('\n');
      await phase('1,000 large results of one key', 1000, () =>
        kcat(['-t', input, '-p', '0', '-K', '\t', '-z', 'lz4', '-X', 'linger.ms=100'], `${sameKey}\n`),
      );

      // Written to the retry topic by someone else: wrong attempt count, a due time past any timer.
      await phase('forged retry headers (2)', 2, async () => {
        const origin = [
          '-H',
          `${DLQ_HEADERS.topic}=${input}`,
          '-H',
          `${DLQ_HEADERS.partition}=0`,
          '-H',
          `${DLQ_HEADERS.offset}=0`,
        ];
        await kcat(
          [
            '-t',
            retryTopic,
            '-p',
            '0',
            ...origin,
            '-H',
            `${DLQ_HEADERS.attempts}=5`,
            '-H',
            `${DLQ_HEADERS.retryDueAt}=1`,
          ],
          `${signup('forged-attempts')}\n`,
        );
        await kcat(
          [
            '-t',
            retryTopic,
            '-p',
            '0',
            ...origin,
            '-H',
            `${DLQ_HEADERS.attempts}=1`,
            '-H',
            `${DLQ_HEADERS.retryDueAt}=99999999999999999`,
          ],
          `${signup('forged-due')}\n`,
        );
      });
      // A header with a null value (kcat -H name): one record judged, one dead-lettered.
      await phase('null header values (2)', 2, async () => {
        await kcat(['-t', input, '-p', '0', '-H', 'nothing'], `${signup('null-header')}\n`);
        await kcat(['-t', input, '-p', '0', '-H', 'nothing'], '{not json\n');
      });
      loop.disable();

      // A moment for any duplicate to show up.
      await new Promise((r) => setTimeout(r, 1000));
      await reader.stop();
      const { results } = reader;
      console.log(`${delivery}: worst event-loop delay per case (ms):`, delays, took);

      // Exactly one result per input record, for every offset of the input topic.
      const bySource = new Map<string, Result[]>();
      for (const r of results) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
      const dupes = [...bySource].filter(([, rs]) => rs.length > 1).map(([s]) => s);
      expect(dupes).toEqual([]);
      expect(results).toHaveLength(expected);
      for (let offset = 0; offset < expected - 2; offset++)
        expect(bySource.has(`${input}/${offset}`), `${input}/${offset}`).toBe(true);
      for (const offset of [0, 1]) expect(bySource.has(`${retryTopic}/${offset}`)).toBe(true);

      const codes = results.filter((r) => r.code).map((r) => r.code);
      expect(codes.sort()).toEqual(
        [
          'JSON_DECODE',
          'KEY_TOO_LONG',
          'RESULT_TOO_LARGE',
          'RETRY_HEADERS_INVALID',
          'RETRY_HEADERS_INVALID',
          'TOO_MANY_HEADERS',
          'UNDECODABLE_BATCH',
        ].sort(),
      );
      const dlq = (code: string) => results.find((r) => r.code === code)!.message;
      const h = (m: KafkaMessage, n: string) => m.headers?.[n]?.toString();
      expect(h(dlq('UNDECODABLE_BATCH'), DLQ_HEADERS.batchCodec)).toBe('gzip');
      expect(h(dlq('UNDECODABLE_BATCH'), DLQ_HEADERS.message)).toMatch(/cap/);
      // The raw batch (~8 KB) fits, so it is kept.
      expect(dlq('UNDECODABLE_BATCH').value!.length).toBeGreaterThan(1000);
      expect(h(dlq('TOO_MANY_HEADERS'), DLQ_HEADERS.headerCount)).toBe('100000');
      expect(Object.keys(dlq('TOO_MANY_HEADERS').headers ?? {}).filter((k) => !k.startsWith('efv-'))).toEqual([]);
      expect(dlq('KEY_TOO_LONG').key!.length).toBe(600_000);
      const capped = dlq('RESULT_TOO_LARGE');
      expect(h(capped, DLQ_HEADERS.originalErrorCode)).toBe('KEY_TOO_LONG');
      expect(h(capped, DLQ_HEADERS.keyBytes)).toBe('524059');
      expect(capped.value).toBeNull();

      // The 1,000 same-key results arrived in input order.
      const sameKeyOffsets = results
        .filter((r) => r.code === null && r.message.key?.toString() === 'same-key')
        .map((r) => Number(r.source.split('/').pop()));
      expect(sameKeyOffsets).toHaveLength(1000);
      expect(sameKeyOffsets).toEqual([...sameKeyOffsets].sort((a, b) => a - b));

      // Our compressed results and dead letters read by librdkafka, offset by offset.
      for (const topic of [pipeline.topics.valid, pipeline.topics.invalid, pipeline.topics.deadLetter]) {
        const n = results.filter((r) => r.topic === topic).length;
        if (n > 0) expect(await kcatConsume(topic, n), topic).toBe(n);
      }

      expect(pipeline.processor.failure).toBeUndefined();
      expect(pipeline.processor.state).toBe('running');
    },
    400_000,
  );
});
