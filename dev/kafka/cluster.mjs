#!/usr/bin/env node
// A real Apache Kafka cluster (KRaft, combined broker+controller nodes) on 127.0.0.1, run
// from Maven Central jars with the machine's Java. Used by `npm run kafka:start|stop`, by
// the vitest global setup and by `email-flow-validator demo`.
//
// Plain ESM JavaScript on purpose: it must run before anything is compiled and from
// `node` alone, including in CI on a clean clone.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Newest Apache Kafka line proven to work with KafkaJS 2.2.4 (see README: produce, group consume, commit). */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
/** The 3.x line kept for compatibility: KAFKA_VERSION=3.9.2. */
export const COMPAT_KAFKA_VERSION = '3.9.2';

function kafkaVersion() {
  const v = process.env.KAFKA_VERSION || DEFAULT_KAFKA_VERSION;
  if (!/^[34]\.\d+\.\d+$/.test(v)) {
    throw new Error(`KAFKA_VERSION must look like 4.4.0 or 3.9.2, got "${v}"`);
  }
  return v;
}

function cacheRoot() {
  return (
    process.env.KAFKA_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'email-flow-validator')
  );
}

function log(msg) {
  if (process.env.KAFKA_QUIET !== '1') process.stderr.write(`[kafka] ${msg}\n`);
}

/** Resolves the broker jars from Maven Central once per version into a cache folder. */
export function ensureJars(version = kafkaVersion()) {
  const libs = join(cacheRoot(), `kafka-${version}`, 'libs');
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  log(`resolving Apache Kafka ${version} from Maven Central (once; cached in ${libs})`);
  rmSync(libs, { recursive: true, force: true });
  const args = [
    '-q',
    '-B',
    '-f',
    join(here, 'pom.xml'),
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-Dkafka.version=${version}`,
    `-DoutputDirectory=${libs}`,
  ];
  if (version.startsWith('3.')) args.push('-Dkafka3');
  try {
    execFileSync('mvn', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    throw new Error(
      `mvn could not resolve Apache Kafka ${version}: ${err.message}. Is Maven installed and Maven Central reachable?`,
    );
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return libs;
}

async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Kafka's Uuid text form: 16 random bytes, base64url without padding. */
function clusterId() {
  // An id starting with "-" would be read by StorageTool as an option.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The optional SASL_SSL listener: TLS with the given key store, SASL PLAIN and SCRAM-SHA-256/512.
 * PLAIN users live in the listener's JAAS line; SCRAM users are written into the metadata log
 * at format time (KRaft has no ZooKeeper to hold them). Inter-broker traffic and the
 * readiness check stay on PLAINTEXT, so a TLS mistake in a test shows up as a client error.
 */
function saslSslProperties(saslSsl) {
  const l = 'listener.name.sasl_ssl';
  const plainUsers = (saslSsl.plainUsers ?? []).map((u) => `user_${u.name}="${u.password}"`).join(' ');
  const lines = [
    `sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512`,
    `${l}.ssl.keystore.location=${saslSsl.keyStore}`,
    `${l}.ssl.keystore.password=${saslSsl.keyStorePassword}`,
    `${l}.ssl.keystore.type=${saslSsl.keyStoreType ?? 'PKCS12'}`,
    `${l}.ssl.client.auth=${saslSsl.clientAuth ?? 'none'}`,
    `${l}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    `${l}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${l}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
  ];
  if (saslSsl.trustStore) {
    lines.push(
      `${l}.ssl.truststore.location=${saslSsl.trustStore}`,
      `${l}.ssl.truststore.password=${saslSsl.trustStorePassword ?? ''}`,
      `${l}.ssl.truststore.type=${saslSsl.trustStoreType ?? 'PKCS12'}`,
    );
  }
  return lines;
}

function serverProperties({ node, nodes, dataDir, replication, saslSsl }) {
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const minIsr = replication >= 3 ? 2 : 1;
  const secure = saslSsl ? `,SASL_SSL://127.0.0.1:${node.saslSslPort}` : '';
  return [
    `process.roles=broker,controller`,
    `node.id=${node.id}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}${secure}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}${secure}`,
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${saslSsl ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(saslSsl ? saslSslProperties(saslSsl) : []),
    `controller.listener.names=CONTROLLER`,
    `inter.broker.listener.name=PLAINTEXT`,
    `log.dirs=${join(dataDir, `node-${node.id}`, 'data')}`,
    `num.partitions=1`,
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replication}`,
    `offsets.topic.num.partitions=10`,
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `transaction.state.log.num.partitions=10`,
    // Tests create many groups; do not make each first join wait 3 s.
    `group.initial.rebalance.delay.ms=0`,
    `auto.create.topics.enable=false`,
    `delete.topic.enable=true`,
    `log.segment.bytes=104857600`,
    `num.network.threads=2`,
    `num.io.threads=4`,
    `unclean.leader.election.enable=false`,
    '',
  ].join('\n');
}

const LOG4J2 = `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger = INFO, FILE
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
`;

const LOG4J1 = `log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=\${kafka.logs.dir}/server.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

function javaBin() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function classpath(libs) {
  return `${libs}/*`;
}

function nodeDir(state, id) {
  return join(state.dataDir, `node-${id}`);
}

function formatNode(state, node, libs) {
  const dir = nodeDir(state, node.id);
  const props = join(dir, 'server.properties');
  execFileSync(
    javaBin(),
    [
      '-cp',
      classpath(libs),
      ...logOpts(state, dir),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      state.clusterId,
      '-c',
      props,
      '--ignore-formatted',
      ...(state.scramUsers ?? []).flatMap((u) => [
        '--add-scram',
        `${u.mechanism}=[name=${u.name},password=${u.password}]`,
      ]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

function logOpts(state, dir) {
  const v4 = state.version.startsWith('4.');
  return [
    `-Dkafka.logs.dir=${dir}`,
    v4
      ? `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`
      : `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
  ];
}

function spawnNode(state, node, libs) {
  const dir = nodeDir(state, node.id);
  const out = createWriteStream(join(dir, 'stdout.log'), { flags: 'a' });
  const heap = process.env.KAFKA_HEAP || (state.nodes.length > 1 ? '-Xmx384m' : '-Xmx768m');
  const child = spawn(
    javaBin(),
    [
      heap,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      ...logOpts(state, dir),
      '-cp',
      classpath(libs),
      'kafka.Kafka',
      join(dir, 'server.properties'),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.unref();
  // The pipes would keep our event loop alive; the broker outlives this process.
  child.stdout.unref?.();
  child.stderr.unref?.();
  node.pid = child.pid;
  return child;
}

function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canConnect(port) {
  return new Promise((res) => {
    const s = new Socket();
    const done = (ok) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(1000);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
    s.connect(port, '127.0.0.1');
  });
}

/** Waits until the cluster answers metadata requests with every node registered. */
async function waitReady(state, timeoutMs = 90_000) {
  const { Kafka, logLevel } = await import('kafkajs');
  const deadline = Date.now() + timeoutMs;
  const brokers = state.nodes.map((n) => `127.0.0.1:${n.port}`);
  let lastErr;
  while (Date.now() < deadline) {
    for (const n of state.nodes) {
      if (!isAlive(n.pid)) {
        throw new Error(`Kafka node ${n.id} exited during start-up; see ${join(nodeDir(state, n.id), 'stdout.log')}`);
      }
    }
    if ((await Promise.all(state.nodes.map((n) => canConnect(n.port)))).every(Boolean)) {
      const kafka = new Kafka({
        clientId: 'cluster-ready',
        brokers,
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        const d = await admin.describeCluster();
        if (d.brokers.length >= state.nodes.length && d.controller !== null && d.controller !== undefined) {
          await admin.disconnect();
          return;
        }
      } catch (err) {
        lastErr = err;
      }
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Kafka did not become ready within ${timeoutMs} ms${lastErr ? `: ${lastErr.message}` : ''}`);
}

function stateFile(name) {
  return join(here, '.state', `${name}.json`);
}

export function readState(name = 'default') {
  const f = stateFile(name);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8'));
}

function writeState(state) {
  mkdirSync(dirname(stateFile(state.name)), { recursive: true });
  writeFileSync(stateFile(state.name), `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Starts a cluster of `nodes` combined-mode nodes and resolves with its state
 * ({ brokers: "127.0.0.1:p1,…", nodes: [{id, port, controllerPort, pid}], … }).
 * If a cluster of that name already runs, it is reused.
 */
export async function startCluster({ name = 'default', nodes: count = 1, dataDir, saslSsl } = {}) {
  const existing = readState(name);
  if (existing?.nodes.every((n) => isAlive(n.pid))) {
    log(`reusing running cluster "${name}" at ${existing.brokers}`);
    return existing;
  }
  if (existing) await stopCluster({ name });
  const version = kafkaVersion();
  const libs = ensureJars(version);
  const dir = resolve(dataDir || join(cacheRoot(), 'clusters', `${name}-${process.pid}-${Date.now()}`));
  const nodeList = [];
  for (let i = 0; i < count; i++) {
    const node = { id: i + 1, port: await freePort(), controllerPort: await freePort(), pid: 0 };
    if (saslSsl) node.saslSslPort = await freePort();
    nodeList.push(node);
  }
  const state = {
    name,
    version,
    clusterId: clusterId(),
    dataDir: dir,
    libs,
    nodes: nodeList,
    brokers: nodeList.map((n) => `127.0.0.1:${n.port}`).join(','),
    replication: count >= 3 ? 3 : 1,
  };
  if (saslSsl) {
    state.saslSslBrokers = nodeList.map((n) => `127.0.0.1:${n.saslSslPort}`).join(',');
    // Only what formatting needs; passwords of the key stores stay out of the state file.
    state.scramUsers = saslSsl.scramUsers ?? [];
  }
  for (const node of nodeList) {
    const nd = nodeDir(state, node.id);
    mkdirSync(nd, { recursive: true });
    writeFileSync(
      join(nd, 'server.properties'),
      serverProperties({ node, nodes: nodeList, dataDir: dir, replication: state.replication, saslSsl }),
    );
    writeFileSync(join(nd, 'log4j2.properties'), LOG4J2);
    writeFileSync(join(nd, 'log4j.properties'), LOG4J1);
    formatNode(state, node, libs);
  }
  log(
    `starting Apache Kafka ${version}, ${count} node(s) on ${state.brokers}${saslSsl ? `, SASL_SSL on ${state.saslSslBrokers}` : ''}`,
  );
  for (const node of nodeList) spawnNode(state, node, libs);
  writeState(state);
  try {
    await waitReady(state);
  } catch (err) {
    await stopCluster({ name });
    throw err;
  }
  log(`ready: ${state.brokers}`);
  return state;
}

async function killAndWait(pid, signal, timeoutMs) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops one node (SIGTERM, or SIGKILL to simulate a crash); it can be started again. */
export async function stopNode({ name = 'default', id, signal = 'SIGTERM' }) {
  const state = readState(name);
  const node = state?.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in cluster "${name}"`);
  await killAndWait(node.pid, signal, signal === 'SIGKILL' ? 5000 : 20_000);
}

/** Restarts a stopped node with its data. */
export async function startNode({ name = 'default', id }) {
  const state = readState(name);
  const node = state?.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in cluster "${name}"`);
  if (isAlive(node.pid)) return;
  spawnNode(state, node, state.libs);
  writeState(state);
  await waitReady(state);
}

/** Stops every node by its own pid and removes the data unless KAFKA_KEEP_DATA=1. */
export async function stopCluster({ name = 'default' } = {}) {
  const state = readState(name);
  if (!state) {
    log(`no cluster "${name}" recorded; nothing to stop`);
    return;
  }
  await Promise.all(state.nodes.map((n) => killAndWait(n.pid, 'SIGTERM', 20_000)));
  if (process.env.KAFKA_KEEP_DATA !== '1') rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(stateFile(name), { force: true });
  log(`stopped cluster "${name}"`);
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  const opt = (flag, dflt) => {
    const i = rest.indexOf(flag);
    return i >= 0 ? rest[i + 1] : dflt;
  };
  const name = opt('--name', 'default');
  switch (cmd) {
    case 'start': {
      const nodes = Number(opt('--nodes', '1'));
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 5) throw new Error('--nodes must be 1 to 5');
      const s = await startCluster({ name, nodes });
      process.stdout.write(`KAFKA_BROKERS=${s.brokers}\n`);
      break;
    }
    case 'stop':
      await stopCluster({ name });
      break;
    case 'fetch':
      process.stdout.write(`${ensureJars()}\n`);
      break;
    case 'status': {
      const s = readState(name);
      if (!s) process.stdout.write(`no cluster "${name}"\n`);
      else
        for (const n of s.nodes)
          process.stdout.write(`node ${n.id} 127.0.0.1:${n.port} pid ${n.pid} ${isAlive(n.pid) ? 'up' : 'down'}\n`);
      break;
    }
    default:
      process.stderr.write(
        'usage: cluster.mjs start [--nodes N] [--name NAME] | stop [--name NAME] | status | fetch\n',
      );
      process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`[kafka] ${err.message}\n`);
    process.exit(1);
  });
}
