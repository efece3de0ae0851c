import type { Config } from '../config.js';
import { ProcessorError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { missingTopics } from '../kafka/topics.js';
import { Processor, type ProcessorObserver } from '../pipeline/processor.js';
import { type OperationsServer, startOperationsServer } from '../server/operations-server.js';
import type { Logger } from '../telemetry/logger.js';
import { ProcessorMetrics } from '../telemetry/metrics.js';
import { startTracing, type Tracing } from '../telemetry/tracing.js';
import { createValidator, type EmailValidator, type ValidatorDeps } from '../validation/validator.js';
import { bothObservers, logStatsEvery, RunStats } from './run-stats.js';

export interface RunningProcessor {
  processor: Processor;
  validator: EmailValidator;
  /** Resolves with the exit code once the processor stopped (signal, fatal error or stop()). */
  done: Promise<number>;
}

/** Builds and starts the processor; fails with a clear message if its topics are missing. */
export async function startProcessor(
  config: Config,
  logger: Logger,
  observer?: ProcessorObserver,
  validatorDeps: ValidatorDeps = {},
): Promise<RunningProcessor> {
  // Everything that can fail on configuration (TLS files, list files, DNS servers, the
  // provider's settings) is built before the first connection.
  const kafka = createKafka(config.kafka, logger);
  const validator = createValidator(config.validation, validatorDeps);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const missing = await missingTopics(admin, config.topics, config.pipeline.retryDelays);
    if (missing.length > 0) {
      throw new ProcessorError(
        'TOPIC_MISSING',
        `topics missing on ${config.kafka.brokers.join(',')}: ${missing.join(', ')} (create them with \`email-flow-validator topics\`)`,
      );
    }
  } catch (err) {
    await validator.close();
    throw err;
  } finally {
    await admin.disconnect();
  }
  const processor = new Processor(config, { kafka, validator, logger, ...(observer ? { observer } : {}) });
  await processor.start();
  return { processor, validator, done: processor.stopped.then(() => (processor.failure ? 1 : 0)) };
}

export interface ServiceOptions {
  /** Replaces the span exporters named by OTEL_* (tests pass an in-memory exporter). */
  spanProcessors?: NonNullable<Parameters<typeof startTracing>[2]>['spanProcessors'];
}

export interface RunningService {
  processor: Processor;
  metrics: ProcessorMetrics;
  /** Port of /healthz, /readyz and /metrics; undefined when HTTP_PORT=-1. */
  httpPort: number | undefined;
  /** Resolves with the exit code once the processor stopped (signal, fatal error or stop()). */
  done: Promise<number>;
  /**
   * Stops the processor if it still runs, then closes the HTTP server and flushes spans.
   * The server stays up until the processor stopped, so /readyz answers "not ready" while
   * it drains instead of refusing connections.
   */
  close(): Promise<number>;
}

/**
 * Everything `run` starts, in order: tracing (before any span is made), metrics and the
 * operations server (so /healthz answers and /readyz says "not ready" during start-up),
 * then the processor.
 */
export async function startService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const t = config.telemetry;
  const tracing: Tracing = await startTracing(
    t,
    logger,
    options.spanProcessors ? { spanProcessors: options.spanProcessors } : {},
  );
  const metrics = new ProcessorMetrics({ delivery: config.pipeline.delivery });
  const stats = new RunStats();
  let processor: Processor | undefined;
  let server: OperationsServer | undefined;
  try {
    if (t.httpPort >= 0) {
      server = await startOperationsServer(
        {
          port: t.httpPort,
          host: t.httpHost,
          maxEventLoopDelayMs: t.healthMaxEventLoopDelayMs,
          ready: () => processor?.isReady() ?? false,
          state: () => processor?.state ?? 'starting',
          // A failed processor exits the process; until then, report it dead, not merely unready.
          alive: () => processor?.state !== 'failed',
          metrics,
        },
        logger,
      ).catch((err: NodeJS.ErrnoException) => {
        const where = `${t.httpHost || '*'}:${t.httpPort}`;
        throw new ProcessorError('HTTP_PORT_UNAVAILABLE', `cannot listen on ${where}: ${err.code ?? err.message}`, {
          cause: err,
        });
      });
    }
    const providerLog = logger.child({ component: 'provider' });
    const running = await startProcessor(config, logger, bothObservers(metrics, stats), {
      onProviderBreakerStateChange: (state, previous) => {
        metrics.providerBreaker(state);
        if (state === 'open') providerLog.warn({ state, previous }, 'provider circuit breaker opened: failing fast');
        else providerLog.info({ state, previous }, `provider circuit breaker ${state}`);
      },
      onProviderRequest: (outcome, durationMs) => metrics.providerRequest(outcome, durationMs),
      smtpObserver: {
        probe: (provider, outcome) => metrics.smtpProbe(provider, outcome),
        backoff: (provider) => providerLog.warn({ provider }, 'mail provider backed off after a deferral'),
      },
    });
    processor = running.processor;
    const stopStats = logStatsEvery(stats, logger, config.topics, t.logStatsIntervalMs);
    void running.done.then(() => stopStats());
    metrics.watchDnsCache(() => running.validator.dnsCacheStats);
    metrics.watchSmtpProviders(() => running.validator.smtpProviders);
    let closing: Promise<number> | undefined;
    return {
      processor,
      metrics,
      httpPort: server?.port,
      done: running.done,
      close() {
        closing ??= (async () => {
          await running.processor.stop();
          const code = await running.done;
          await server?.close();
          await tracing.shutdown();
          logger.info({ exitCode: code }, 'shutdown complete');
          return code;
        })();
        return closing;
      },
    };
  } catch (err) {
    await server?.close();
    await tracing.shutdown();
    throw err;
  }
}

/** `run`: the processor until SIGTERM/SIGINT, then drain, commit, close the server, flush spans, exit 0. */
export async function runCommand(config: Config, logger: Logger): Promise<number> {
  const service = await startService(config, logger);
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutdown requested');
    void service.processor.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await service.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return service.close();
}
