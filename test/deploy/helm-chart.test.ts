/**
 * The Helm chart, checked by a real helm (scripts/install-deploy-tools.sh): lint, render
 * with defaults and with every option on, then assert on the parsed manifests the
 * properties that keep a consumer group healthy on Kubernetes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fieldRules, fieldsTemplate, fieldsTemplatePath, readme, readmePath } from '../../helm/generate.js';
import { configSchema, type Env, loadConfig } from '../../src/config.js';
import type { Field } from '../../src/config-fields.js';
import { pipelineFields } from '../../src/pipeline/options.js';
import { createValidator } from '../../src/validation/validator.js';
import { repoRoot, run, runOk } from './tools.js';

const chart = join(repoRoot, 'helm', 'email-flow-validator');
const fixture = (name: string) => join(repoRoot, 'test', 'deploy', 'fixtures', name);

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped YAML.
type Manifest = Record<string, any>;

function renderText(args: string[] = []): string {
  return runOk('helm', ['template', 'efv', chart, '--namespace', 'streaming', ...args]);
}

/** Renders, and checks every value set a test renders against the Kubernetes API types. */
function render(args: string[] = []): Manifest[] {
  const text = renderText(args);
  const checked = run('kube-check', [], repoRoot, text);
  if (checked.status !== 0) throw new Error(`kube-check refused helm template ${args.join(' ')}:\n${checked.stdout}`);
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null)
    .map((m) => {
      // A stray file under templates/ (an editor or tool config) renders as a document too.
      if (!m.apiVersion || !m.kind || !m.metadata?.name) {
        throw new Error(`rendered a document that is no Kubernetes object: ${JSON.stringify(m).slice(0, 200)}`);
      }
      return m;
    });
}

function only(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
}

/** The processor's settings ConfigMap (not the Grafana dashboard's). */
function settings(manifests: Manifest[]): Manifest {
  const found = manifests.filter((m) => m.kind === 'ConfigMap' && !m.metadata.labels?.grafana_dashboard);
  expect(found, 'exactly one settings ConfigMap').toHaveLength(1);
  return found[0]!;
}

/** A NetworkPolicy's egress rules as protocol/port lists, with their destinations if any. */
function egressRules(np: Manifest): Manifest[] {
  return (np.spec.egress as Manifest[]).map((r) => ({
    ports: (r.ports as Manifest[]).map((p) => `${p.protocol}/${p.port}`),
    ...(r.to ? { to: r.to } : {}),
  }));
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

function processor(manifests: Manifest[]): Manifest {
  const containers = only(manifests, 'Deployment').spec.template.spec.containers as Manifest[];
  const found = containers.find((c) => c.name === 'processor');
  expect(found, 'processor container').toBeDefined();
  return found!;
}

function envOf(container: Manifest, name: string): Manifest | undefined {
  return (container.env as Manifest[]).find((e) => e.name === name);
}

/** helm template must refuse these values; returns its error output. */
function renderFails(args: string[]): string {
  const res = run('helm', ['template', 'efv', chart, '--namespace', 'streaming', ...args]);
  expect(res.status, `helm template ${args.join(' ')} should fail\n${res.stdout.slice(0, 500)}`).not.toBe(0);
  return res.stderr;
}

describe('helm chart', () => {
  it('is a chart built by the pinned helm v3', () => {
    const version = runOk('helm', ['version', '--template', '{{ .Version }}']).trim();
    expect(version).toMatch(/^v3\.\d+\.\d+$/);
  });

  it('passes helm lint --strict with defaults and with every option on', () => {
    for (const values of [[], ['-f', fixture('all-options-keda.yaml')], ['-f', fixture('all-options-hpa.yaml')]]) {
      const out = runOk('helm', ['lint', '--strict', chart, ...values]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  describe('defaults', () => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render();
    });

    it('renders the always-on objects and none of the optional ones', () => {
      expect(manifests.some((m) => m.metadata.labels?.grafana_dashboard)).toBe(false);
      expect(kinds(manifests)).toEqual([
        'ConfigMap',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceAccount',
      ]);
      for (const m of manifests) expect(m.metadata.namespace, `${m.kind} namespace`).toBe('streaming');
    });

    it('probes /healthz for liveness and /readyz for readiness on the HTTP port', () => {
      const c = processor(manifests);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 9464, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.args).toEqual(['run']);
    });

    it('runs non-root on a read-only root filesystem with no privilege escalation and no capabilities', () => {
      const pod = only(manifests, 'Deployment').spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      const sc = processor(manifests).securityContext;
      expect(sc.runAsNonRoot).toBe(true);
      expect(sc.readOnlyRootFilesystem).toBe(true);
      expect(sc.allowPrivilegeEscalation).toBe(false);
      expect(sc.privileged).toBe(false);
      expect(sc.capabilities.drop).toEqual(['ALL']);
      expect(pod.automountServiceAccountToken).toBe(false);
      // A read-only root still needs a writable /tmp.
      expect(processor(manifests).volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    });

    it('sets resource requests and a memory limit', () => {
      const { resources } = processor(manifests);
      expect(resources.requests.cpu).toBeTruthy();
      expect(resources.requests.memory).toBeTruthy();
      expect(resources.limits.memory).toBeTruthy();
    });

    it('gives SIGTERM longer than the shutdown deadline before SIGKILL', () => {
      const deadlineMs = Number(settings(manifests).data.SHUTDOWN_TIMEOUT_MS);
      expect(deadlineMs).toBe(20_000);
      const grace = only(manifests, 'Deployment').spec.template.spec.terminationGracePeriodSeconds;
      expect(grace * 1000).toBeGreaterThan(deadlineMs);
    });

    it('rolls out without ever dropping below the desired consumers', () => {
      const d = only(manifests, 'Deployment');
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.strategy.type).toBe('RollingUpdate');
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(d.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
    });

    it('puts the settings in a ConfigMap the container reads as env, rolled by checksum', () => {
      const cm = settings(manifests);
      expect(cm.data).toMatchObject({
        KAFKA_BROKERS: 'kafka:9092',
        KAFKA_GROUP_ID: 'email-flow-validator',
        INPUT_TOPIC: 'signups',
        VALID_TOPIC: 'signups.valid',
        INVALID_TOPIC: 'signups.invalid',
        DLQ_TOPIC: 'signups.dlq',
        ORDERING: 'key',
        HTTP_PORT: '9464',
        OTEL_SDK_DISABLED: 'true',
      });
      // Every ConfigMap value must be a string, or the API server rejects the object.
      for (const [k, v] of Object.entries(cm.data)) expect(typeof v, k).toBe('string');
      const c = processor(manifests);
      expect(c.envFrom).toEqual([{ configMapRef: { name: cm.metadata.name } }]);
      const annotations = only(manifests, 'Deployment').spec.template.metadata.annotations;
      expect(annotations['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
      expect(annotations['checksum/secret']).toMatch(/^[a-f0-9]{64}$/);
    });

    it("defaults delivery and retry delays to the processor's own defaults, and no Schema Registry", () => {
      const { data } = settings(manifests);
      expect(data.DELIVERY).toBe('at-least-once');
      expect(data.DELIVERY).toBe(pipelineFields.delivery.default);
      expect(data.RETRY_DELAYS).toBe('1m,10m');
      expect(data.RETRY_DELAYS).toBe(pipelineFields.retryDelays.show(pipelineFields.retryDelays.default));
      expect(data).not.toHaveProperty('SCHEMA_REGISTRY_URL');
      // An empty list is meaningful (dead-letter at once), so it must reach the processor.
      const none = settings(render(['--set-json', 'processing.retryDelays=[]']));
      expect(none.data.RETRY_DELAYS).toBe('');
    });

    it('reads the provider key and SASL credentials from the chart Secret, never from the ConfigMap', () => {
      const secret = only(manifests, 'Secret');
      const c = processor(manifests);
      for (const name of [
        'PROVIDER_API_KEY',
        'KAFKA_SASL_USERNAME',
        'KAFKA_SASL_PASSWORD',
        'SCHEMA_REGISTRY_USERNAME',
        'SCHEMA_REGISTRY_PASSWORD',
        'OTEL_EXPORTER_OTLP_HEADERS',
        'SMTP_PROXY',
      ]) {
        expect(envOf(c, name)?.valueFrom.secretKeyRef).toEqual({
          name: secret.metadata.name,
          key: name,
          optional: true,
        });
        expect(settings(manifests).data[name]).toBeUndefined();
      }
      // Empty values are not written as empty keys.
      expect(secret.data ?? {}).toEqual({});
    });

    it('names each replica as its own Kafka client', () => {
      expect(envOf(processor(manifests), 'KAFKA_CLIENT_ID')?.value).toBe('$(POD_NAME)');
    });

    it('has a PodDisruptionBudget and a metrics Service selecting the pods', () => {
      const selector = only(manifests, 'Deployment').spec.selector.matchLabels;
      const podLabels = only(manifests, 'Deployment').spec.template.metadata.labels;
      expect(podLabels).toMatchObject(selector);
      const pdb = only(manifests, 'PodDisruptionBudget');
      expect(pdb.spec.selector.matchLabels).toEqual(selector);
      expect(pdb.spec.maxUnavailable).toBe(1);
      const svc = only(manifests, 'Service');
      expect(svc.spec.selector).toEqual(selector);
      expect(svc.spec.ports).toEqual([{ name: 'http', port: 9464, targetPort: 'http', protocol: 'TCP' }]);
    });
  });

  describe('every option on, KEDA', () => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render(['-f', fixture('all-options-keda.yaml')]);
    });

    it('renders the optional objects', () => {
      expect(kinds(manifests)).toEqual([
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'ScaledObject',
        'Secret',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
        'TriggerAuthentication',
      ]);
    });

    it('scales on consumer-group lag of the input topic, never above the partition count', () => {
      const so = only(manifests, 'ScaledObject');
      expect(so.apiVersion).toBe('keda.sh/v1alpha1');
      expect(so.spec.scaleTargetRef).toMatchObject({
        kind: 'Deployment',
        name: only(manifests, 'Deployment').metadata.name,
      });
      expect(so.spec.minReplicaCount).toBe(2);
      expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(12);
      const [trigger] = so.spec.triggers;
      expect(trigger.type).toBe('kafka');
      expect(trigger.metadata).toMatchObject({
        bootstrapServers: 'kafka-0.kafka:9093,kafka-1.kafka:9096',
        consumerGroup: 'efv-prod',
        topic: 'prod.signups',
        lagThreshold: '500',
        allowIdleConsumers: 'false',
        tls: 'enable',
        sasl: 'scram_sha512',
      });
      const auth = only(manifests, 'TriggerAuthentication');
      expect(trigger.authenticationRef.name).toBe(auth.metadata.name);
      const secretName = only(manifests, 'Secret').metadata.name;
      // The scaler connects as the processor does: same credentials, same TLS files.
      expect(auth.spec.secretTargetRef).toEqual([
        { parameter: 'username', name: secretName, key: 'KAFKA_SASL_USERNAME' },
        { parameter: 'password', name: secretName, key: 'KAFKA_SASL_PASSWORD' },
        { parameter: 'ca', name: 'kafka-client-tls', key: 'ca.crt' },
        { parameter: 'cert', name: 'kafka-client-tls', key: 'tls.crt' },
        { parameter: 'key', name: 'kafka-client-tls', key: 'tls.key' },
      ]);
    });

    it('leaves the replica count to the autoscaler', () => {
      expect(only(manifests, 'Deployment').spec).not.toHaveProperty('replicas');
    });

    it('derives the grace period from a larger shutdown deadline', () => {
      // 45.5 s rounds up to 46, plus 20 s of slack.
      expect(only(manifests, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(66);
      expect(settings(manifests).data.SHUTDOWN_TIMEOUT_MS).toBe('45500');
    });

    it('stores the secrets base64-encoded in the Secret', () => {
      const data = only(manifests, 'Secret').data;
      const decoded = Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]),
      );
      expect(decoded).toEqual({
        PROVIDER_API_KEY: 'provider-key-123',
        KAFKA_SASL_USERNAME: 'efv',
        KAFKA_SASL_PASSWORD: 's3cret',
        SCHEMA_REGISTRY_USERNAME: 'efv-registry',
        SCHEMA_REGISTRY_PASSWORD: 'registry-pass-456',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer otlp-token-789',
        SMTP_PROXY: 'socks5://probe:proxy-pass-321@10.0.0.5:1080',
      });
      const cm = JSON.stringify(settings(manifests));
      for (const secret of Object.values(decoded).filter((v) => v !== 'efv')) expect(cm).not.toContain(secret);
    });

    it('passes Kafka security, tracing and extra settings through the ConfigMap', () => {
      const cm = settings(manifests);
      expect(cm.data).toMatchObject({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_CLIENT_ID: 'efv-prod',
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318',
        OTEL_SERVICE_NAME: 'email-flow-validator',
        DNS_TIMEOUT_MS: '2000',
        CHECK_SMTP: 'false',
        DELIVERY: 'exactly-once',
        RETRY_DELAYS: '30s,5m,1h',
        SCHEMA_REGISTRY_URL: 'http://schema-registry.kafka:8081',
      });
      // What the chart renders, the processor accepts.
      expect(pipelineFields.retryDelays.parse(cm.data.RETRY_DELAYS).map((d) => d.ms)).toEqual([
        30_000, 300_000, 3_600_000,
      ]);
      const c = processor(manifests);
      expect(envOf(c, 'KAFKA_CLIENT_ID')).toBeUndefined();
      expect(envOf(c, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=384');
      expect(c.image).toBe('registry.example.com/streaming/email-flow-validator:1.2.3');
    });

    it('mounts the Kafka TLS Secret read-only and points the processor at its files', () => {
      const cm = settings(manifests);
      const dir = '/etc/email-flow-validator/kafka-tls';
      expect(cm.data).toMatchObject({
        KAFKA_SSL_CA_FILE: `${dir}/ca.crt`,
        KAFKA_SSL_CERT_FILE: `${dir}/tls.crt`,
        KAFKA_SSL_KEY_FILE: `${dir}/tls.key`,
      });
      const pod = only(manifests, 'Deployment').spec.template.spec;
      const volume = (pod.volumes as Manifest[]).find((v) => v.name === 'kafka-tls');
      expect(volume?.secret).toMatchObject({ secretName: 'kafka-client-tls', defaultMode: 0o440 });
      const mount = (processor(manifests).volumeMounts as Manifest[]).find((m) => m.name === 'kafka-tls');
      expect(mount).toMatchObject({ mountPath: dir, readOnly: true });
      // What the chart renders, the processor accepts (paths only; the files exist in the pod).
      const kafka = loadConfig(
        {},
        {
          ...cm.data,
          KAFKA_BROKERS: 'k:9093',
          KAFKA_SASL_USERNAME: 'u', // from the Secret in the pod
          KAFKA_SASL_PASSWORD: 'p',
        },
      ).kafka;
      expect(kafka.sslCaFile).toBe(`${dir}/ca.crt`);
    });

    it('leaves TLS files out by default, and turns TLS on when a Secret is given', () => {
      const defaults = render();
      expect(settings(defaults).data).not.toHaveProperty('KAFKA_SSL_CA_FILE');
      expect(only(defaults, 'Deployment').spec.template.spec.volumes.map((v: Manifest) => v.name)).toEqual(['tmp']);
      const withSecret = render(['--set', 'kafka.tls.secretName=ca-only']);
      expect(settings(withSecret).data).toMatchObject({ KAFKA_SSL: 'true' });
      expect(settings(withSecret).data).not.toHaveProperty('KAFKA_SSL_CERT_FILE');
    });

    it('scrapes /metrics through a ServiceMonitor on the named port', () => {
      const sm = only(manifests, 'ServiceMonitor');
      expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
      expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
      expect(sm.spec.selector.matchLabels).toEqual(only(manifests, 'Service').spec.selector);
    });

    it('ships the repository dashboard as a ConfigMap for the Grafana sidecar', () => {
      const dashboards = manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard);
      expect(dashboards).toHaveLength(1);
      const cm = dashboards[0]!;
      expect(cm.metadata.labels.grafana_dashboard).toBe('1');
      expect(cm.metadata.labels.release).toBe('kube-prometheus-stack');
      expect(cm.metadata.annotations).toEqual({ grafana_folder: 'Streaming' });
      expect(cm.metadata.namespace).toBe('streaming');
      expect(Object.keys(cm.data)).toEqual(['email-flow-validator.json']);
      // The rendered JSON is the repository's dashboard, unchanged (YAML |- drops the final newline).
      const source = readFileSync(
        join(repoRoot, 'deploy', 'grafana', 'dashboards', 'email-flow-validator.json'),
        'utf8',
      );
      expect(cm.data['email-flow-validator.json']).toBe(source.trimEnd());
      expect(JSON.parse(cm.data['email-flow-validator.json']).uid).toBe('email-flow-validator');
    });

    it('limits ingress to the metrics port from the monitoring namespace and egress to listed ports', () => {
      const np = only(manifests, 'NetworkPolicy');
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.ingress).toEqual([
        {
          ports: [{ port: 'http', protocol: 'TCP' }],
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        },
      ]);
      // DNS, both broker ports, the registry's 8081 and the collector's 4318; no provider or
      // SMTP rule while those checks are off.
      expect(egressRules(np)).toEqual([
        { ports: ['UDP/53', 'TCP/53'] },
        { ports: ['TCP/9093', 'TCP/9096'] },
        { ports: ['TCP/8081'] },
        { ports: ['TCP/4318'] },
      ]);
    });

    it('uses minAvailable when asked', () => {
      const pdb = only(manifests, 'PodDisruptionBudget');
      expect(pdb.spec).toMatchObject({ minAvailable: '50%' });
      expect(pdb.spec).not.toHaveProperty('maxUnavailable');
    });
  });

  describe('every option on, HPA and an existing Secret', () => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render(['-f', fixture('all-options-hpa.yaml')]);
    });

    it('renders an HPA capped at the partition count and no Secret of its own', () => {
      expect(kinds(manifests)).toEqual([
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ]);
      const hpa = only(manifests, 'HorizontalPodAutoscaler');
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.minReplicas).toBe(2);
      expect(hpa.spec.maxReplicas).toBeLessThanOrEqual(8);
      expect(hpa.spec.metrics.map((m: Manifest) => m.resource.name)).toEqual(['cpu', 'memory']);
      expect(only(manifests, 'Deployment').spec).not.toHaveProperty('replicas');
    });

    it('reads credentials from the existing Secret under its own key names', () => {
      const c = processor(manifests);
      expect(envOf(c, 'PROVIDER_API_KEY')?.valueFrom.secretKeyRef).toMatchObject({
        name: 'efv-credentials',
        key: 'provider-api-key',
      });
      expect(envOf(c, 'KAFKA_SASL_PASSWORD')?.valueFrom.secretKeyRef).toMatchObject({
        name: 'efv-credentials',
        key: 'sasl-password',
      });
      expect(only(manifests, 'Deployment').spec.template.metadata.annotations).not.toHaveProperty('checksum/secret');
    });
  });

  describe('every secret setting of the processor has a Secret slot', () => {
    const secretFields = Object.values(configSchema)
      .flatMap((slice) => Object.values(slice) as Field<unknown>[])
      .filter((f) => f.secret);

    it('is read from the Secret (never the ConfigMap) and refused in extraEnv', () => {
      expect(secretFields.map((f) => f.env)).toContain('TRACE_KEY_SECRET');
      const manifests = render();
      const secret = only(manifests, 'Secret');
      for (const f of secretFields) {
        expect(envOf(processor(manifests), f.env)?.valueFrom?.secretKeyRef, f.env).toEqual({
          name: secret.metadata.name,
          key: f.env,
          optional: true,
        });
        expect(renderFails(['--set-string', `extraEnv.${f.env}=oops`]), f.env).toMatch(
          new RegExp(`extraEnv\\.${f.env} is a secret: set secrets\\.\\w+`),
        );
      }
    });

    it('TRACE_KEY_SECRET: stored in the Secret when given, read from an existing Secret under its key name', () => {
      const own = render(['--set', 'secrets.traceKeySecret=hmac-key-0123456789']);
      expect(Buffer.from(String(only(own, 'Secret').data.TRACE_KEY_SECRET), 'base64').toString()).toBe(
        'hmac-key-0123456789',
      );
      expect(JSON.stringify(settings(own))).not.toContain('hmac-key-0123456789');
      const existing = render([
        '--set',
        'existingSecret=efv-credentials',
        '--set',
        'existingSecretKeys.traceKeySecret=trace-key',
      ]);
      expect(envOf(processor(existing), 'TRACE_KEY_SECRET')?.valueFrom.secretKeyRef).toEqual({
        name: 'efv-credentials',
        key: 'trace-key',
        optional: true,
      });
    });
  });

  describe('every option on, HPA: extras', () => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render(['-f', fixture('all-options-hpa.yaml')]);
    });

    it('never lets a Service in the namespace inject *_PORT variables (enableServiceLinks off)', () => {
      expect(only(manifests, 'Deployment').spec.template.spec.enableServiceLinks).toBe(false);
      expect(only(render(), 'Deployment').spec.template.spec.enableServiceLinks).toBe(false);
    });

    it('mounts extra volumes (the domain lists) and points ALLOW_LIST_FILE / DENY_LIST_FILE into them', () => {
      const pod = only(manifests, 'Deployment').spec.template.spec;
      expect(pod.volumes).toContainEqual({ name: 'domain-lists', configMap: { name: 'efv-domain-lists' } });
      expect(processor(manifests).volumeMounts).toContainEqual({
        name: 'domain-lists',
        mountPath: '/etc/efv',
        readOnly: true,
      });
      expect(settings(manifests).data).toMatchObject({
        ALLOW_LIST_FILE: '/etc/efv/allow-domains.txt',
        DENY_LIST_FILE: '/etc/efv/deny-domains.txt',
      });
    });

    it('reads more env from a ConfigMap and a Secret, with its own settings last so they win', () => {
      expect(processor(manifests).envFrom).toEqual([
        { configMapRef: { name: 'efv-extra-env' } },
        { secretRef: { name: 'efv-extra-secret-env' } },
        { configMapRef: { name: settings(manifests).metadata.name } },
      ]);
    });

    it('adds sidecars and init containers', () => {
      const pod = only(manifests, 'Deployment').spec.template.spec;
      expect(pod.containers.map((c: Manifest) => c.name)).toEqual(['processor', 'log-shipper']);
      expect(pod.initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-lists']);
      expect(only(render(), 'Deployment').spec.template.spec).not.toHaveProperty('initContainers');
    });

    it('allows SMTP only to public addresses, and the provider on the port of PROVIDER_URL', () => {
      const rules = egressRules(only(manifests, 'NetworkPolicy'));
      expect(rules).toContainEqual({ ports: ['TCP/8443'] });
      const smtp = rules.find((r) => r.ports.includes('TCP/25'));
      expect(smtp?.ports).toEqual(['TCP/25']);
      const blocks = ((smtp?.to ?? []) as Manifest[]).map((t) => t.ipBlock);
      expect(blocks.map((b) => b.cidr)).toEqual(['0.0.0.0/0', '::/0']);
      for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8'])
        expect(blocks[0].except).toContain(range);
      for (const range of ['fc00::/7', 'fe80::/10', '::1/128']) expect(blocks[1].except).toContain(range);
      // Every other rule names its ports; the user's extra rule comes last, verbatim.
      for (const r of rules) expect(r.ports.length, JSON.stringify(r)).toBeGreaterThan(0);
      expect(rules.at(-1)).toEqual({
        ports: ['TCP/8200'],
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vault' } } }],
      });
    });

    it('follows the brokers, the registry and the collector to the ports they are on', () => {
      const np = only(
        render([
          '--set-json',
          'kafka.brokers=["kafka:9096"]',
          '--set',
          'schemaRegistry.url=https://registry.example.com',
          '--set',
          'tracing.enabled=true',
          '--set',
          'tracing.endpoint=http://collector:4317',
          '--set',
          'extraEnv.DNS_SERVERS=10.0.0.10:5353',
        ]),
        'NetworkPolicy',
      );
      expect(egressRules(np)).toEqual([
        { ports: ['UDP/53', 'TCP/53'] },
        { ports: ['UDP/5353', 'TCP/5353'] },
        { ports: ['TCP/9096'] },
        { ports: ['TCP/443'] },
        { ports: ['TCP/4317'] },
      ]);
    });
  });

  describe('KEDA reaches the brokers as the processor does', () => {
    const keda = ['--set', 'keda.enabled=true'];

    it('turns on TLS and hands the CA over when only kafka.tls.secretName is set', () => {
      const manifests = render([...keda, '--set', 'kafka.tls.secretName=kafka-ca']);
      const trigger = only(manifests, 'ScaledObject').spec.triggers[0];
      expect(trigger.metadata.tls).toBe('enable');
      expect(trigger.metadata).not.toHaveProperty('sasl');
      const auth = only(manifests, 'TriggerAuthentication');
      expect(trigger.authenticationRef).toEqual({ name: auth.metadata.name });
      expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'ca', name: 'kafka-ca', key: 'ca.crt' }]);
    });

    it('uses a TriggerAuthentication of the user instead of making one (keda.authenticationRef)', () => {
      const manifests = render([
        ...keda,
        '-f',
        fixture('all-options-keda.yaml'),
        '--set',
        'keda.authenticationRef.name=kafka-scaler-auth',
        '--set',
        'keda.authenticationRef.kind=ClusterTriggerAuthentication',
      ]);
      expect(manifests.filter((m) => m.kind === 'TriggerAuthentication')).toEqual([]);
      expect(only(manifests, 'ScaledObject').spec.triggers[0].authenticationRef).toEqual({
        name: 'kafka-scaler-auth',
        kind: 'ClusterTriggerAuthentication',
      });
    });

    it("skips the scaler's certificate check only when the processor's is off too", () => {
      const tls = [...keda, '--set', 'kafka.ssl=true'];
      expect(only(render(tls), 'ScaledObject').spec.triggers[0].metadata).not.toHaveProperty('unsafeSsl');
      const off = render([...tls, '--set', 'extraEnv.KAFKA_SSL_REJECT_UNAUTHORIZED=false']);
      expect(only(off, 'ScaledObject').spec.triggers[0].metadata.unsafeSsl).toBe('true');
    });

    it('needs no authentication without TLS files or SASL', () => {
      const manifests = render(keda);
      expect(manifests.filter((m) => m.kind === 'TriggerAuthentication')).toEqual([]);
      const trigger = only(manifests, 'ScaledObject').spec.triggers[0];
      expect(trigger).not.toHaveProperty('authenticationRef');
      expect(trigger.metadata).not.toHaveProperty('tls');
    });
  });

  describe('ships the alert rules as a PrometheusRule', () => {
    it('with the rules of deploy/prometheus/alerts.yml and the extra alert labels', () => {
      const source = readFileSync(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
      expect(readFileSync(join(chart, 'rules', 'alerts.yml'), 'utf8')).toBe(source);
      const rule = only(render(['-f', fixture('all-options-keda.yaml')]), 'PrometheusRule');
      expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(rule.metadata.labels.release).toBe('kube-prometheus-stack');
      const expected = (parseAllDocuments(source)[0]!.toJS() as Manifest).groups.map((g: Manifest) => ({
        name: g.name,
        rules: g.rules.map((r: Manifest) => ({ ...r, labels: { ...r.labels, team: 'growth' } })),
      }));
      expect(rule.spec.groups).toEqual(expected);
      expect(rule.spec.groups[0].rules.map((r: Manifest) => r.alert)).toEqual([
        'EfvConsumerLagGrowing',
        'EfvDeadLetterRateHigh',
        'EfvProviderBreakerOpen',
        'EfvNoResults',
        'EfvEventLoopDelayHigh',
        'EfvPublishFailures',
      ]);
      expect(render().some((m) => m.kind === 'PrometheusRule')).toBe(false);
    });
  });

  describe("checks every processor setting at render time, with the processor's own message", () => {
    // The variables the chart sets from its own values; extraEnv may set every other one.
    const chartSet = new Set(Object.keys(settings(render(['-f', fixture('all-options-keda.yaml')])).data));
    const fields = Object.values(configSchema).flatMap((slice) => Object.values(slice) as Field<unknown>[]);
    const free = fields.filter((f) => !f.secret && !chartSet.has(f.env) && f.env !== 'KAFKA_SASL_MECHANISM');

    /** The processor's error lines for the ConfigMap the chart would render with these values. */
    function processorErrors(extraEnv: Env): string[] {
      const env = { ...settings(render()).data, ...extraEnv } as Env;
      try {
        // What config.ts checks, then what the validator checks when it is built.
        createValidator(loadConfig({}, env).validation);
        return [];
      } catch (err) {
        if (!(err as Error).message.startsWith('invalid configuration:')) return [(err as Error).message];
        return (err as Error).message
          .split('\n')
          .slice(1)
          .map((l) => l.replace(/^ {2}- /, ''));
      }
    }

    function helmErrors(args: string[]): string[] {
      const stderr = renderFails(args);
      expect(stderr).toMatch(/invalid configuration:/);
      return (
        stderr
          .split('\n')
          .filter((l) => l.startsWith('  - '))
          // The chart may add which of its values to change, in parentheses after the message.
          .map((l) => l.slice(4).replace(/ \(set [^)]*\)$/, ''))
      );
    }

    it('leaves only the hand-parsed SASL mechanism out of the generated field data, which is up to date', () => {
      expect(readFileSync(fieldsTemplatePath, 'utf8'), 'run npx tsx helm/generate.ts').toBe(fieldsTemplate());
      const data = fieldsTemplate();
      const unchecked = [...data.matchAll(/"env":"(\w+)","kind":"unchecked"/g)].map((m) => m[1]);
      expect(unchecked).toEqual(['KAFKA_SASL_MECHANISM']);
      // The mechanism is a chart value the schema restricts to the processor's choices.
      expect(renderFails(['--set', 'kafka.sasl.mechanism=gssapi'])).toMatch(/schema/);
      for (const f of fields.filter((f) => !f.secret)) expect(data, f.env).toContain(`"env":"${f.env}"`);
    });

    it("refuses at render only SMTP_FROM values the processor's address parser refuses too", () => {
      // The chart's check is a coarse one (the pod parses the address): it must never refuse
      // an address the processor takes, quoted local parts and Unicode included.
      const rule = fieldRules().find((r) => r.env === 'SMTP_FROM')!;
      const re = new RegExp(rule.re!);
      const field = fields.find((f) => f.env === 'SMTP_FROM')!;
      const accepted = (v: string) => {
        try {
          field.parse(v);
          return true;
        } catch {
          return false;
        }
      };
      for (const v of ['', 'verify@example.com', '"a b"@example.com', '"@"@example.com', 'jösé@bücher.de'])
        expect([v, accepted(v), re.test(v)]).toEqual([v, true, true]);
      fc.assert(
        fc.property(fc.emailAddress(), (v) => !accepted(v) || re.test(v)),
        { numRuns: 2000 },
      );
      for (const v of ['plain', '@example.com', 'a@', 'a@[127.0.0.1]'])
        expect([v, accepted(v), re.test(v)]).toEqual([v, false, false]);
    });

    it('accepts every setting at a value the processor accepts (every pattern compiles in Go)', () => {
      const good: Record<string, string> = {};
      for (const f of free) {
        const shown = f.example ?? f.show(f.default);
        good[f.env] = shown === '(unset)' ? 'https://collector.example.com:4318/v1/traces' : shown;
      }
      good.PROVIDER_URL = 'https://verify.example.com/v1/check';
      // (config.ts only: the validator would also open the list files, which exist in the pod.)
      expect(() => loadConfig({}, { ...settings(render()).data, ...good })).not.toThrow();
      const args = Object.entries(good).flatMap(([k, v]) => [
        '--set-string',
        `extraEnv.${k}=${v.replaceAll(',', '\\,')}`,
      ]);
      expect(settings(render(args)).data).toMatchObject(good);
    });

    // Each probe list gives every setting the first value it refuses: text or an out-of-range
    // number for numbers, an unknown word for switches and choices, a space for patterns,
    // (durations are chart values: see the retry delay cases below).
    it.each([
      ['text first', [' not valid ', '10m,1m', 'maybe', ' ']],
      ['out of range first', ['-99999999', '0s', '1m,1m', 'a b']],
    ])(
      'refuses a bad value of every setting extraEnv may set, with the same messages in the same order (%s)',
      (_order, probes) => {
        const bad: Record<string, string> = {};
        for (const f of free) {
          const refused = probes.find((p) => {
            try {
              f.parse(p);
              return false;
            } catch {
              return true;
            }
          });
          if (refused !== undefined) bad[f.env] = refused;
        }
        // Most settings have a refusable value; the free-text ones (file paths, ids) have none.
        expect(Object.keys(bad).length).toBeGreaterThan(30);
        const expected = processorErrors(bad);
        expect(expected.length).toBe(Object.keys(bad).length);
        const args = Object.entries(bad).flatMap(([k, v]) => [
          '--set-string',
          `extraEnv.${k}=${v.replaceAll(',', '\\,')}`,
        ]);
        expect(helmErrors(args)).toEqual(expected);
      },
    );

    it.each([
      [
        'partitionConcurrency above partitionWindow',
        ['--set', 'processing.partitionConcurrency=600'],
        { PARTITION_CONCURRENCY: '600' },
      ],
      ['decreasing retry delays', ['--set-json', 'processing.retryDelays=["10m","1m"]'], { RETRY_DELAYS: '10m,1m' }],
      ['a retry delay without a unit', ['--set-json', 'processing.retryDelays=["30"]'], { RETRY_DELAYS: '30' }],
      ['a zero retry delay', ['--set-json', 'processing.retryDelays=["0s"]'], { RETRY_DELAYS: '0s' }],
      [
        'eleven retry delays',
        ['--set-json', `processing.retryDelays=${JSON.stringify(Array.from({ length: 11 }, (_, i) => `${i + 1}m`))}`],
        { RETRY_DELAYS: Array.from({ length: 11 }, (_, i) => `${i + 1}m`).join(',') },
      ],
      ['an unknown ordering mode', ['--set', 'processing.ordering=random'], { ORDERING: 'random' }],
      ['an unknown delivery mode', ['--set', 'processing.delivery=exactly-twice'], { DELIVERY: 'exactly-twice' }],
      [
        'a shutdown deadline below the minimum',
        ['--set', 'processing.shutdownTimeoutMs=5'],
        { SHUTDOWN_TIMEOUT_MS: '5' },
      ],
      ['a broker without a port', ['--set-json', 'kafka.brokers=["kafka"]'], { KAFKA_BROKERS: 'kafka' }],
      [
        'a Schema Registry URL without a scheme',
        ['--set', 'schemaRegistry.url=schema-registry:8081'],
        { SCHEMA_REGISTRY_URL: 'schema-registry:8081' },
      ],
      ['an unknown log level', ['--set', 'logLevel=verbose'], { LOG_LEVEL: 'verbose' }],
      ['a result topic equal to another', ['--set', 'kafka.topics.valid=signups.dlq'], { VALID_TOPIC: 'signups.dlq' }],
      ['the input topic as a result topic', ['--set', 'kafka.topics.invalid=signups'], { INVALID_TOPIC: 'signups' }],
      [
        'a client certificate without its key',
        ['--set', 'kafka.tls.secretName=tls', '--set', 'kafka.tls.certKey=tls.crt'],
        {
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: '/etc/email-flow-validator/kafka-tls/ca.crt',
          KAFKA_SSL_CERT_FILE: '/etc/email-flow-validator/kafka-tls/tls.crt',
        },
      ],
      [
        'certificate checks off without TLS',
        ['--set', 'extraEnv.KAFKA_SSL_REJECT_UNAUTHORIZED=false'],
        { KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' },
      ],
      ['the provider on without its URL', ['--set', 'extraEnv.CHECK_PROVIDER=true'], { CHECK_PROVIDER: 'true' }],
    ])('%s', (_what, args, env) => {
      const expected = processorErrors(env as Env);
      expect(expected.length, 'the processor refuses it').toBeGreaterThan(0);
      expect(helmErrors(args)).toEqual(expected);
    });

    it('writes whole numbers from a values file as integers, as the processor reads them', () => {
      const json = ['--set-json', 'extraEnv={"DNS_CACHE_SIZE":1000000,"DNS_TRIES":3}'];
      expect(settings(render(json)).data).toMatchObject({ DNS_CACHE_SIZE: '1000000', DNS_TRIES: '3' });
      expect(helmErrors(['--set-json', 'extraEnv={"DNS_TIMEOUT_MS":2.5}'])).toEqual(
        processorErrors({ DNS_TIMEOUT_MS: '2.5' }),
      );
    });

    it('refuses, in one message, every extraEnv key the chart sets itself', () => {
      const keda = settings(render(['-f', fixture('all-options-keda.yaml')])).data;
      const keys = [...new Set([...Object.keys(keda), ...Object.keys(settings(render()).data)])].filter(
        (k) => !['DNS_TIMEOUT_MS', 'CHECK_SMTP'].includes(k), // the fixture's own extraEnv
      );
      expect(keys.length).toBeGreaterThan(30);
      const stderr = renderFails(keys.flatMap((k) => ['--set-string', `extraEnv.${k}=x`]));
      for (const k of keys) expect(stderr, k).toContain(`extraEnv.${k}: the chart sets ${k} from `);
    });

    it('refuses an extraEnvVars entry for every variable the container gets from the chart', () => {
      const c = processor(render(['-f', fixture('all-options-keda.yaml')]));
      const names = (c.env as Manifest[]).map((e) => e.name).filter((n) => n !== 'NODE_OPTIONS');
      expect(names).toEqual(
        expect.arrayContaining(['POD_NAME', 'SCHEMA_REGISTRY_PASSWORD', 'OTEL_EXPORTER_OTLP_HEADERS']),
      );
      const stderr = renderFails([
        '--set-json',
        `extraEnvVars=${JSON.stringify(names.map((name) => ({ name, value: 'x' })))}`,
      ]);
      for (const n of names) expect(stderr, n).toContain(`extraEnvVars: ${n} is set by the chart`);
    });
  });

  describe('README', () => {
    it('is generated from values.yaml and up to date', () => {
      expect(readFileSync(readmePath, 'utf8'), 'run npx tsx helm/generate.ts').toBe(readme());
    });

    it('documents every value of values.yaml that has a "# --" comment', () => {
      const text = readFileSync(readmePath, 'utf8');
      const values = readFileSync(join(chart, 'values.yaml'), 'utf8');
      const documented = [...values.matchAll(/# -- [^\n]*\n(?:#[^\n]*\n)*\s*(\w+):/g)].map((m) => m[1]!);
      expect(documented.length).toBeGreaterThan(40);
      for (const key of documented) expect(text, key).toMatch(new RegExp(`\\| \`([\\w.]+\\.)?${key}\` \\|`));
      expect(text).toContain('`networkPolicy.privateRanges`');
      expect(text).toMatch(/CHECK_SMTP=true.*networkPolicy\.enabled/s);
    });
  });

  describe('decodes strictly into the Kubernetes API types (no misspelt or misplaced field)', () => {
    // Kinds kube-check has API types for; custom resources (KEDA, Prometheus Operator) it lists as unchecked.
    const typed = new Set([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);

    it.each([
      ['defaults', []],
      ['every option on, KEDA', ['-f', fixture('all-options-keda.yaml')]],
      ['every option on, HPA', ['-f', fixture('all-options-hpa.yaml')]],
      [
        'brokers, registry, collector and resolvers on their own ports',
        [
          '--set-json',
          'kafka.brokers=["kafka:9096"]',
          '--set',
          'schemaRegistry.url=https://registry.example.com',
          '--set',
          'tracing.enabled=true',
          '--set',
          'tracing.endpoint=http://collector:4317',
          '--set',
          'extraEnv.DNS_SERVERS=10.0.0.10:5353',
          '--set',
          'extraEnv.CHECK_SMTP=true',
        ],
      ],
    ])('%s', (_what, args) => {
      const res = run('kube-check', [], repoRoot, renderText(args));
      expect(res.status, res.stdout).toBe(0);
      const checked = res.stdout
        .split('\n')
        .filter((l) => l.startsWith('ok '))
        .map((l) => l.slice(3).split('/')[0])
        .sort();
      const expected = kinds(render(args)).filter((k) => typed.has(k));
      expect(checked).toEqual(expected);
      expect(checked).toContain('Deployment');
    });

    it('rejects a field the API does not have', () => {
      const broken = renderText().replace('terminationGracePeriodSeconds:', 'terminationGracePeriod:');
      expect(broken).toContain('terminationGracePeriod:');
      const res = run('kube-check', [], repoRoot, broken);
      expect(res.status).toBe(1);
      expect(res.stdout).toMatch(
        /invalid Deployment\/efv-email-flow-validator: .*unknown field "terminationGracePeriod"/,
      );
    });
  });

  describe('refuses bad values at install time', () => {
    const schemaError = /values don't meet the specifications of the schema/;

    it.each([
      ['a non-numeric replica count', ['--set', 'replicaCount=two']],
      ['no brokers', ['--set-json', 'kafka.brokers=[]']],
      ['an unknown SASL mechanism', ['--set', 'kafka.sasl.mechanism=gssapi']],
      ['a misspelt top-level value', ['--set', 'replicas=3']],
      ['running as root', ['--set', 'podSecurityContext.runAsUser=0']],
      ['privilege escalation', ['--set', 'securityContext.allowPrivilegeEscalation=true']],
      ['an invalid topic name', ['--set', 'kafka.topics.input=sign ups']],
      ['a zero maxSurge (rollout could never progress)', ['--set', 'rollingUpdate.maxSurge=0']],
      ['a misspelt dashboard value', ['--set', 'grafanaDashboard.enable=true']],
    ])('schema: %s', (_what, args) => {
      expect(renderFails(args)).toMatch(schemaError);
    });

    it.each([
      [
        'KEDA above the partition count',
        ['--set', 'keda.enabled=true', '--set', 'keda.maxReplicaCount=7'],
        /keda\.maxReplicaCount \(7\) must not exceed kafka\.inputPartitions \(6\)/,
      ],
      [
        'an HPA above the partition count',
        ['--set', 'autoscaling.enabled=true', '--set', 'autoscaling.maxReplicas=10'],
        /autoscaling\.maxReplicas \(10\) must not exceed kafka\.inputPartitions \(6\)/,
      ],
      [
        'more static replicas than partitions',
        ['--set', 'replicaCount=4', '--set', 'kafka.inputPartitions=3'],
        /replicaCount \(4\) must not exceed kafka\.inputPartitions \(3\)/,
      ],
      [
        'HPA and KEDA together',
        ['--set', 'autoscaling.enabled=true', '--set', 'keda.enabled=true'],
        /mutually exclusive/,
      ],
      ['SASL without credentials', ['--set', 'kafka.sasl.mechanism=plain'], /kafkaSaslUsername/],
      [
        'a secret in the ConfigMap',
        ['--set', 'extraEnv.PROVIDER_API_KEY=oops'],
        /extraEnv\.PROVIDER_API_KEY is a secret: set secrets\.providerApiKey/,
      ],
      [
        'the OTLP headers in the ConfigMap',
        ['--set', 'extraEnv.OTEL_EXPORTER_OTLP_HEADERS=authorization=x'],
        /extraEnv\.OTEL_EXPORTER_OTLP_HEADERS is a secret: set secrets\.otlpHeaders/,
      ],
      [
        'the Schema Registry password in the ConfigMap',
        ['--set', 'extraEnv.SCHEMA_REGISTRY_PASSWORD=x'],
        /extraEnv\.SCHEMA_REGISTRY_PASSWORD is a secret: set secrets\.schemaRegistryPassword/,
      ],
      [
        'the SMTP proxy URL (and its password) in the ConfigMap',
        ['--set', 'extraEnv.SMTP_PROXY=socks5://probe:x@10.0.0.5:1080'],
        /extraEnv\.SMTP_PROXY is a secret: set secrets\.smtpProxy/,
      ],
      [
        'an extraEnv key the chart sets',
        ['--set', 'extraEnv.PARTITION_WINDOW=5'],
        /extraEnv\.PARTITION_WINDOW: the chart sets PARTITION_WINDOW from processing\.partitionWindow/,
      ],
      [
        'an extraEnvVars entry the chart sets',
        ['--set-json', 'extraEnvVars=[{"name":"KAFKA_SASL_PASSWORD","value":"x"}]'],
        /extraEnvVars: KAFKA_SASL_PASSWORD is set by the chart from secrets\.kafkaSaslPassword/,
      ],
      ['tracing without an endpoint', ['--set', 'tracing.enabled=true'], /tracing\.endpoint/],
      [
        'a zero SMTP provider limit',
        ['--set-string', 'extraEnv.SMTP_PROVIDER_LIMITS=google.com=3:0'],
        /SMTP_PROVIDER_LIMITS="google\.com=3:0": "google\.com=3:0": limits must be at least 1/,
      ],
    ])('template: %s', (_what, args, message) => {
      expect(renderFails(args)).toMatch(message);
    });

    it('accepts the same kind of values when they are within bounds', () => {
      const ok = render(['--set', 'keda.enabled=true', '--set', 'keda.maxReplicaCount=6']);
      expect(only(ok, 'ScaledObject').spec.maxReplicaCount).toBe(6);
    });
  });
});
