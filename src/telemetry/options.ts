import { bool, int, list, oneOf, optionalStr, str } from '../config-fields.js';

export const telemetryFields = {
  logLevel: oneOf({
    env: 'LOG_LEVEL',
    description: 'pino log level.',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
  }),
  logAddresses: bool({
    env: 'LOG_ADDRESSES',
    description:
      'Debug switch: with LOG_LEVEL debug or trace, log fields that hold an email address (`email`, `address`) in clear. Off (or at info and above): they are logged as [redacted].',
    default: false,
  }),
  logFormat: oneOf({
    env: 'LOG_FORMAT',
    description:
      'auto: readable lines when stderr is a terminal, else pino JSON (one object a line); json or pretty to choose.',
    default: 'auto',
    values: ['auto', 'json', 'pretty'] as const,
  }),
  logStatsIntervalMs: int({
    env: 'LOG_STATS_INTERVAL_MS',
    description:
      'How often `run` logs one info line with events routed per topic, dead letters, in-flight and lag since the last one; 0: never.',
    default: 60_000,
    min: 0,
    max: 86_400_000,
  }),
  traceKeySecret: optionalStr({
    env: 'TRACE_KEY_SECRET',
    description:
      "Secret of the HMAC that turns a record key (a user id) into the `messaging.kafka.message.key` span attribute. Set the same value on every replica so one user's spans correlate across them; unset: each process draws a random one.",
    secret: true,
  }),
  httpPort: int({
    env: 'HTTP_PORT',
    description: 'Port of /healthz, /readyz and /metrics; 0 picks a free port; -1 disables the server.',
    default: 9464,
    min: -1,
    max: 65_535,
  }),
  httpHost: optionalStr({
    env: 'HTTP_HOST',
    description: 'Address the /healthz, /readyz and /metrics server listens on. Unset: all interfaces.',
  }),
  healthMaxEventLoopDelayMs: int({
    env: 'HEALTH_MAX_EVENT_LOOP_DELAY_MS',
    description:
      '/healthz fails while the event loop was blocked longer than this in the last few seconds (liveness: a wedged process gets restarted).',
    default: 5000,
    min: 10,
    max: 600_000,
  }),
  // The OTEL_* variables below decide whether the tracing SDK starts at all; every other
  // OTEL_* variable (sampler, protocol, headers, resource attributes, batching) is read by
  // the OpenTelemetry SDK itself, as its specification says.
  otelServiceName: str({
    env: 'OTEL_SERVICE_NAME',
    description: 'service.name of the exported spans.',
    default: 'email-flow-validator',
  }),
  otelTracesExporter: list({
    env: 'OTEL_TRACES_EXPORTER',
    description:
      'Span exporters: otlp, console, zipkin or none. Empty: otlp when an OTLP endpoint is set, else tracing is off (no SDK, only the no-op API).',
    default: [],
    item: /^(otlp|console|zipkin|none)$/,
  }),
  otelExporterOtlpEndpoint: optionalStr({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    description:
      'OTLP collector base URL, e.g. http://localhost:4318 (traces go to /v1/traces). Setting it turns tracing on.',
    pattern: /^https?:\/\//,
  }),
  otelExporterOtlpTracesEndpoint: optionalStr({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    description:
      'Full OTLP traces URL, overriding OTEL_EXPORTER_OTLP_ENDPOINT for traces. Setting it turns tracing on.',
    pattern: /^https?:\/\//,
  }),
  otelSdkDisabled: bool({
    env: 'OTEL_SDK_DISABLED',
    description: 'true: never start the tracing SDK, whatever else is set.',
    default: false,
  }),
};
