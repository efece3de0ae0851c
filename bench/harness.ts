/**
 * `npm run bench`: preloads sign-ups into a real broker, then runs each contender as a child
 * process on the same topic and the same broker, one after another, measuring it from outside
 * (output topics' end offsets, /proc of its processes). See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type Admin, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { MALLOC_ENV, NODE_FLAGS } from '../bin/node-flags.mjs';
import { DEFAULT_KAFKA_VERSION, startCluster, stopCluster } from '../dev/kafka/cluster.mjs';
import type { BenchCliOptions } from '../src/commands/bench.js';
import { progressBar } from '../src/commands/progress.js';
import { loadConfig } from '../src/config.js';
import { createKafka } from '../src/kafka/client.js';
import { waitForLeaders } from '../src/kafka/topics.js';
import { signupMessage } from '../src/produce/publish-signups.js';
import { syntheticSignups } from '../src/sim/synthetic.js';
import { benchDnsWarmCache, benchLocalChecks } from '../src/sim/validator-bench.js';
import { createLogger } from '../src/telemetry/logger.js';
import type { BenchReport, ContenderResult, LatencyResult, ProviderResult } from './bench-report.js';
import {
  buildParallelConsumer,
  CONTENDERS,
  type ContenderName,
  childEnv,
  countCommittedRecords,
  DESCRIPTIONS,
  KCAT_KEY_DELIMITER,
  KCAT_MESSAGE_DELIMITER,
  KCAT_METHOD,
  kcatVersion,
  type Launched,
  launchKcatPassThrough,
  launchNode,
  launchParallelConsumer,
  PC_CONTENDERS,
  parallelConsumerJarPath,
  ROOT,
  readKeyTimestamps,
} from './contenders.js';
import { type ProcStats, sumStats } from './proc-stats.js';
import { providerWindow, type SlowProvider, startSlowProvider } from './provider-server.js';
import { writeReports } from './report.js';
import { REPORT_MS } from './slow-service.js';
import { type SlowSmtp, type SmtpServerStats, startSlowSmtp } from './smtp-server.js';
import { percentile, type Sample, steadyRate, steadyWindow } from './stats.js';

export interface BenchOptions {
  /** Bootstrap brokers; unset: a local single-node Kafka is started and stopped. */
  brokers?: string;
  events: number;
  partitions: number;
  /** Latency of the slow provider, ms. */
  latencyMs: number;
  /** PROVIDER_CONCURRENCY of the slow-dependency contender: with latencyMs, its Little's-law bound. */
  providerConcurrency: number;
  contenders: ContenderName[];
  resultsDir: string;
  quick: boolean;
  note?: string;
  /**
   * Runs our contenders from dist/, built with tsc at the start of the run: the code a
   * deployment runs. Otherwise from the TypeScript source through tsx (tests: no build).
   */
  compiled?: boolean;
  /** Settings (environment variables) for our contenders, over the benchmark's own (`--set`). */
  oursEnv?: Record<string, string>;
  /** Writes a V8 CPU profile of each of our contenders into this directory. */
  cpuProfileDir?: string;
  /** Events each contender processes (default: all for ours and the ceiling, a time-bounded slice for the slow ones). */
  slices?: Partial<Record<ContenderName, number>>;
  /** Duration of the live (latency) phase of each contender, seconds. */
  liveSeconds: number;
  /** Highest offered rate of the live phase, events/s. */
  liveRate: number;
  /** Duration of each validator-only measurement, ms. */
  validatorBenchMs: number;
  /** Longest a contender may take over its backlog before it is stopped and measured as is. */
  maxSecondsPerContender: number;
  seed: number;
  progress: boolean;
  /** Where the report files go: false in tests that only want the report object. */
  write?: boolean;
  log?: (line: string) => void;
}

/**
 * How often a running contender is read. A quick run's backlog takes 1–2 s, so a coarser
 * interval would decide the rate: its start (the last reading before the first result) and
 * its end (the first reading past the backlog) are each known only to within one interval,
 * and at 250 ms that was up to ±20 % of a quick run's rate either way, different for each
 * contender. A reading is a few ListOffsets requests and two /proc files.
 */
const SAMPLE_INTERVAL_MS = 100;
const STALL_SECONDS = 30;

export const DEFAULTS = {
  events: 1_000_000,
  quickEvents: 100_000,
  partitions: 12,
  latencyMs: 20,
  providerConcurrency: 32,
} as const;

/** Entry of `email-flow-validator bench`. */
export async function benchMain(cli: BenchCliOptions): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const contenders = cli.contenders
    ? cli.contenders.split(',').map((c) => {
        const name = c.trim() as ContenderName;
        if (!CONTENDERS.includes(name))
          throw new Error(`unknown contender "${c}"; choose from ${CONTENDERS.join(', ')}`);
        return name;
      })
    : defaultContenders(log);
  const report = await runBenchmark({
    ...(cli.brokers ? { brokers: cli.brokers } : {}),
    events: cli.events ?? (cli.quick ? DEFAULTS.quickEvents : DEFAULTS.events),
    partitions: cli.partitions ?? DEFAULTS.partitions,
    latencyMs: cli.latencyMs ?? DEFAULTS.latencyMs,
    providerConcurrency: cli.providerConcurrency ?? DEFAULTS.providerConcurrency,
    contenders,
    resultsDir: join(ROOT, 'bench', 'results'),
    quick: cli.quick,
    ...(cli.note || cli.oursEnv
      ? {
          note: [
            cli.note,
            cli.oursEnv &&
              `ours with ${Object.entries(cli.oursEnv)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`,
          ]
            .filter(Boolean)
            .join('; '),
        }
      : {}),
    compiled: true,
    ...(cli.oursEnv ? { oursEnv: cli.oursEnv } : {}),
    ...(cli.cpuProf ? { cpuProfileDir: join(ROOT, 'bench', 'results', 'profiles') } : {}),
    liveSeconds: cli.quick ? 3 : 5,
    liveRate: 1000,
    validatorBenchMs: cli.quick ? 1000 : 2000,
    maxSecondsPerContender: cli.quick ? 120 : 600,
    seed: 42,
    progress: true,
    write: true,
    log,
  });
  const failed = report.contenders.filter((c) => c.error);
  return failed.length > 0 ? 1 : 0;
}

/**
 * Every contender; the Parallel Consumer ones only when their jar is built already (named in
 * --contenders, they are built for the run instead).
 */
function defaultContenders(log: (line: string) => void): ContenderName[] {
  if (existsSync(parallelConsumerJarPath())) return [...CONTENDERS];
  log(
    `skipping ${PC_CONTENDERS.join(', ')}: the Parallel Consumer jar is not built ` +
      '(bash bench/install-parallel-consumer.sh builds it once; or name them in --contenders)',
  );
  return CONTENDERS.filter((c) => !PC_CONTENDERS.includes(c));
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The events each contender gets: all for the fast ones, about a fixed time's worth for the slow ones. */
function sliceSizes(o: BenchOptions): Record<ContenderName, number> {
  const n = o.events;
  const bound = (o.providerConcurrency * 1000) / o.latencyMs;
  const secs = o.quick ? 15 : 45;
  const naiveSlowRate = 1000 / (o.latencyMs + 3);
  return {
    ceiling: Math.min(n, o.slices?.ceiling ?? n),
    'kafkajs-copy': Math.min(n, o.slices?.['kafkajs-copy'] ?? n),
    ours: Math.min(n, o.slices?.ours ?? n),
    'ours-eos': Math.min(n, o.slices?.['ours-eos'] ?? n),
    'ours-slow': Math.min(n, o.slices?.['ours-slow'] ?? Math.round(bound * secs)),
    naive: Math.min(n, o.slices?.naive ?? (o.quick ? 5_000 : 20_000)),
    'naive-slow': Math.min(n, o.slices?.['naive-slow'] ?? Math.max(50, Math.round(naiveSlowRate * secs))),
    // The SMTP contenders' bound is the same concurrency / latency, over one mail provider.
    'ours-smtp': Math.min(n, o.slices?.['ours-smtp'] ?? Math.round(bound * secs)),
    'naive-smtp': Math.min(n, o.slices?.['naive-smtp'] ?? Math.max(50, Math.round(naiveSlowRate * secs))),
    'pc-copy': Math.min(n, o.slices?.['pc-copy'] ?? n),
    // The same bound as ours-slow: PROVIDER_CONCURRENCY calls at once.
    'pc-slow': Math.min(n, o.slices?.['pc-slow'] ?? Math.round(bound * secs)),
  };
}

export async function runBenchmark(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const kcat = kcatVersion();
  const clusterName = `bench-${process.pid}`;
  const state = o.brokers ? undefined : await startCluster({ name: clusterName, nodes: 1 });
  const brokers = o.brokers ?? state!.brokers;
  const logger = createLogger({ logLevel: 'error' });
  const kafka = createKafka(loadConfig({}, { KAFKA_BROKERS: brokers }).kafka, logger);
  const admin = kafka.admin();
  const runId = `bench-${Date.now().toString(36)}`;
  const created: string[] = [];
  let provider: SlowProvider | undefined;
  let smtp: SlowSmtp | undefined;
  try {
    if (o.compiled) {
      log('building dist/ (tsc -p tsconfig.build.json): our contenders run the compiled code');
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        {
          cwd: ROOT,
          stdio: 'inherit',
        },
      );
    }
    let pcJar: string | undefined;
    if (o.contenders.some((c) => PC_CONTENDERS.includes(c))) {
      pcJar = buildParallelConsumer();
      log(`Parallel Consumer contenders: java -cp ${pcJar} bench.Main`);
    }
    await admin.connect();
    log(`benchmark ${runId}: brokers ${brokers}${state ? ' (local, started for this run)' : ''}`);

    log('validator only (no Kafka), one core:');
    const local = await benchLocalChecks({ durationMs: o.validatorBenchMs });
    const dns = await benchDnsWarmCache({ durationMs: o.validatorBenchMs });
    log(
      `  local checks ${local.perSecond.toLocaleString('en')}/s, with DNS (warm cache) ${dns.perSecond.toLocaleString('en')}/s`,
    );

    const slices = sliceSizes(o);
    const needed = new Set(o.contenders.map((c) => slices[c]));
    const inputs = new Map<number, string>();
    for (const size of [...needed].sort((a, b) => b - a)) {
      inputs.set(size, size === o.events ? `${runId}.signups` : `${runId}.signups-${size}`);
    }
    await createTopics(admin, [...inputs.values()], o.partitions);
    created.push(...inputs.values());
    const preloadStarted = performance.now();
    let preloaded = 0;
    for (const [size, topic] of inputs) {
      log(
        `preloading ${size.toLocaleString('en')} sign-ups (Avro, seed ${o.seed}) into ${topic}, ${o.partitions} partitions`,
      );
      preloaded += await preload(kafka, topic, size, o.seed, o.progress);
    }
    const preloadSeconds = (performance.now() - preloadStarted) / 1000;

    if (o.contenders.some((c) => c.endsWith('-slow'))) provider = await startSlowProvider(o.latencyMs);
    if (o.contenders.some((c) => c.endsWith('-smtp'))) smtp = await startSlowSmtp(o.latencyMs);
    const results: ContenderResult[] = [];
    for (const name of o.contenders) {
      const input = inputs.get(slices[name])!;
      const outputs =
        name === 'ceiling' || name === 'kafkajs-copy' || name === 'pc-copy'
          ? [`${runId}.${name}.copy`]
          : ['valid', 'invalid', 'dlq'].map((kind) => `${runId}.${name}.${kind}`);
      await createTopics(admin, outputs, o.partitions);
      created.push(...outputs);
      log(`\n${name}: ${DESCRIPTIONS[name]} — ${slices[name].toLocaleString('en')} events`);
      const result = await measureContender(o, {
        name,
        brokers,
        runId,
        input,
        outputs,
        events: slices[name],
        admin,
        kafka,
        provider: name.endsWith('-slow') ? provider : undefined,
        smtp: name.endsWith('-smtp') ? smtp : undefined,
        pcJar,
      });
      results.push(result);
      log(summaryLine(result));
    }

    const by = (n: ContenderName) => results.find((r) => r.name === n && !r.error);
    const ratio = (a?: ContenderResult, b?: ContenderResult) =>
      a && b && b.eventsPerSecond > 0 ? round(a.eventsPerSecond / b.eventsPerSecond, 3) : null;
    const report: BenchReport = {
      startedAt: new Date(started).toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      commit: gitCommit(),
      note: o.note ?? null,
      machine: {
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        cpus: os.cpus().length,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        loadAverage: os.loadavg().map((l) => round(l, 2)),
        node: process.version,
        kafka: o.brokers ? 'external' : DEFAULT_KAFKA_VERSION,
        kcat,
        platform: `${os.type()} ${os.release()}`,
      },
      settings: {
        events: o.events,
        partitions: o.partitions,
        quick: o.quick,
        latencyMs: o.latencyMs,
        providerConcurrency: o.providerConcurrency,
        liveSeconds: o.liveSeconds,
        sampleIntervalMs: SAMPLE_INTERVAL_MS,
        kcatMethod: KCAT_METHOD,
        preloadSeconds: round(preloadSeconds, 1),
        preloadPerSecond: Math.round(preloaded / preloadSeconds),
      },
      validatorOnly: { localChecksPerSecond: local.perSecond, dnsWarmCachePerSecond: dns.perSecond },
      contenders: results,
      ratios: {
        oursToCeiling: ratio(by('ours'), by('ceiling')),
        oursToKafkajsCopy: ratio(by('ours'), by('kafkajs-copy')),
        oursToNaive: ratio(by('ours'), by('naive')),
        oursEosToOurs: ratio(by('ours-eos'), by('ours')),
        oursSlowToNaiveSlow: ratio(by('ours-slow'), by('naive-slow')),
        oursSlowToBound: by('ours-slow')?.provider?.fractionOfBound ?? null,
        oursSmtpToBound: by('ours-smtp')?.provider?.fractionOfBound ?? null,
        oursSmtpToNaiveSmtp: ratio(by('ours-smtp'), by('naive-smtp')),
        oursToPcCopy: ratio(by('ours'), by('pc-copy')),
        oursSlowToPcSlow: ratio(by('ours-slow'), by('pc-slow')),
      },
    };
    if (o.write !== false) {
      const files = writeReports(report, o.resultsDir);
      log(`\nreport: ${files.join(', ')}`);
    }
    return report;
  } finally {
    await provider?.close();
    await smtp?.close();
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect().catch(() => {});
    if (state) await stopCluster({ name: clusterName });
  }
}

function summaryLine(r: ContenderResult): string {
  if (r.error) return `  FAILED: ${r.error}`;
  const lat = r.latency ? `, latency p50 ${r.latency.p50Ms} ms p99 ${r.latency.p99Ms} ms` : '';
  const prov = r.provider
    ? `, provider ${r.provider.requestsPerSecond}/s = ${r.provider.fractionOfBound}× bound ${r.provider.boundPerSecond}/s` +
      (r.provider.server ? `; mail servers saw ${JSON.stringify(r.provider.server)}` : '')
    : '';
  return (
    `  ${r.eventsPerSecond.toLocaleString('en')} events/s${r.drained ? '' : ' (time bound hit)'}${lat}, ` +
    `peak RSS ${r.peakRssMb} MB, ${r.cpuSecondsPerMillion} CPU s per million${prov}`
  );
}

const round = (x: number, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

const roundAll = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v])) as T;

async function createTopics(admin: Admin, topics: string[], partitions: number): Promise<void> {
  // A freshly created topic may answer UNKNOWN_TOPIC_OR_PARTITION for a moment, also to
  // KafkaJS's own wait for leaders on a loaded machine: waitForLeaders waits it out.
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } catch (err) {
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
  }
  await waitForLeaders(admin, topics, partitions);
}

async function endOffsetSum(admin: Admin, topics: readonly string[]): Promise<number> {
  // Leadership of a new topic settles a moment after creation: retriable errors are retried.
  for (let attempt = 1; ; attempt++) {
    try {
      let sum = 0;
      for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) sum += Number(p.high);
      return sum;
    } catch (err) {
      if (attempt >= 50 || (err as { retriable?: boolean }).retriable === false) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function checkKcatSafe(m: Message): void {
  const key = typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
  for (const b of [key, m.value as Buffer | null]) {
    if (b && (b.includes(KCAT_KEY_DELIMITER) || b.includes(KCAT_MESSAGE_DELIMITER)))
      throw new Error('a preloaded record contains the kcat delimiter; the ceiling would not be byte-exact');
  }
}

/**
 * Publishes `count` synthetic sign-ups as fast as KafkaJS allows: a plain (non-idempotent,
 * acks=all) producer with several batches in flight. Record timestamps are the send time.
 */
async function preload(kafka: Kafka, topic: string, count: number, seed: number, progress: boolean): Promise<number> {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const bar = progress ? progressBar('preload', count) : undefined;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  try {
    let batch: Message[] = [];
    const flush = async () => {
      const messages = batch;
      batch = [];
      const p = producer.send({ topic, acks: -1, messages }).then(() => {
        sent += messages.length;
        bar?.update(sent);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
      if (inFlight.size >= 4) await Promise.race(inFlight);
    };
    for (const s of syntheticSignups(count, seed)) {
      const m = signupMessage(s.event, 'avro');
      checkKcatSafe(m);
      batch.push(m);
      if (batch.length >= 2000) await flush();
    }
    if (batch.length > 0) await flush();
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
    await producer.disconnect();
  }
  return sent;
}

interface ContenderRun {
  name: ContenderName;
  brokers: string;
  runId: string;
  input: string;
  outputs: string[];
  events: number;
  admin: Admin;
  kafka: Kafka;
  /** The slow HTTP provider (the *-slow contenders). */
  provider: SlowProvider | undefined;
  /** The mail provider (the *-smtp contenders). */
  smtp?: SlowSmtp | undefined;
  /** The Parallel Consumer jar, for the pc-* contenders. */
  pcJar?: string | undefined;
}

function contenderEnv(o: BenchOptions, run: ContenderRun): Record<string, string> {
  // A copying contender has one output topic; the names it never writes to only need to differ.
  const [valid, invalid = `${valid}-unused-invalid`, dlq = `${valid}-unused-dlq`] = run.outputs as [
    string,
    string?,
    string?,
  ];
  return childEnv({
    KAFKA_BROKERS: run.brokers,
    KAFKA_CLIENT_ID: `${run.runId}-${run.name}`,
    KAFKA_GROUP_ID: `${run.runId}-${run.name}`,
    INPUT_TOPIC: run.input,
    VALID_TOPIC: valid,
    INVALID_TOPIC: invalid,
    DLQ_TOPIC: dlq,
    // Unknown verdicts (none expected here) go straight to the dead-letter topic, so every
    // event has exactly one result among the three topics counted.
    RETRY_DELAYS: '',
    // Never the system resolver: local checks only.
    CHECK_DNS: 'false',
    CHECK_SMTP: 'false',
    HTTP_PORT: '-1',
    LOG_LEVEL: 'warn',
    EFV_FROM_SOURCE: o.compiled ? '0' : '1',
    ...(run.smtp
      ? {
          CHECK_DNS: 'true',
          DNS_SERVERS: run.smtp.dns,
          CHECK_SMTP: 'true',
          SMTP_PORT: String(run.smtp.port),
          // The bench's mail provider is on loopback.
          SMTP_ALLOW_PRIVATE_NETWORKS: 'true',
          // One RCPT per probe, so the servers' count is the probe count.
          SMTP_CATCH_ALL_CHECK: 'false',
          // The connection limit is what bounds: the rate limit must not.
          SMTP_PROVIDER_LIMITS: `${run.smtp.provider}=${o.providerConcurrency}:100000000`,
          SMTP_HELO: 'bench.example.com',
        }
      : {}),
    ...(run.provider
      ? {
          CHECK_PROVIDER: 'true',
          PROVIDER_URL: run.provider.url,
          PROVIDER_CONCURRENCY: String(o.providerConcurrency),
          // The bucket must not be what limits: the bound under test is concurrency / latency.
          PROVIDER_RATE_PER_SECOND: '100000',
          PROVIDER_BURST: '100000',
        }
      : { CHECK_PROVIDER: 'false' }),
    ...(isTransactional(run.name)
      ? { DELIVERY: 'exactly-once', KAFKA_TRANSACTIONAL_ID: `${run.runId}-${run.name}-${process.pid}` }
      : {}),
    ...(run.name === 'pc-copy' ? { PC_MODE: 'copy', PC_MAX_CONCURRENCY: '16', PC_BATCH_SIZE: '100' } : {}),
    ...(run.name === 'pc-slow'
      ? { PC_MODE: 'slow', PC_MAX_CONCURRENCY: String(o.providerConcurrency), PC_BATCH_SIZE: '1' }
      : {}),
    ...(run.name.startsWith('ours') ? o.oursEnv : {}),
  });
}

const isTransactional = (name: ContenderName) => name === 'ours-eos';

/**
 * Results a contender has published so far. Normally the sum of its output topics' end offsets.
 * A transactional contender's end offsets also count one transaction marker per partition per
 * transaction, and its results count only once committed: there, the offsets its group has
 * committed on the input — committed in the same transaction as the results, one result per
 * event (unknown verdicts go to the dead-letter topic at once, RETRY_DELAYS empty).
 */
async function resultCount(run: ContenderRun): Promise<number> {
  if (!isTransactional(run.name)) return endOffsetSum(run.admin, run.outputs);
  for (let attempt = 1; ; attempt++) {
    try {
      const [entry] = await run.admin.fetchOffsets({ groupId: `${run.runId}-${run.name}`, topics: [run.input] });
      let sum = 0;
      for (const p of entry?.partitions ?? []) sum += Math.max(0, Number(p.offset));
      return sum;
    } catch (err) {
      if (attempt >= 50 || (err as { retriable?: boolean }).retriable === false) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function launch(o: BenchOptions, run: ContenderRun): Launched {
  if (run.name === 'ceiling') return launchKcatPassThrough(run.brokers, run.input, run.outputs[0]!);
  const env = contenderEnv(o, run);
  if (run.name === 'pc-copy' || run.name === 'pc-slow') return launchParallelConsumer(run.pcJar!, env);
  if (run.name === 'ours' || run.name === 'ours-eos' || run.name === 'ours-slow' || run.name === 'ours-smtp') {
    // BENCH_CPU_PROF_INTERVAL_US: a finer sampling (V8's default is 1000 µs) to see the event
    // loop's long tasks (bench/profile-stalls.ts).
    const interval = process.env.BENCH_CPU_PROF_INTERVAL_US;
    const prof = o.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`, ...(interval ? [`--cpu-prof-interval=${interval}`] : [])]
      : [];
    if (prof.length) mkdirSync(o.cpuProfileDir!, { recursive: true });
    // With the image's V8 flags and allocator settings: the memory measured is a deployment's.
    return launchNode([...NODE_FLAGS, ...prof, join(ROOT, 'bin', 'email-flow-validator.mjs'), 'run'], {
      ...MALLOC_ENV,
      ...env,
    });
  }
  const script = run.name === 'kafkajs-copy' ? 'kafkajs-copy.ts' : 'naive-consumer.ts';
  return launchNode(['--import', 'tsx', join(ROOT, 'bench', script)], env);
}

async function measureContender(o: BenchOptions, run: ContenderRun): Promise<ContenderResult> {
  const base: ContenderResult = {
    name: run.name,
    description: DESCRIPTIONS[run.name],
    events: run.events,
    processed: 0,
    drained: false,
    eventsPerSecond: 0,
    wallSeconds: 0,
    latency: null,
    peakRssMb: 0,
    cpuSecondsPerMillion: 0,
    series: [],
  };
  const last = new Map<number, ProcStats>();
  const launchedAt = performance.now();
  // The slow dependency whose requests are counted: the HTTP provider, or the mail provider.
  const counted = run.provider ?? run.smtp;
  const providerBase = counted?.requests() ?? 0;
  // Earlier contenders' live events sit in a shared input topic too: the backlog is all of it.
  run.events = await endOffsetSum(run.admin, [run.input]);
  base.events = run.events;
  const proc = launch(o, run);
  // Launch itself is the first reading, so a contender done within one interval still has a rate.
  const samples: Sample[] = [
    { t: 0, outputs: 0, cpuSeconds: 0, rssBytes: 0, ...(counted ? { providerRequests: 0 } : {}) },
  ];
  const bar = o.progress ? progressBar(run.name.padEnd(10), run.events) : undefined;
  let doneAt = -1;
  let peakRss = 0;
  let smtpStats: SmtpServerStats | null | undefined;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, SAMPLE_INTERVAL_MS));
      const outputs = await resultCount(run);
      const stats = sumStats(proc.pids(), last);
      peakRss = Math.max(peakRss, stats.peakRssBytes);
      samples.push({
        t: (performance.now() - launchedAt) / 1000,
        outputs,
        cpuSeconds: stats.cpuSeconds,
        rssBytes: stats.rssBytes,
        ...(counted
          ? { providerRequests: counted.requests() - providerBase, providerStats: run.provider?.stats?.() }
          : {}),
      });
      bar?.update(Math.min(outputs, run.events));
      // The mail servers' own view starts with the first results (not the contender's start-up).
      if (outputs > 0 && smtpStats === undefined) {
        run.smtp?.resetStats();
        smtpStats = null;
      }
      if (outputs >= run.events) {
        if (run.smtp) smtpStats = run.smtp.stats();
        doneAt = samples.length - 1;
        break;
      }
      // kcat's backlog run exits at the end of its input; anything else exiting is a failure.
      if (proc.hasExited() && run.name !== 'ceiling') throw new Error(`exited early: ${proc.stderrTail()}`);
      if (samples[samples.length - 1]!.t > o.maxSecondsPerContender) break;
      // No new result for STALL_SECONDS once results flowed: stuck, not slow.
      const lastProgress = samples.findLast((s) => s.outputs < outputs);
      if (outputs > 0 && lastProgress && samples[samples.length - 1]!.t - lastProgress.t > STALL_SECONDS)
        throw new Error(
          `stalled: no result for ${STALL_SECONDS} s at ${outputs} of ${run.events}: ${proc.stderrTail().slice(-500)}`,
        );
    }
  } catch (err) {
    bar?.stop();
    await proc.stop(5000);
    return { ...base, error: (err as Error).message };
  }
  bar?.stop();
  const end = doneAt >= 0 ? doneAt : samples.length - 1;
  const final = samples[end]!;
  const firstOut = Math.max(
    0,
    samples.findIndex((s) => s.outputs > 0),
  );
  const eventsPerSecond = Math.round(steadyRate(samples, (s) => s.outputs, end));
  // CPU per event over the processing itself, not start-up (module loading, group join).
  const from = samples[firstOut]!;
  const cpuPerEvent =
    final.outputs > from.outputs
      ? (final.cpuSeconds - from.cpuSeconds) / (final.outputs - from.outputs)
      : final.cpuSeconds / Math.max(1, final.outputs);
  const series = [];
  for (let i = 1; i <= end; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    series.push({ t: round(b.t, 1), rate: Math.round((b.outputs - a.outputs) / (b.t - a.t)) });
  }
  let provider: ProviderResult | undefined;
  if (counted) {
    // The service's count reaches the harness in its reports (every REPORT_MS): read at the
    // sample that saw the last result, it can miss the requests of the last report's interval
    // (a tenth of a second is a few % of a tiny backlog). Nothing runs between the backlog and
    // the live events, so the count two reports later is the backlog's whole count.
    await new Promise((r) => setTimeout(r, 3 * REPORT_MS));
    const requests = counted.requests() - providerBase;
    const bound = (o.providerConcurrency * 1000) / o.latencyMs;
    const perSecond = steadyRate(samples, (s) => s.providerRequests ?? 0, end);
    provider = {
      latencyMs: o.latencyMs,
      concurrency: o.providerConcurrency,
      boundPerSecond: Math.round(bound),
      requestsPerSecond: Math.round(perSecond),
      fractionOfBound: round(perSecond / bound, 3),
      requestsPerEvent: round(requests / Math.max(1, final.outputs), 3),
    };
    if (smtpStats) provider.server = smtpStats;
    // What the provider measured of itself over the same window: where the bound went.
    const window = steadyWindow(samples, (s) => s.providerRequests ?? 0, end);
    const seen =
      window?.[0].providerStats &&
      window[1].providerStats &&
      providerWindow(window[0].providerStats, window[1].providerStats, o.latencyMs);
    if (seen) provider.atProvider = roundAll(seen);
    // Naive calls one at a time: its bound is 1 / latency, whatever PROVIDER_CONCURRENCY says.
    if (run.name === 'naive-slow' || run.name === 'naive-smtp') {
      provider.concurrency = 1;
      provider.boundPerSecond = Math.round(1000 / o.latencyMs);
      provider.fractionOfBound = round(perSecond / (1000 / o.latencyMs), 3);
    }
  }

  let transactionMarkers: number | undefined;
  let processed = final.outputs;
  if (isTransactional(run.name) && doneAt >= 0) {
    const ends = await endOffsetSum(run.admin, run.outputs);
    let records = 0;
    for (const t of run.outputs) records += countCommittedRecords(run.brokers, t);
    transactionMarkers = ends - records;
    // The committed results themselves, counted (not the group's offsets) before live events arrive.
    processed = records;
  }

  let latency: LatencyResult | null = null;
  let error: string | undefined;
  try {
    // The ceiling's latency is not measured: kcat -P reads its standard input in blocks, so a
    // record copied at a low rate waits in the pipe — that would time the pipe, not Kafka.
    if (doneAt >= 0 && run.name !== 'ceiling') {
      latency = await measureLatency(o, run, eventsPerSecond);
      peakRss = Math.max(peakRss, sumStats(proc.pids(), last).peakRssBytes);
    }
  } catch (err) {
    error = `latency phase: ${(err as Error).message}`;
  } finally {
    peakRss = Math.max(peakRss, sumStats(proc.pids(), last).peakRssBytes);
    await proc.stop();
  }
  return {
    ...base,
    processed,
    drained: doneAt >= 0,
    eventsPerSecond,
    wallSeconds: round(final.t, 1),
    latency,
    peakRssMb: Math.round(peakRss / 2 ** 20),
    cpuSecondsPerMillion: round(cpuPerEvent * 1e6, 1),
    series,
    ...(provider ? { provider } : {}),
    ...(transactionMarkers !== undefined ? { transactionMarkers } : {}),
    ...(error ? { error } : {}),
  };
}

/**
 * End-to-end latency under a steady offered load below the contender's capacity: live sign-ups
 * (unique keys, record timestamp = send time) appended to its caught-up input topic; latency is
 * result record timestamp − input record timestamp, read back with kcat.
 */
async function measureLatency(o: BenchOptions, run: ContenderRun, throughput: number): Promise<LatencyResult> {
  const rate = Math.max(5, Math.min(o.liveRate, Math.floor(throughput / 2)));
  const count = Math.max(10, Math.round(rate * o.liveSeconds));
  const fromMs = Date.now();
  const producer = run.kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const before = await resultCount(run);
  const sentAt = new Map<string, number>();
  try {
    const events = syntheticSignups(count, o.seed + 1);
    const t0 = performance.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      const messages: Message[] = [];
      for (; sent < due; sent++) {
        const { event } = events.next().value!;
        const key = `live-${run.name}-${sent}`;
        const now = Date.now();
        sentAt.set(key, now);
        messages.push({ ...signupMessage({ ...event, userId: key }, 'avro'), timestamp: String(now) });
      }
      if (messages.length) await producer.send({ topic: run.input, acks: -1, messages });
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await producer.disconnect();
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await resultCount(run)) < before + count) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const latencies: number[] = [];
  for (const topic of run.outputs) {
    for (const [key, ts] of readKeyTimestamps(run.brokers, topic, fromMs)) {
      const sent = sentAt.get(key);
      if (sent !== undefined) latencies.push(ts - sent);
    }
  }
  return {
    offeredPerSecond: rate,
    sent: count,
    received: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : 0,
  };
}
