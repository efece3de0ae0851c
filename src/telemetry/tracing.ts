import { context, DiagLogLevel, diag, propagation, trace } from '@opentelemetry/api';
import type * as tracing from '@opentelemetry/sdk-trace';
import type { TelemetryOptions } from '../config.js';
import { PROCESSOR_VERSION } from '../version.js';
import type { Logger } from './logger.js';
import { useW3cPropagator } from './propagation.js';

type TracingOptions = Pick<
  TelemetryOptions,
  | 'otelServiceName'
  | 'otelTracesExporter'
  | 'otelExporterOtlpEndpoint'
  | 'otelExporterOtlpTracesEndpoint'
  | 'otelSdkDisabled'
>;

export interface Tracing {
  /** Whether an SDK was started (an exporter is configured); otherwise spans are the API's no-ops. */
  readonly enabled: boolean;
  /** Flushes pending spans (bounded by `timeoutMs`) and unregisters the SDK. Safe to call twice. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Whether the standard variables ask for any span exporter. Unlike the SDK's own default
 * (otlp to localhost:4318 when nothing is set), an unconfigured process starts no SDK at
 * all: spans stay the API's no-ops and cost nothing, and nothing is sent to a collector
 * nobody set up. W3C context is still carried from input to output records regardless
 * (see propagation.ts).
 */
export function tracingRequested(options: TracingOptions): boolean {
  if (options.otelSdkDisabled) return false;
  // The SDK's rule: "none" first means no exporter; "none" among others is ignored.
  if (options.otelTracesExporter.length > 0) return options.otelTracesExporter[0] !== 'none';
  return options.otelExporterOtlpEndpoint !== undefined || options.otelExporterOtlpTracesEndpoint !== undefined;
}

/**
 * Starts the OpenTelemetry Node SDK for traces when an exporter is configured. The
 * exporter, protocol, sampler, headers and batching come from the standard OTEL_*
 * variables, read by the SDK itself. Metrics are Prometheus (metrics.ts) and logs are
 * pino, so the SDK's metric and log pipelines are left off.
 *
 * `spanProcessors` replaces the exporters named by the environment (tests pass an
 * in-memory exporter); it starts the SDK even if no exporter is configured.
 */
export async function startTracing(
  options: TracingOptions,
  logger: Logger,
  extra: { spanProcessors?: tracing.SpanProcessor[] } = {},
): Promise<Tracing> {
  if (!extra.spanProcessors && !tracingRequested(options)) return { enabled: false, shutdown: async () => {} };
  const log = logger.child({ component: 'tracing' });
  // Export failures (collector down) show up in our JSON logs, not on the console.
  diag.setLogger(
    {
      error: (msg, ...args) => log.warn({ args }, msg),
      warn: (msg, ...args) => log.warn({ args }, msg),
      info: (msg, ...args) => log.debug({ args }, msg),
      debug: (msg, ...args) => log.trace({ args }, msg),
      verbose: (msg, ...args) => log.trace({ args }, msg),
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  // Loaded only here: the SDK and its exporters cost ~30 MB and startup time a process
  // without tracing does not need.
  const [{ NodeSDK }, resources, { UndiciInstrumentation }, core] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/core'),
  ]);
  // The SDK's copy of core carries the records' W3C context too (propagation.ts would
  // otherwise load a second one).
  useW3cPropagator(new core.W3CTraceContextPropagator());
  const sdk = new NodeSDK({
    serviceName: options.otelServiceName,
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.version': PROCESSOR_VERSION })),
    // Provider HTTP calls become client spans under the provider check span. Only requests
    // made inside a traced event are traced, so unrelated HTTP traffic adds no root spans.
    instrumentations: [
      new UndiciInstrumentation({
        requireParentforSpans: true,
        // A query string may carry a credential (PROVIDER_URL=…?key=…): spans keep the URL
        // without it. User-info never reaches a request (the clients move it to a header).
        requestHook: (span, request) => {
          const q = request.path.indexOf('?');
          if (q < 0) return;
          span.setAttribute('url.full', `${request.origin}${request.path.slice(0, q)}?(redacted)`);
          span.setAttribute('url.query', '(redacted)');
        },
      }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
    ...(extra.spanProcessors ? { spanProcessors: extra.spanProcessors } : {}),
  });
  sdk.start();
  log.info(
    {
      serviceName: options.otelServiceName,
      exporters: extra.spanProcessors
        ? ['custom']
        : options.otelTracesExporter.length > 0
          ? options.otelTracesExporter
          : ['otlp'],
      endpoint: options.otelExporterOtlpTracesEndpoint ?? options.otelExporterOtlpEndpoint,
    },
    'tracing started',
  );
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown(timeoutMs = 5000) {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        const outcome = await Promise.race([sdk.shutdown().then(() => 'flushed' as const), timedOut]).catch(
          (err: Error) => {
            log.warn({ err: err.message }, 'tracing shutdown failed; some spans may be lost');
            return 'failed' as const;
          },
        );
        clearTimeout(timer);
        if (outcome === 'timeout')
          log.warn({ timeoutMs }, 'span export did not finish in time; some spans may be lost');
        // Unregistered so a later start in the same process (tests, or a command run twice)
        // registers cleanly instead of being refused as a duplicate.
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
      })();
      return stopping;
    },
  };
}
