import { startCluster, stopCluster } from '../../dev/kafka/cluster.mjs';
import { type Config, loadConfig } from '../config.js';
import { DLQ_HEADERS } from '../contract/headers.js';
import { decodeValidationResult } from '../contract/schemas.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics } from '../kafka/topics.js';
import { startLocalDnsServer } from '../sim/local-dns-server.js';
import { sampleDnsZones } from '../sim/sample-zones.js';
import type { Logger } from '../telemetry/logger.js';
import { produceCommand } from './produce.js';
import { startProcessor } from './run.js';

export interface DemoOptions {
  count: number;
  partitions: number;
  keep: boolean;
}

/**
 * The embedded default: a local broker, the topics, a sample of sign-ups, the processor
 * until the sample is drained, then how many went to each topic and a few example results.
 */
export async function demoCommand(
  env: Record<string, string | undefined>,
  logger: Logger,
  opts: DemoOptions,
): Promise<number> {
  const external = env.KAFKA_BROKERS;
  const state = external ? undefined : await startCluster({ name: 'demo', nodes: 1 });
  const brokers = external ?? state!.brokers;
  // The sample's domains are answered by a DNS server on loopback, so the DNS check runs
  // for real without an outside network (unless DNS_SERVERS names another resolver).
  const dns = env.DNS_SERVERS ? undefined : await startLocalDnsServer(sampleDnsZones());
  const config = loadConfig(env, {
    KAFKA_BROKERS: brokers,
    KAFKA_GROUP_ID: env.KAFKA_GROUP_ID ?? `email-flow-validator-demo-${Date.now()}`,
    ...(dns ? { DNS_SERVERS: `127.0.0.1:${dns.port}`, DNS_TIMEOUT_MS: '500', DNS_TRIES: '1' } : {}),
    // The demo ends when the input is drained; an unknown verdict goes straight to the
    // dead-letter topic instead of waiting minutes in a retry topic (unless RETRY_DELAYS is set).
    RETRY_DELAYS: env.RETRY_DELAYS ?? '',
  });
  process.stdout.write(
    `checks: syntax, lists${config.validation.dnsEnabled ? `, DNS/MX (${dns ? 'local sample zone' : 'DNS_SERVERS'})` : ''}` +
      `${config.validation.providerEnabled ? ', HTTP provider' : ''}${config.validation.smtpEnabled ? ', SMTP' : ''}\n`,
  );
  try {
    return await runDemo(config, logger, opts);
  } finally {
    await dns?.close();
    if (state && !opts.keep) await stopCluster({ name: 'demo' });
    else if (state)
      process.stdout.write(`\nbroker left running at ${brokers} (stop it with: npm run kafka:stop -- --name demo)\n`);
  }
}

async function runDemo(config: Config, logger: Logger, opts: DemoOptions): Promise<number> {
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      config.topics,
      { partitions: opts.partitions, replicationFactor: 1 },
      config.pipeline.retryDelays,
    );
    const before = await countsByTopic(admin, config);
    process.stdout.write(
      `publishing ${opts.count} sample sign-ups to ${config.topics.input} (${opts.partitions} partitions)\n`,
    );
    await produceCommand(config, logger, { count: opts.count, format: 'avro', seed: Date.now() % 100_000 });
    const started = performance.now();
    const { processor, done } = await startProcessor(config, logger);
    await waitDrained(admin, config, processor.stopped);
    await processor.stop();
    const code = await done;
    const secs = (performance.now() - started) / 1000;
    const after = await countsByTopic(admin, config);
    const routed = {
      valid: after.valid - before.valid,
      invalid: after.invalid - before.invalid,
      deadLetter: after.deadLetter - before.deadLetter,
    };
    const total = routed.valid + routed.invalid + routed.deadLetter;
    process.stdout.write(`\nprocessed ${total} events in ${secs.toFixed(1)} s\n`);
    process.stdout.write(`  ${config.topics.valid.padEnd(20)} ${routed.valid}\n`);
    process.stdout.write(`  ${config.topics.invalid.padEnd(20)} ${routed.invalid}\n`);
    process.stdout.write(`  ${config.topics.deadLetter.padEnd(20)} ${routed.deadLetter}\n`);
    await printExamples(config, logger);
    return code;
  } finally {
    await admin.disconnect();
  }
}

type Admin = ReturnType<ReturnType<typeof createKafka>['admin']>;

/** Right after topic creation the metadata may still name no leader; such errors pass. */
async function retrying<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !(err as { retriable?: boolean }).retriable) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function countsByTopic(admin: Admin, config: Config) {
  const size = async (topic: string) =>
    (await retrying(() => admin.fetchTopicOffsets(topic))).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  return {
    valid: await size(config.topics.valid),
    invalid: await size(config.topics.invalid),
    deadLetter: await size(config.topics.deadLetter),
  };
}

/** Drained: the group's committed offsets reached the end of every input partition. */
async function waitDrained(admin: Admin, config: Config, stopped: Promise<void>) {
  let stop = false;
  void stopped.then(() => {
    stop = true;
  });
  while (!stop) {
    const ends = await retrying(() => admin.fetchTopicOffsets(config.topics.input));
    const [committed] = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [config.topics.input] });
    const byPartition = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    const lag = ends.reduce(
      (sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, byPartition.get(p.partition) ?? 0)),
      0,
    );
    process.stderr.write(`\rwaiting for the processor: ${lag} left   `);
    if (lag === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write('\n');
}

async function printExamples(config: Config, logger: Logger) {
  const consumer = createKafka(config.kafka, logger).consumer({ groupId: `efv-demo-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({
    topics: [config.topics.valid, config.topics.invalid, config.topics.deadLetter],
    fromBeginning: true,
  });
  const seen = new Map<string, string>();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 8000);
    void consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === config.topics.deadLetter) {
          const code = message.headers?.[DLQ_HEADERS.code]?.toString() ?? '?';
          const reason = message.headers?.[DLQ_HEADERS.verdictReason]?.toString();
          const kind = `dead-letter/${code}${reason ? `/${reason}` : ''}`;
          if (!seen.has(kind))
            seen.set(kind, `  ${kind.padEnd(40)} ${message.headers?.[DLQ_HEADERS.message]?.toString() ?? ''}`);
          return;
        }
        if (!message.value) return;
        const r = decodeValidationResult(message.value);
        const kind = `${r.verdict}/${r.reason ?? '-'}`;
        if (!seen.has(kind)) {
          const flags = r.flags.length ? ` flags=${r.flags.join(',')}` : '';
          const hint = r.suggestion ? ` did you mean ${r.suggestion}?` : '';
          seen.set(kind, `  ${kind.padEnd(40)} ${JSON.stringify(r.email)}${flags}${hint}`);
        }
        if (seen.size >= 12) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  process.stdout.write('\none example per verdict/reason (unknown verdicts go to the dead-letter topic):\n');
  for (const line of seen.values()) process.stdout.write(`${line}\n`);
}
