/**
 * The commands of the CLI: each one's options, help, and what it runs. A command's own code
 * is imported when it runs: a process holds the modules of the one command it is (their
 * source text stays in the heap), not those of bench, produce or replay-dlq.
 */
import { formatEffectiveSettings, rewriteGeneratedTables } from '../commands/config.js';
import { configMarkdownTable, loadConfig } from '../config.js';
import { createLogger } from '../telemetry/logger.js';
import { envWarnings, preflight, printEnvWarnings, setup } from './setup.js';
import { type CommandSpec, envAssignments, intOption, str, UsageError } from './usage.js';

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary: 'consume sign-ups, validate, publish results (until SIGTERM/SIGINT)',
    options: {},
    examples: ['KAFKA_BROKERS=kafka-0:9092,kafka-1:9092 email-flow-validator run'],
    notes:
      'Refuses to start if a setting is invalid or a topic is missing. Logs one line a minute\n' +
      '(LOG_STATS_INTERVAL_MS) with events routed per topic, dead letters, in-flight and lag.',
    async run() {
      const { config, logger } = setup();
      await preflight(config);
      const { runCommand } = await import('../commands/run.js');
      return runCommand(config, logger);
    },
  },
  produce: {
    summary: 'publish synthetic sign-ups (default 1000) or an NDJSON file to the input topic',
    options: {
      count: { type: 'string', value: 'N', help: 'synthetic sign-ups to publish (default 1000)' },
      file: {
        type: 'string',
        value: 'F.ndjson',
        help: 'publish this file instead, one JSON sign-up a line; every line is checked before anything is sent',
      },
      format: { type: 'string', value: 'avro|json', help: 'wire format (default avro)' },
      seed: { type: 'string', value: 'S', help: 'seed of the synthetic sample (default 42)' },
      topic: { type: 'string', value: 'T', help: 'topic to publish to (default INPUT_TOPIC)' },
      'dry-run': { type: 'boolean', help: 'build and check every record, connect to nothing, publish nothing' },
    },
    examples: [
      'email-flow-validator produce --count 10000',
      'email-flow-validator produce --file signups.ndjson --format json',
      'email-flow-validator produce --file signups.ndjson --dry-run',
    ],
    async run(values) {
      const format = str(values, 'format') ?? 'avro';
      if (format !== 'avro' && format !== 'json')
        throw new UsageError(`--format must be avro or json, got ${JSON.stringify(format)}`);
      const count = intOption(values, 'count', 1000, 1, 100_000_000);
      const seed = intOption(values, 'seed', 42, 0, 2 ** 31);
      const file = str(values, 'file');
      const topic = str(values, 'topic');
      if (topic !== undefined && topic.trim() === '') throw new UsageError('--topic needs a topic name');
      if (file !== undefined && values.count !== undefined)
        throw new UsageError('--count and --file exclude each other');
      const { config, logger } = setup();
      const dryRun = values['dry-run'] === true;
      const { produceCommand } = await import('../commands/produce.js');
      const opts = { count, format, seed, dryRun, ...(file ? { file } : {}), ...(topic ? { topic } : {}) } as const;
      const target = topic ?? config.topics.input;
      if (dryRun) {
        const n = await produceCommand(config, logger, opts);
        process.stdout.write(`dry run: ${n} sign-ups (${format}) would be published to ${target}; nothing was sent\n`);
        return 0;
      }
      await preflight(config);
      // Producer spans start each demo trace: producer → processor → result.
      const { startTracing } = await import('../telemetry/tracing.js');
      const tracing = await startTracing(config.telemetry, logger);
      const sent = await produceCommand(config, logger, opts).finally(() => tracing.shutdown());
      process.stdout.write(`published ${sent} sign-ups to ${target}\n`);
      return 0;
    },
  },
  topics: {
    summary: 'create the input, result and retry topics that are missing',
    options: {
      partitions: { type: 'string', value: 'N', help: 'partitions of each new topic (default 12)' },
      'replication-factor': { type: 'string', value: 'R', help: 'replicas of each new topic (default 1)' },
    },
    examples: ['email-flow-validator topics --partitions 12 --replication-factor 3'],
    async run(values) {
      const partitions = intOption(values, 'partitions', 12, 1, 10_000);
      const replicationFactor = intOption(values, 'replication-factor', 1, 1, 10);
      const { config, logger } = setup();
      await preflight(config);
      const { topicsCommand } = await import('../commands/topics.js');
      await topicsCommand(config, logger, { partitions, replicationFactor });
      return 0;
    },
  },
  'replay-dlq': {
    summary: 're-publish dead-letter records to the input topic (or --to); a rerun replays nothing twice',
    options: {
      code: { type: 'string', value: 'A,B', help: 'only these error codes (default: all)' },
      since: { type: 'string', value: 'ISO', help: 'only records that failed at or after this time' },
      until: { type: 'string', value: 'ISO', help: 'only records that failed before this time' },
      'dry-run': { type: 'boolean', help: 'count what would be replayed, per code; publish and commit nothing' },
      to: { type: 'string', value: 'TOPIC', help: 'publish there instead of INPUT_TOPIC' },
    },
    examples: [
      'email-flow-validator replay-dlq --dry-run',
      'email-flow-validator replay-dlq --code VALIDATION_UNKNOWN --since 2026-03-01T00:00:00Z',
    ],
    async run(values) {
      const { config, logger } = setup();
      await preflight(config);
      const { ReplayOptionError, replayDlqCommand } = await import('../commands/replay-dlq.js');
      try {
        await replayDlqCommand(config, logger, {
          code: str(values, 'code'),
          since: str(values, 'since'),
          until: str(values, 'until'),
          dryRun: values['dry-run'] === true,
          to: str(values, 'to'),
        });
      } catch (err) {
        if (err instanceof ReplayOptionError) throw new UsageError(err.message, 'replay-dlq');
        throw err;
      }
      return 0;
    },
  },
  validate: {
    summary: 'print one JSON verdict per address (or per line of stdin), with the checks and settings of run',
    positionals: '[ADDRESS...]',
    options: {},
    examples: [
      'email-flow-validator validate jane@gmial.com info@example.com',
      'CHECK_DNS=false email-flow-validator validate < addresses.txt',
    ],
    notes: 'Needs no Kafka. Exit code 1 if an address could not be validated (a validator failure).',
    async run(_values, positionals) {
      if (positionals.length === 0 && process.stdin.isTTY)
        throw new UsageError('give addresses as arguments, or one a line on stdin');
      const { config } = setup();
      await preflight(config);
      // Builds the engine as `run` does (the lists loaded, the provider's client made).
      const [{ createValidator }, { validateCommand }] = await Promise.all([
        import('../address-validator.js'),
        import('../commands/validate.js'),
      ]);
      const validator = createValidator();
      try {
        const failed = await validateCommand(validator, positionals.length > 0 ? positionals : process.stdin);
        return failed > 0 ? 1 : 0;
      } finally {
        await validator.close();
      }
    },
  },
  demo: {
    summary: 'start a local Kafka, publish a sample, process it, print the routing',
    options: {
      count: { type: 'string', value: 'N', help: 'sample sign-ups (default 2000)' },
      partitions: { type: 'string', value: 'N', help: 'partitions of the demo topics (default 6)' },
      keep: { type: 'boolean', help: 'leave the local broker running afterwards' },
    },
    examples: ['email-flow-validator demo', 'email-flow-validator demo --count 100000 --partitions 12 --keep'],
    async run(values) {
      const count = intOption(values, 'count', 2000, 1, 10_000_000);
      const partitions = intOption(values, 'partitions', 6, 1, 1000);
      const config = loadConfig();
      const logger = createLogger({
        logLevel: process.env.LOG_LEVEL ? config.telemetry.logLevel : 'error',
        logFormat: config.telemetry.logFormat,
      });
      // The demo logs errors only (unless LOG_LEVEL is set); a typo is still worth a line.
      printEnvWarnings();
      // Loaded only here: it imports the local broker launcher (dev/kafka), which the
      // container image does not ship.
      const { demoCommand } = await import('../commands/demo.js');
      return demoCommand(process.env, logger, { count, partitions, keep: values.keep === true });
    },
  },
  bench: {
    summary: 'benchmark against a local Kafka (or KAFKA_BROKERS): ours vs naive vs kcat; reports in bench/results/',
    options: {
      events: { type: 'string', value: 'N', help: 'events per contender' },
      partitions: { type: 'string', value: 'P', help: 'partitions of the input topic' },
      quick: { type: 'boolean', help: 'a short run' },
      'latency-ms': { type: 'string', value: 'MS', help: 'latency of the simulated provider (default 20)' },
      contenders: { type: 'string', value: 'a,b', help: 'contenders to run' },
      'provider-concurrency': { type: 'string', value: 'N', help: 'PROVIDER_CONCURRENCY of ours (default 32)' },
      note: { type: 'string', value: 'TEXT', help: 'a note stored with the report' },
      'cpu-prof': { type: 'boolean', help: 'write a CPU profile of ours' },
      set: { type: 'string', multiple: true, value: 'NAME=VALUE', help: 'a setting for our contenders (repeatable)' },
    },
    examples: [
      'email-flow-validator bench --quick',
      'email-flow-validator bench --events 200000 --set ORDERING=unordered',
    ],
    notes: 'Runs from a clone of the repository (the harness in bench/ is not in the package).',
    async run(values) {
      const set = values.set as string[] | undefined;
      const { benchCommand } = await import('../commands/bench.js');
      return benchCommand({
        quick: values.quick === true,
        cpuProf: values['cpu-prof'] === true,
        ...(values.events !== undefined ? { events: intOption(values, 'events', 0, 100, 100_000_000) } : {}),
        ...(values.partitions !== undefined ? { partitions: intOption(values, 'partitions', 12, 1, 1000) } : {}),
        ...(values['latency-ms'] !== undefined ? { latencyMs: intOption(values, 'latency-ms', 20, 1, 10_000) } : {}),
        ...(values['provider-concurrency'] !== undefined
          ? { providerConcurrency: intOption(values, 'provider-concurrency', 32, 1, 1024) }
          : {}),
        ...(str(values, 'contenders') ? { contenders: str(values, 'contenders')! } : {}),
        ...(str(values, 'note') ? { note: str(values, 'note')! } : {}),
        ...(set ? { oursEnv: envAssignments(set) } : {}),
        ...(process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS } : {}),
      });
    },
  },
  config: {
    summary: 'print the environment variables as a Markdown table, check the configuration, or rewrite the README',
    options: {
      check: {
        type: 'boolean',
        help: 'check the whole configuration without connecting; print every effective value (secrets masked)',
      },
      file: {
        type: 'string',
        multiple: true,
        value: 'README.md',
        help: "rewrite the file's generated tables (variables, dead-letter codes, operational error codes); repeatable",
      },
    },
    examples: [
      'email-flow-validator config --check',
      'CHECK_PROVIDER=true email-flow-validator config --check   # exit 2: needs PROVIDER_URL',
    ],
    async run(values) {
      const files = values.file as string[] | undefined;
      if (files !== undefined && values.check) throw new UsageError('--check and --file exclude each other');
      if (files !== undefined) {
        for (const file of files) {
          const tables = rewriteGeneratedTables(file);
          process.stdout.write(`updated the ${tables.join(' and ')} table${tables.length > 1 ? 's' : ''} in ${file}\n`);
        }
        return 0;
      }
      if (!values.check) {
        process.stdout.write(`${configMarkdownTable()}\n`);
        return 0;
      }
      printEnvWarnings();
      envWarnings.pending = [];
      const config = loadConfig();
      await preflight(config, true);
      process.stdout.write(`${formatEffectiveSettings(config, process.env)}\n`);
      process.stderr.write('configuration is valid (nothing was connected to)\n');
      return 0;
    },
  },
};
