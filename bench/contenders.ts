import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const CONTENDERS = [
  'ceiling',
  'kafkajs-copy',
  'ours',
  'ours-eos',
  'ours-slow',
  'ours-smtp',
  'naive',
  'naive-slow',
  'naive-smtp',
  'pc-copy',
  'pc-slow',
] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export const DESCRIPTIONS: Record<ContenderName, string> = {
  ceiling: 'kcat pass-through (librdkafka): same bytes, no validation',
  'kafkajs-copy': 'KafkaJS pass-through (eachBatch → sendBatch, idempotent): the client library alone',
  ours: 'email-flow-validator run, local checks (syntax, lists)',
  'ours-eos': 'the same with DELIVERY=exactly-once: results and input offsets committed in Kafka transactions',
  'ours-slow': 'email-flow-validator run, local checks + HTTP provider answering after a fixed latency',
  'ours-smtp':
    'email-flow-validator run, local checks + DNS + SMTP probes to one mail provider (two MX hosts) answering RCPT after a fixed latency, under its connection limit',
  naive: 'KafkaJS eachMessage: validate, send, await, next (local checks)',
  'naive-slow': 'KafkaJS eachMessage with the same slow HTTP provider',
  'naive-smtp': 'KafkaJS eachMessage with the same SMTP probes: one probe at a time per consumer',
  'pc-copy':
    'Confluent Parallel Consumer 0.5.3.3 (kafka-clients 3.9.1, Java 17, default JVM flags) pass-through: ordering KEY, ' +
    'maxConcurrency 16, batchSize 100 (its default of 1 copied at about a quarter of that rate), pollAndProduceMany, ' +
    'idempotent acks=all producer, PC default periodic asynchronous commits',
  'pc-slow':
    'Confluent Parallel Consumer, the same slow HTTP provider: ordering KEY, maxConcurrency = the provider concurrency, ' +
    'batchSize 1; per record Avro decode, one java.net.http POST, one produced result (valid/invalid/dead-letter)',
};

/** The Parallel Consumer contenders, which need the Java peer built (bench/install-parallel-consumer.sh). */
export const PC_CONTENDERS: readonly ContenderName[] = ['pc-copy', 'pc-slow'];

const PC_INSTALL = join(ROOT, 'bench', 'install-parallel-consumer.sh');
const PC_SOURCES = [
  join(ROOT, 'bench', 'parallel-consumer', 'pom.xml'),
  join(ROOT, 'bench', 'parallel-consumer', 'src', 'main', 'java', 'bench', 'Main.java'),
  join(ROOT, 'schemas', 'SignupEvent.avsc'),
];

/** Where bench/install-parallel-consumer.sh puts the jar of the current sources (same hash). */
export function parallelConsumerJarPath(): string {
  const hash = createHash('sha256');
  for (const f of PC_SOURCES) hash.update(readFileSync(f));
  const cache =
    process.env.KAFKA_CACHE_DIR ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'email-flow-validator');
  return join(cache, `parallel-consumer-${hash.digest('hex').slice(0, 12)}`, 'pc-bench.jar');
}

/** The jar, built by the install script when it is not there yet (Java 17 and Maven; cached). */
export function buildParallelConsumer(): string {
  try {
    const out = execFileSync('bash', [PC_INSTALL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return out.trim().split('\n').at(-1)!;
  } catch (err) {
    throw new Error(
      `the Parallel Consumer contenders could not be built (bash bench/install-parallel-consumer.sh): ${(err as Error).message}`,
    );
  }
}

/** A launched contender: its processes, measured from outside. */
export interface Launched {
  pids(): number[];
  /** Resolves when every process of it has exited. */
  exited: Promise<void>;
  /** True once a process exited (expected or not). */
  hasExited(): boolean;
  /** Asks it to stop (SIGTERM), waits, kills after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines it wrote to stderr, for error messages. */
  stderrTail(): string;
}

function watch(children: ChildProcess[]): Launched {
  let tail = '';
  let anyExited = false;
  // For a diagnosis, e.g. a contender's own log: BENCH_CHILD_STDERR=/tmp/log.txt with
  // `--set LOG_LEVEL=debug --set KAFKAJS_LOG_LEVEL=debug` (ours logs to stderr; appended).
  const errOut = process.env.BENCH_CHILD_STDERR ? openSync(process.env.BENCH_CHILD_STDERR, 'a') : undefined;
  const exits = children.map(
    (c) =>
      new Promise<void>((resolve) => {
        c.stderr?.on('data', (d: Buffer) => {
          tail = (tail + d.toString('utf8')).slice(-4000);
          if (errOut !== undefined) writeSync(errOut, d);
        });
        c.once('exit', () => {
          anyExited = true;
          resolve();
        });
        c.once('error', (err) => {
          tail += `\n${err.message}`;
          anyExited = true;
          resolve();
        });
      }),
  );
  const exited = Promise.all(exits).then(() => {});
  // Closed once every child's stderr has closed ('close' comes after its last 'data').
  if (errOut !== undefined)
    void Promise.all(children.map((c) => new Promise((resolve) => c.once('close', resolve)))).then(() =>
      closeSync(errOut),
    );
  return {
    pids: () => children.map((c) => c.pid).filter((p): p is number => p !== undefined),
    exited,
    hasExited: () => anyExited,
    async stop(graceMs = 30_000) {
      // The first process of a pipeline is signalled; the rest end when their input closes.
      for (const c of children.slice(0, 1)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      });
      const killed = await Promise.race([exited.then(() => false), late]);
      clearTimeout(timer);
      if (killed) {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        await exited;
      }
    },
    stderrTail: () => tail.trim(),
  };
}

/** A Node contender: `node [nodeArgs] script`, configuration only through its environment. */
export function launchNode(args: string[], env: Record<string, string>): Launched {
  // For a diagnosis, e.g. of GC pauses: BENCH_NODE_FLAGS='--trace-gc' BENCH_CHILD_STDOUT=/tmp/gc.txt
  // (V8 flags after the contender's own, so they win; its stdout appended to the file).
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const at = args.findIndex((a) => !a.startsWith('-'));
  const argv = at < 0 ? [...args, ...extra] : [...args.slice(0, at), ...extra, ...args.slice(at)];
  const out = process.env.BENCH_CHILD_STDOUT ? openSync(process.env.BENCH_CHILD_STDOUT, 'a') : 'ignore';
  const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', out, 'pipe'] });
  // The child writes to its own copy of the descriptor: ours is not needed past the spawn.
  if (typeof out === 'number') closeSync(out);
  return watch([child]);
}

/**
 * A Parallel Consumer contender: `java -cp pc-bench.jar bench.Main` with the JVM's defaults,
 * configured through its environment like the others (PC_MODE, PC_MAX_CONCURRENCY, PC_BATCH_SIZE).
 */
export function launchParallelConsumer(jar: string, env: Record<string, string>): Launched {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const child = spawn(java, ['-cp', jar, 'bench.Main'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  return watch([child]);
}

/** The environment a child gets: nothing of ours leaks in except PATH/HOME and what is passed. */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k]!;
  // Tuning knobs of the pipeline may be tried from the bench's own environment.
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      /^(PARTITION_|GLOBAL_CONCURRENCY|PUBLISH_|COMMIT_|FETCH_|ORDERING$|KAFKA_SESSION|NODE_OPTIONS$)/.test(k)
    )
      env[k] = v;
  }
  return { ...env, ...vars };
}

/*
 * kcat copies records byte for byte as long as neither delimiter occurs in a key or value.
 * These are 16 bytes from 0xF8–0xFF: such bytes never occur in UTF-8 (Avro strings, our keys)
 * and a 16-byte run of them cannot occur in Avro's zig-zag varints (at most 10 bytes, and only
 * the last lacks the 0x80 bit). The preloader checks every record for them all the same.
 */
const KEY_DELIM_BYTES = [
  0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
];
const MSG_DELIM_BYTES = [
  0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8,
];
export const KCAT_KEY_DELIMITER = Buffer.from(KEY_DELIM_BYTES);
export const KCAT_MESSAGE_DELIMITER = Buffer.from(MSG_DELIM_BYTES);
const kcatEscape = (bytes: number[]) => bytes.map((b) => `\\x${b.toString(16)}`).join('');

export const KCAT_METHOD =
  'kcat -C (all partitions, from the beginning, -e) piped into kcat -P (idempotent, acks=all, murmur2 partitioner), ' +
  'key and message framed by 16-byte delimiters (-K/-D) of bytes 0xF8–0xFF, which cannot occur in UTF-8 or in ' +
  'Avro varints; every preloaded record is checked for them. Keys and values are copied byte for byte; headers are not.';

/** Fails with the way to install it when kcat is missing. */
export function kcatVersion(): string {
  try {
    const out = execFileSync('kcat', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /Version ([^\s]+)/.exec(out)?.[1] ?? 'unknown';
  } catch {
    throw new Error(
      'kcat is not installed; the benchmark needs it for the ceiling contender and to read result timestamps. ' +
        'Install it with `bash bench/install-kcat.sh` (Debian package kcat, as root).',
    );
  }
}

/**
 * The ceiling: kcat consuming the input topic and a second kcat producing the same bytes to
 * the output topic, piped process to process (the data never passes through this process).
 */
export function launchKcatPassThrough(brokers: string, input: string, output: string): Launched {
  const framing = ['-K', kcatEscape(KEY_DELIM_BYTES), '-D', kcatEscape(MSG_DELIM_BYTES)];
  const consumerArgs = [
    '-C',
    '-b',
    brokers,
    '-t',
    input,
    '-q',
    '-o',
    'beginning',
    // Ends by itself at the end of every partition; the producer then flushes and exits.
    '-e',
    ...framing,
  ];
  const consumer = spawn('kcat', consumerArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const producer = spawn(
    'kcat',
    [
      '-P',
      '-b',
      brokers,
      '-t',
      output,
      '-q',
      ...framing,
      '-X',
      'enable.idempotence=true',
      '-X',
      'partitioner=murmur2_random',
    ],
    { stdio: [consumer.stdout, 'ignore', 'pipe'] },
  );
  return watch([consumer, producer]);
}

/**
 * Counts the records of a topic with kcat, which reads with isolation.level=read_committed
 * (librdkafka's default): transaction markers and aborted records are not counted.
 */
export function countCommittedRecords(brokers: string, topic: string): number {
  const out = execFileSync(
    'kcat',
    [
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-q',
      '-X',
      'isolation.level=read_committed',
      '-o',
      'beginning',
      '-e',
      '-f',
      '.',
    ],
    {
      encoding: 'latin1',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  return out.length;
}

/** Reads `key → record timestamp` of the records at or after `fromMs` in a topic, with kcat. */
export function readKeyTimestamps(brokers: string, topic: string, fromMs: number): Map<string, number> {
  const out = execFileSync(
    'kcat',
    ['-C', '-b', brokers, '-t', topic, '-q', '-o', `s@${fromMs}`, '-e', '-f', '%k\t%T\n'],
    { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
  );
  const map = new Map<string, number>();
  for (const line of out.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const key = line.slice(0, tab);
    if (!map.has(key)) map.set(key, Number(line.slice(tab + 1)));
  }
  return map;
}
