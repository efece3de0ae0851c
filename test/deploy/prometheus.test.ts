/**
 * The dashboard against a real scrape: a real Prometheus (Debian's package, installed by
 * scripts/install-prometheus.sh) scrapes a real processor while it validates sign-ups from
 * the real broker -- DNS through a loopback DNS server, a loopback HTTP provider that fails
 * for some addresses (retries, breaker), SMTP probes to a loopback mail server (smtp-server)
 * that defers some (provider backoff), undecodable records (dead letters), a small window
 * (pauses) -- and every query of every panel is evaluated through Prometheus's HTTP API.
 * Each must return data: a panel that stays empty on a live processor is a broken panel.
 *
 * The panels' series are also drawn into an SVG (no Grafana can be installed here);
 * UPDATE_DASHBOARD_SVG=1 writes it to deploy/grafana/dashboard.svg for the README.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config.js';
import { signupMessage } from '../../src/produce/publish-signups.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { sampleDnsZones } from '../../src/sim/sample-zones.js';
import { SAMPLE_DOMAINS, syntheticSignups } from '../../src/sim/synthetic.js';
import { PROCESSOR_VERSION } from '../../src/version.js';
import { createTopics, deleteTopics, testBrokers, testKafka, uniqueName } from '../helpers/kafka.js';
import { type Counted, rcptError, startSmtp } from '../validation/smtp-servers.js';
import { repoRoot } from './tools.js';

// biome-ignore lint/suspicious/noExplicitAny: Grafana dashboards and Prometheus answers are untyped JSON.
type Json = Record<string, any>;

const dashboardPath = join(repoRoot, 'deploy', 'grafana', 'dashboards', 'email-flow-validator.json');
const svgPath = join(repoRoot, 'deploy', 'grafana', 'dashboard.svg');
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Json;
const graphs = (dashboard.panels as Json[]).filter((p) => p.type !== 'row');

const SCRAPE_SECONDS = 1;
// What Grafana puts in for $__rate_interval at this scrape interval: four scrapes.
const RATE_INTERVAL = `${4 * SCRAPE_SECONDS}s`;
const INPUTS_PER_WAVE = 150;
const WAVES = 3;
const GARBAGE_PER_WAVE = 5;
const FLAKY_PER_WAVE = 10;
// Every MX host of the sample domains resolves to this loopback address, where the mail server listens.
const SMTP_HOST = '127.0.0.7';

/** A panel's PromQL as Grafana sends it with "All" jobs selected. */
function concrete(expr: string): string {
  return expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$job', '.*');
}

function prometheusBinary(): string {
  const res = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new Error('prometheus not found on PATH. Install it with: bash scripts/install-prometheus.sh');
  }
  return 'prometheus';
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dashboard queries on a real Prometheus scraping a real processor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'efv-prometheus-'));
  const base = uniqueName('dash');
  const topics = {
    input: base,
    valid: `${base}.valid`,
    invalid: `${base}.invalid`,
    deadLetter: `${base}.dlq`,
    retry: `${base}.retry.1s`,
  };
  let dns: LocalDnsServer | undefined;
  let provider: Server | undefined;
  let smtp: Counted | undefined;
  let service: RunningService | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let producer: Producer | undefined;
  let api = '';
  let start = 0;
  let end = 0;

  async function query(path: string, params: Record<string, string>): Promise<Json> {
    const res = await fetch(`${api}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as Json;
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${JSON.stringify(body)}`);
    return body.data;
  }

  async function instant(expr: string): Promise<Json[]> {
    return (await query('/api/v1/query', { query: expr })).result;
  }

  async function range(expr: string): Promise<Json[]> {
    return (await query('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: '1' }))
      .result;
  }

  beforeAll(async () => {
    const bin = prometheusBinary();
    // The mail server takes every recipient but the "flaky" ones, which it defers (421):
    // their provider backs off for a while and its probes are answered at once meanwhile.
    smtp = await startSmtp(SMTP_HOST, 0, (address) =>
      address.startsWith('flaky') ? rcptError(421, 'Try again later') : undefined,
    );
    const zones = sampleDnsZones();
    for (const zone of Object.values(sampleDnsZones())) {
      for (const mx of zone.mx ?? []) if (mx.exchange !== '.') zones[mx.exchange] = { a: [SMTP_HOST], ttl: 3600 };
    }
    dns = await startLocalDnsServer(zones);
    // The provider answers deliverable after a little work, and 503 for "flaky" addresses:
    // those come back unknown, go through the retry topic, and trip the breaker.
    provider = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const email = String((JSON.parse(body || '{}') as Json).email ?? '');
        setTimeout(() => {
          if (email.startsWith('flaky')) {
            res.writeHead(503).end();
          } else {
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"deliverable"}');
          }
        }, 15);
      });
    });
    await new Promise<void>((r) => provider!.listen(0, '127.0.0.1', () => r()));
    const providerPort = (provider.address() as { port: number }).port;

    await createTopics(Object.values(topics), 2);
    const config = loadConfig({
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: uniqueName('group'),
      INPUT_TOPIC: topics.input,
      VALID_TOPIC: topics.valid,
      INVALID_TOPIC: topics.invalid,
      DLQ_TOPIC: topics.deadLetter,
      RETRY_DELAYS: '1s',
      COMMIT_INTERVAL_MS: '200',
      // A small window fills up: the partitions pause (backpressure) and the lag shows.
      PARTITION_WINDOW: '8',
      PARTITION_CONCURRENCY: '4',
      CHECK_DNS: 'true',
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      CHECK_PROVIDER: 'true',
      PROVIDER_URL: `http://127.0.0.1:${providerPort}/check`,
      PROVIDER_RETRIES: '0',
      PROVIDER_BREAKER_THRESHOLD: '3',
      // Open for longer than a scrape interval, so the scrape sees it open.
      PROVIDER_BREAKER_COOLDOWN_MS: '2500',
      CHECK_SMTP: 'true',
      SMTP_PORT: String(smtp.port),
      SMTP_ALLOW_PRIVATE_NETWORKS: 'true',
      SMTP_CATCH_ALL_CHECK: 'false',
      // Limits that do not slow the run down; a backoff longer than a scrape interval.
      SMTP_PROVIDER_CONCURRENCY: '4',
      SMTP_PROVIDER_RATE_PER_MINUTE: '100000',
      SMTP_BACKOFF_MS: '3000',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
    });
    service = await startService(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));

    const promPort = await freePort('127.0.0.1');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${SCRAPE_SECONDS}s`,
        `  scrape_timeout: ${SCRAPE_SECONDS}s`,
        'scrape_configs:',
        '  - job_name: efv',
        '    static_configs:',
        `      - targets: ["127.0.0.1:${service.httpPort}"]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (c) => (prometheusLog += c));
    prometheus.stderr?.on('data', (c) => (prometheusLog += c));
    api = `http://127.0.0.1:${promPort}`;
    for (let i = 0; ; i++) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited ${prometheus.exitCode}:\n${prometheusLog}`);
      const ok = await fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error(`prometheus not ready after 30 s:\n${prometheusLog}`);
      await sleep(100);
    }
    // Wait for the first scrape of the processor, so the run's first samples are recorded.
    for (let i = 0; (await instant('up{job="efv"} == 1')).length === 0; i++) {
      if (i > 300) throw new Error(`prometheus never scraped the processor:\n${prometheusLog}`);
      await sleep(100);
    }
    start = Math.floor(Date.now() / 1000);

    producer = testKafka().producer();
    await producer.connect();
    const flakyDomain = SAMPLE_DOMAINS.free[0]!;
    for (let wave = 0; wave < WAVES; wave++) {
      const events = [...syntheticSignups(INPUTS_PER_WAVE, 100 + wave)].map((s) => s.event);
      for (let i = 0; i < FLAKY_PER_WAVE; i++) {
        events.push({
          eventId: `flaky-${wave}-${i}`,
          userId: `flaky-user-${wave}-${i}`,
          email: `flaky.${wave}.${i}@${flakyDomain}`,
          occurredAt: Date.UTC(2026, 10, 1) + i,
          source: 'web',
          locale: null,
        });
      }
      await producer.send({ topic: topics.input, acks: -1, messages: events.map((e) => signupMessage(e)) });
      await producer.send({
        topic: topics.input,
        messages: Array.from({ length: GARBAGE_PER_WAVE }, (_, i) => ({
          key: `garbage-${wave}-${i}`,
          value: Buffer.from([0xff, 0x00, 0x13, i]),
        })),
      });
      await sleep(2000);
    }
    // Every input gets one final result (valid, invalid or dead letter); retries are extra.
    const inputs = WAVES * (INPUTS_PER_WAVE + FLAKY_PER_WAVE + GARBAGE_PER_WAVE);
    const finals = 'sum(efv_events_total{job="efv", destination!="retry"})';
    for (let i = 0; ; i++) {
      const [sample] = await instant(finals);
      if (sample && Number(sample.value[1]) >= inputs) break;
      if (i > 600) throw new Error(`only ${sample?.value[1] ?? 0} of ${inputs} inputs routed within 60 s`);
      await sleep(100);
    }
    // A few more scrapes: the rate windows then also cover the end of the run.
    await sleep(5 * SCRAPE_SECONDS * 1000);
    end = Math.ceil(Date.now() / 1000);
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await service?.close();
    await new Promise<void>((r) => (provider ? provider.close(() => r()) : r()));
    await smtp?.close();
    await dns?.close();
    await deleteTopics(Object.values(topics));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('evaluates every query of every panel to data', async () => {
    const empty: string[] = [];
    let evaluated = 0;
    for (const panel of graphs) {
      for (const target of panel.targets as Json[]) {
        const series = await range(concrete(target.expr));
        evaluated += 1;
        const finite = series.some((s: Json) =>
          (s.values as [number, string][]).some(([, v]) => Number.isFinite(Number(v))),
        );
        if (!finite) empty.push(`${panel.title}: ${target.expr}`);
      }
    }
    expect(evaluated).toBe(graphs.flatMap((p) => p.targets).length);
    expect(evaluated).toBeGreaterThanOrEqual(24);
    expect(empty, 'panel queries that returned no data').toEqual([]);
  });

  it('would see an empty panel: a query of a metric nobody exports returns nothing', async () => {
    expect(
      await range(concrete('sum by (code) (rate(efv_dead_letter_records_total{job=~"$job"}[$__rate_interval]))')),
    ).toEqual([]);
  });

  it('shows what the run did: dead letters, retries, an open breaker, pauses, SMTP probes and a backoff', async () => {
    const peak = async (expr: string) =>
      Math.max(
        0,
        ...(await range(expr)).flatMap((s: Json) => (s.values as [number, string][]).map(([, v]) => Number(v))),
      );
    expect(await peak('sum(efv_dead_letters_total{job="efv"})')).toBeGreaterThanOrEqual(WAVES * GARBAGE_PER_WAVE);
    expect(await peak('sum(efv_events_total{job="efv", destination="retry"})')).toBeGreaterThan(0);
    expect(await peak('sum(efv_provider_breaker_transitions_total{job="efv", state="open"})')).toBeGreaterThan(0);
    expect(await peak('max(efv_provider_breaker_state{job="efv"})')).toBe(2);
    expect(await peak('sum(efv_partition_pauses_total{job="efv"})')).toBeGreaterThan(0);
    expect(await peak('sum(efv_smtp_probes_total{job="efv", outcome="pass"})')).toBeGreaterThan(0);
    expect(await peak('sum(efv_smtp_connections{job="efv", state="open"})')).toBeGreaterThan(0);
    expect(await peak('max(efv_smtp_provider_backoff{job="efv"})')).toBe(1);
    expect(smtp!.rcpts.length).toBeGreaterThan(0);
  });

  it('exports efv_build_info with the version, the Node.js major and the delivery mode', async () => {
    const series = await instant('efv_build_info{job="efv"}');
    expect(series).toHaveLength(1);
    expect(series[0].metric).toMatchObject({
      version: PROCESSOR_VERSION,
      node_major: process.versions.node.split('.')[0],
      delivery: 'at-least-once',
    });
    expect(series[0].value[1]).toBe('1');
  });

  it('draws the panels from the same series into an SVG', async () => {
    const data = new Map<Json, Json[]>();
    for (const panel of graphs) {
      const series: Json[] = [];
      for (const target of panel.targets as Json[]) {
        for (const s of await range(concrete(target.expr))) series.push({ ...s, legend: target.legendFormat ?? '' });
      }
      data.set(panel, series);
    }
    // The run's own topic and port names would make the picture change on every run.
    const svg = renderSvg(data, start, end, (name) =>
      name.replaceAll(base, 'signups').replace(/127\.0\.0\.1:\d+/g, 'processor:9464'),
    );
    expect(svg.match(/<g class="panel"/g)).toHaveLength(graphs.length);
    expect(svg.match(/<polyline /g)?.length ?? 0).toBeGreaterThanOrEqual(graphs.length);
    if (process.env.UPDATE_DASHBOARD_SVG === '1') writeFileSync(svgPath, svg);
    // The committed picture has the dashboard's current panels.
    const committed = readFileSync(svgPath, 'utf8');
    for (const p of graphs) expect(committed, p.title).toContain(`>${escapeXml(p.title)}</text>`);
  });
});

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLOURS = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0'];

function legend(format: string, metric: Json): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => String(metric[k] ?? ''));
}

function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (a > 0 && a < 0.01) return v.toExponential(1);
  return String(Number(v.toFixed(2)));
}

/**
 * The dashboard as Grafana lays it out (24 columns, 30 px per grid row): each panel a frame
 * with its title, its series as lines over the run, and the peak of each in a legend; the
 * rows' titles above their panels.
 */
function renderSvg(data: Map<Json, Json[]>, start: number, end: number, rename: (s: string) => string): string {
  const col = 50;
  const rowH = 30;
  const width = 24 * col;
  const bottom = Math.max(...[...data.keys()].map((p) => p.gridPos.y + p.gridPos.h));
  const height = bottom * rowH + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(dashboard.title)} dashboard, drawn from a real Prometheus scrape</title>`,
    `<rect width="${width}" height="${height}" fill="#111217"/>`,
    `<text x="8" y="24" fill="#d8d9da" font-size="16">${escapeXml(dashboard.title)} — series from a real Prometheus scraping a real processor (${end - start} s run)</text>`,
  ];
  for (const row of (dashboard.panels as Json[]).filter((p) => p.type === 'row')) {
    const ry = row.gridPos.y * rowH + 36 + 20;
    out.push(`<text x="8" y="${ry}" fill="#d8d9da" font-size="14" font-weight="bold">${escapeXml(row.title)}</text>`);
  }
  for (const [panel, series] of data) {
    const { x, y, w, h } = panel.gridPos as { x: number; y: number; w: number; h: number };
    const px = x * col + 4;
    const py = y * rowH + 36;
    const pw = w * col - 8;
    const ph = h * rowH - 8;
    out.push(`<g class="panel" transform="translate(${px},${py})">`);
    out.push(`<rect width="${pw}" height="${ph}" fill="#181b1f" stroke="#2c3235"/>`);
    out.push(`<text x="8" y="16" fill="#d8d9da" font-size="12">${escapeXml(panel.title)}</text>`);
    const plotX = 40;
    const plotY = 26;
    const plotW = pw - plotX - 8;
    const plotH = ph - plotY - 48;
    const points = series
      .slice(0, COLOURS.length)
      .map((s) =>
        (s.values as [number, string][]).map(([t, v]) => [t, Number(v)] as const).filter(([, v]) => Number.isFinite(v)),
      );
    const values = points.flat().map(([, v]) => v);
    const max = Math.max(0, ...values);
    const min = Math.min(0, ...values);
    const span = max - min || 1;
    out.push(`<text x="4" y="${plotY + 8}" fill="#8e8e8e">${short(max)}</text>`);
    out.push(`<text x="4" y="${plotY + plotH}" fill="#8e8e8e">${short(min)}</text>`);
    out.push(
      `<line x1="${plotX}" y1="${plotY + plotH}" x2="${plotX + plotW}" y2="${plotY + plotH}" stroke="#2c3235"/>`,
    );
    points.forEach((pts, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const coords = pts
        .map(([t, v]) => {
          const cx = plotX + ((t - start) / Math.max(1, end - start)) * plotW;
          const cy = plotY + plotH - ((v - min) / span) * plotH;
          return `${cx.toFixed(1)},${cy.toFixed(1)}`;
        })
        .join(' ');
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${coords}"/>`);
      const s = series[i]!;
      const name = rename(legend(String(s.legend), s.metric) || JSON.stringify(s.metric));
      const peak = pts.length > 0 ? short(Math.max(...pts.map(([, v]) => v))) : '–';
      const lx = 8 + (i % 2) * (pw / 2);
      const ly = ph - 30 + Math.floor(i / 2) * 12;
      if (ly < ph - 2) {
        out.push(`<rect x="${lx}" y="${ly - 8}" width="8" height="8" fill="${colour}"/>`);
        out.push(
          `<text x="${lx + 12}" y="${ly}" fill="#ccccdc">${escapeXml(`${name}: max ${peak}`.slice(0, 60))}</text>`,
        );
      }
    });
    out.push('</g>');
  }
  out.push('</svg>', '');
  return out.join('\n');
}
