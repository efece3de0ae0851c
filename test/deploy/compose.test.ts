/**
 * docker-compose.yml, checked by a real Docker Compose v2 (scripts/install-deploy-tools.sh):
 * `compose config` must accept it, and the normalised model it prints must start the stack
 * in order — broker healthy, topics created, processor ready, then the producer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, run, runOk } from './tools.js';

const composeFile = join(repoRoot, 'docker-compose.yml');

// biome-ignore lint/suspicious/noExplicitAny: compose's normalised model is untyped JSON.
type Json = Record<string, any>;

function composeConfig(file: string, cwd: string): Json {
  // A fixed project directory makes the check independent of where the clone lives.
  return JSON.parse(
    runOk('docker-compose', ['-f', file, '--project-directory', cwd, 'config', '--format', 'json'], cwd),
  );
}

function seconds(duration: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!m) throw new Error(`unexpected duration ${duration}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

describe('docker-compose.yml', () => {
  let model: Json;
  let services: Json;
  beforeAll(() => {
    model = composeConfig(composeFile, repoRoot);
    services = model.services;
  });

  it('is checked by a real Compose v2', () => {
    const version = runOk('docker-compose', ['version', '--short']).trim();
    expect(version).toMatch(/^v?2\.\d+\.\d+/);
  });

  it('has the broker, topic creator, processor, producer, collector, Jaeger, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual([
      'grafana',
      'jaeger',
      'kafka',
      'otel-collector',
      'processor',
      'producer',
      'prometheus',
      'topics',
    ]);
    expect(model.name).toBe('email-flow-validator');
  });

  it('runs a single-node KRaft broker from the official image with a healthcheck', () => {
    const kafka = services.kafka;
    expect(kafka.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(kafka.environment.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka:9093');
    expect(kafka.environment).not.toHaveProperty('KAFKA_ZOOKEEPER_CONNECT');
    expect(kafka.environment.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
    expect(kafka.healthcheck.test.join(' ')).toContain('--bootstrap-server localhost:9092');
  });

  it('builds the project image once and runs it as topics, processor and producer', () => {
    for (const name of ['topics', 'processor', 'producer']) {
      expect(services[name].image, name).toBe('email-flow-validator:local');
      expect(services[name].build.context, name).toBe(repoRoot);
      expect(services[name].build.dockerfile, name).toBe('Dockerfile');
      expect(services[name].environment.KAFKA_BROKERS, name).toBe('kafka:9092');
    }
    expect(services.topics.command).toEqual(['topics', '--partitions', '6']);
    expect(services.processor.command).toEqual(['run']);
    expect(services.producer.command[0]).toBe('produce');
  });

  it('comes up in order through healthchecks and depends_on conditions', () => {
    const dep = (service: string, on: string) => services[service].depends_on?.[on]?.condition;
    expect(dep('topics', 'kafka')).toBe('service_healthy');
    expect(dep('processor', 'kafka')).toBe('service_healthy');
    expect(dep('processor', 'topics')).toBe('service_completed_successfully');
    expect(dep('processor', 'otel-collector')).toBe('service_started');
    expect(dep('producer', 'topics')).toBe('service_completed_successfully');
    expect(dep('producer', 'processor')).toBe('service_healthy');
    expect(dep('otel-collector', 'jaeger')).toBe('service_started');
    // Every service_healthy target must define a healthcheck, or compose waits forever.
    for (const [name, svc] of Object.entries(services)) {
      for (const [target, d] of Object.entries((svc as Json).depends_on ?? {})) {
        if ((d as Json).condition === 'service_healthy') {
          expect(services[target].healthcheck?.test, `${name} waits for ${target} to be healthy`).toBeDefined();
          expect(services[target].healthcheck.disable ?? false).toBe(false);
        }
      }
    }
    // One-shot services must not be restarted, or service_completed_successfully never holds.
    expect(services.topics.restart ?? 'no').toBe('no');
    expect(services.producer.restart ?? 'no').toBe('no');
  });

  it('waits for the processor to join the group and lets it drain on stop', () => {
    const p = services.processor;
    expect(p.healthcheck.test.join(' ')).toContain(`:${p.environment.HTTP_PORT}/readyz`);
    expect(seconds(p.stop_grace_period)).toBeGreaterThan(Number(p.environment.SHUTDOWN_TIMEOUT_MS) / 1000);
    expect(p.ports).toContainEqual(expect.objectContaining({ target: 9464, published: '9464' }));
  });

  it('sends traces through the collector to Jaeger, whose UI is on port 16686', () => {
    expect(services.processor.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(services.jaeger.ports).toContainEqual(expect.objectContaining({ target: 16686, published: '16686' }));
    const mount = services['otel-collector'].volumes.find((v: Json) => v.target === '/etc/otelcol/config.yaml');
    expect(mount.source).toBe(join(repoRoot, 'deploy', 'otel-collector', 'config.yaml'));
    expect(services['otel-collector'].command).toEqual(['--config=/etc/otelcol/config.yaml']);

    const collector = parse(readFileSync(mount.source, 'utf8'));
    const traces = collector.service.pipelines.traces;
    for (const r of traces.receivers) expect(collector.receivers, `receiver ${r}`).toHaveProperty(r);
    for (const p of traces.processors) expect(collector.processors, `processor ${p}`).toHaveProperty(p);
    for (const e of traces.exporters) expect(collector.exporters, `exporter ${e}`).toHaveProperty(e);
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(collector.exporters['otlp/jaeger'].endpoint).toBe('jaeger:4317');
    expect(traces.exporters).toContain('otlp/jaeger');
  });

  it('has Prometheus scrape the processor metrics port', () => {
    const mount = services.prometheus.volumes.find((v: Json) => v.target === '/etc/prometheus/prometheus.yml');
    const prom = parse(readFileSync(mount.source, 'utf8'));
    const targets = prom.scrape_configs.flatMap((s: Json) => s.static_configs.flatMap((c: Json) => c.targets));
    expect(targets).toContain(`processor:${services.processor.environment.HTTP_PORT}`);
    expect(prom.scrape_configs[0].metrics_path).toBe('/metrics');
    expect(services.prometheus.healthcheck.test).toBeDefined();
  });

  it('provisions Grafana on port 3000 with Prometheus and the processor dashboard', () => {
    const g = services.grafana;
    expect(g.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(g.ports).toContainEqual(expect.objectContaining({ target: 3000, published: '3000' }));
    expect(g.depends_on.prometheus.condition).toBe('service_healthy');
    const mount = (target: string) => g.volumes.find((v: Json) => v.target === target)?.source as string;
    const provisioning = mount('/etc/grafana/provisioning');
    expect(provisioning).toBe(join(repoRoot, 'deploy', 'grafana', 'provisioning'));

    const datasources = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')).datasources;
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(services.prometheus.ports).toContainEqual(expect.objectContaining({ target: 9090 }));

    // The provider's path is where the dashboards directory is mounted, and the dashboard is in it.
    const providers = parse(
      readFileSync(join(provisioning, 'dashboards', 'email-flow-validator.yml'), 'utf8'),
    ).providers;
    const path = providers[0].options.path as string;
    const dashboards = mount(path);
    expect(dashboards, `a volume mounted at ${path}`).toBe(join(repoRoot, 'deploy', 'grafana', 'dashboards'));
    const dashboard = JSON.parse(readFileSync(join(dashboards, 'email-flow-validator.json'), 'utf8'));
    expect(dashboard.uid).toBe('email-flow-validator');
    expect(g.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${path}/email-flow-validator.json`);
  });

  it('publishes every port on 127.0.0.1 only (Kafka without auth, anonymous Grafana, OTLP)', () => {
    const published = Object.entries(services).flatMap(([name, svc]) =>
      ((svc as Json).ports ?? []).map((p: Json) => ({ name, target: p.target, host_ip: p.host_ip })),
    );
    expect(published.map((p) => `${p.name}:${p.target}`).sort()).toEqual([
      'grafana:3000',
      'jaeger:16686',
      'kafka:9094',
      'otel-collector:4317',
      'otel-collector:4318',
      'processor:9464',
      'prometheus:9090',
    ]);
    for (const p of published) expect(p.host_ip, `${p.name}:${p.target}`).toBe('127.0.0.1');
  });

  it('loads the alert rules into Prometheus', () => {
    const mount = services.prometheus.volumes.find((v: Json) => v.target === '/etc/prometheus/prometheus.yml');
    const prom = parse(readFileSync(mount.source, 'utf8'));
    const rules = services.prometheus.volumes.find((v: Json) => v.target === '/etc/prometheus/alerts.yml');
    expect(rules?.source).toBe(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'));
    expect(prom.rule_files).toEqual(['alerts.yml']);
  });

  it('is rejected by compose config when it is broken (the check has teeth)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'efv-compose-'));
    try {
      const broken = readFileSync(composeFile, 'utf8').replace(
        /(\n {2}jaeger:\n)/,
        '$1    depends_on:\n      no-such-service:\n        condition: service_healthy\n',
      );
      expect(broken).toContain('no-such-service');
      const file = join(dir, 'docker-compose.yml');
      writeFileSync(file, broken);
      const res = run('docker-compose', ['-f', file, '--project-directory', repoRoot, 'config', '--quiet'], dir);
      expect(res.status).not.toBe(0);
      expect(res.stderr).toMatch(/no-such-service/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
