#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { produceCommand } from './commands/produce.js';
import { ReplayOptionError, replayDlqCommand } from './commands/replay-dlq.js';
import { runCommand } from './commands/run.js';
import { topicsCommand } from './commands/topics.js';
import { configMarkdownTable, ENV_END, ENV_START, loadConfig } from './config.js';
import { isProcessorError } from './errors.js';
import { createLogger, setLogAddresses } from './telemetry/logger.js';
import { startTracing } from './telemetry/tracing.js';
import { PROCESSOR_VERSION } from './version.js';

const USAGE = `email-flow-validator ${PROCESSOR_VERSION}

usage: email-flow-validator <command> [options]

commands:
  run                      consume sign-ups, validate, publish results (until SIGTERM/SIGINT)
  produce [--count N] [--file F.ndjson] [--format avro|json] [--seed S] [--topic T]
                           publish synthetic sign-ups (default 1000) or an NDJSON file
  topics [--partitions N] [--replication-factor R]
                           create the input and result topics that are missing
  replay-dlq [--code A,B] [--since ISO] [--until ISO] [--dry-run] [--to TOPIC]
                           re-publish dead-letter records to the input topic (or TOPIC); a rerun replays nothing twice
  demo [--count N] [--partitions N] [--keep]
                           start a local Kafka, publish a sample, process it, print the routing
  bench [--events N] [--partitions P] [--quick] [--latency-ms 20] [--contenders a,b]
                           [--provider-concurrency 32] [--note TEXT] [--cpu-prof] [--set NAME=VALUE ...]
                           benchmark against a local Kafka (or KAFKA_BROKERS): ours vs naive vs kcat; bench/results/
  config [--file README.md] print the environment variables as a Markdown table (or rewrite the README's)

Configuration comes from environment variables; see \`email-flow-validator config\`.`;

function intOption(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      count: { type: 'string' },
      file: { type: 'string' },
      format: { type: 'string' },
      seed: { type: 'string' },
      topic: { type: 'string' },
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      keep: { type: 'boolean' },
      code: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'dry-run': { type: 'boolean' },
      to: { type: 'string' },
      events: { type: 'string' },
      quick: { type: 'boolean' },
      'latency-ms': { type: 'string' },
      'provider-concurrency': { type: 'string' },
      contenders: { type: 'string' },
      note: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (!command || values.help || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command === 'config') {
    if (values.file) {
      // Rewrites the table between the README's env markers from the schema.
      const text = readFileSync(values.file, 'utf8');
      const start = text.indexOf(ENV_START);
      const end = text.indexOf(ENV_END);
      if (start < 0 || end < start) throw new Error(`${values.file} has no ${ENV_START} … ${ENV_END} block`);
      writeFileSync(
        values.file,
        `${text.slice(0, start + ENV_START.length)}\n${configMarkdownTable()}\n${text.slice(end)}`,
      );
      process.stdout.write(`updated the environment table in ${values.file}\n`);
      return 0;
    }
    process.stdout.write(`${configMarkdownTable()}\n`);
    return 0;
  }
  if (command === 'demo') {
    const config = loadConfig();
    const logger = createLogger({ logLevel: process.env.LOG_LEVEL ? config.telemetry.logLevel : 'error' });
    return demoCommand(process.env, logger, {
      count: intOption(values.count, 'count', 2000, 1, 10_000_000),
      partitions: intOption(values.partitions, 'partitions', 6, 1, 1000),
      keep: values.keep ?? false,
    });
  }
  const config = loadConfig();
  setLogAddresses(config.telemetry.logAddresses);
  const logger = createLogger(config.telemetry);
  switch (command) {
    case 'run':
      return runCommand(config, logger);
    case 'produce': {
      const format = values.format ?? 'avro';
      if (format !== 'avro' && format !== 'json') throw new Error('--format must be avro or json');
      // Producer spans start each demo trace: producer → processor → result.
      const tracing = await startTracing(config.telemetry, logger);
      const sent = await produceCommand(config, logger, {
        count: intOption(values.count, 'count', 1000, 1, 100_000_000),
        format,
        seed: intOption(values.seed, 'seed', 42, 0, 2 ** 31),
        ...(values.file ? { file: values.file } : {}),
        ...(values.topic ? { topic: values.topic } : {}),
      }).finally(() => tracing.shutdown());
      process.stdout.write(`published ${sent} sign-ups to ${values.topic ?? config.topics.input}\n`);
      return 0;
    }
    case 'topics':
      await topicsCommand(config, logger, {
        partitions: intOption(values.partitions, 'partitions', 12, 1, 10_000),
        replicationFactor: intOption(values['replication-factor'], 'replication-factor', 1, 1, 10),
      });
      return 0;
    case 'replay-dlq':
      try {
        await replayDlqCommand(config, logger, {
          code: values.code,
          since: values.since,
          until: values.until,
          dryRun: values['dry-run'],
          to: values.to,
        });
      } catch (err) {
        if (!(err instanceof ReplayOptionError)) throw err;
        process.stderr.write(`email-flow-validator replay-dlq: ${err.message}\n`);
        return 2;
      }
      return 0;
    case 'bench':
      return benchCommand({
        quick: values.quick ?? false,
        cpuProf: values['cpu-prof'] ?? false,
        ...(values.events ? { events: intOption(values.events, 'events', 0, 100, 100_000_000) } : {}),
        ...(values.partitions ? { partitions: intOption(values.partitions, 'partitions', 12, 1, 1000) } : {}),
        ...(values['latency-ms'] ? { latencyMs: intOption(values['latency-ms'], 'latency-ms', 20, 1, 10_000) } : {}),
        ...(values['provider-concurrency']
          ? { providerConcurrency: intOption(values['provider-concurrency'], 'provider-concurrency', 32, 1, 1024) }
          : {}),
        ...(values.contenders ? { contenders: values.contenders } : {}),
        ...(values.note ? { note: values.note } : {}),
        ...(values.set ? { oursEnv: envAssignments(values.set) } : {}),
        ...(process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS } : {}),
      });
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open sockets of a drained client must not keep a finished command alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: unknown) => {
    const msg = isProcessorError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
    process.stderr.write(`email-flow-validator: ${msg}\n`);
    process.exit(isProcessorError(err) && err.code === 'CONFIG_INVALID' ? 2 : 1);
  },
);

/** `--set NAME=VALUE` options: settings (environment variables) for our contenders in a bench run. */
function envAssignments(items: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(item);
    if (!m) throw new Error(`--set expects NAME=VALUE with an upper-case variable name, got "${item}"`);
    env[m[1]!] = m[2]!;
  }
  return env;
}
