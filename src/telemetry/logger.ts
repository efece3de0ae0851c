import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type Pretty from 'pino-pretty';
import type { TelemetryOptions } from '../config.js';

export type { Logger };

/** Log fields that may hold an email address: personal data. */
const ADDRESS_FIELDS = new Set(['email', 'address']);
const REDACTED = '[redacted]';

const DEBUG = 20;
let clearAddresses = false;
/** The buffered stderr destinations of the loggers made (JSON logs), for `flushLogs`. */
const buffered = new Set<pino.DestinationStream & { flushSync(): void }>();

/**
 * The one root logger; components take `logger.child({ component })`. Email addresses are
 * personal data: address fields are redacted by pino itself (`redact.censor`) unless
 * LOG_ADDRESSES is on; `redactAddress` gives a correlatable token for an address elsewhere.
 */
export function createLogger(
  options: Pick<TelemetryOptions, 'logLevel'> & Partial<Pick<TelemetryOptions, 'logFormat'>>,
  destination?: pino.DestinationStream,
): Logger {
  const format = options.logFormat ?? 'json';
  const readable = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  // pino's censor for every redacted path: secrets always; address fields unless LOG_ADDRESSES
  // is on and the logger logs at debug or below (a debugging session, never a production
  // info log). Read at each line, so the switch also works on loggers made before it was set.
  const censor = (value: unknown, path: string[]): unknown =>
    clearAddresses && logger.levelVal <= DEBUG && ADDRESS_FIELDS.has(path[path.length - 1] ?? '') ? value : REDACTED;
  const logger: Logger = pino(
    {
      level: options.logLevel,
      base: { service: 'email-flow-validator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['email', '*.email', 'address', '*.address', 'apiKey', '*.apiKey', 'password', '*.password'],
        censor,
      },
    },
    destination ??
      (readable
        ? // In this thread (no transport worker), so a line is written before the process exits.
          // Loaded only for a readable log: a JSON-logging process (a pod) never needs it.
          (createRequire(import.meta.url)('pino-pretty') as typeof Pretty)({
            destination: 2,
            sync: true,
            colorize: process.stderr.isTTY === true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname,service',
          })
        : bufferedStderr()),
  );
  return logger;
}

function bufferedStderr(): pino.DestinationStream {
  const stream = pino.destination({ dest: 2, sync: false });
  buffered.add(stream);
  return stream;
}

/**
 * Writes out the log lines still buffered (JSON logs go to stderr through a buffer). The CLI
 * calls it before its own error line: a line logged before the failure (a client's last
 * retry) was otherwise written after it, at exit, so the error was not the last line.
 */
export function flushLogs(): void {
  for (const stream of buffered) {
    try {
      stream.flushSync();
    } catch {
      // Not open yet, or stderr closed: nothing to write out, or nowhere to.
    }
  }
}

/** Turns on clear-text address fields in debug logs (LOG_ADDRESSES=true, for debugging only). */
export function setLogAddresses(on: boolean): void {
  clearAddresses = on;
}

/** A stable, non-reversible token for an address, so log lines about one address can be correlated. */
export function redactAddress(address: string): string {
  if (clearAddresses) return address;
  return `sha256:${createHash('sha256').update(address).digest('hex').slice(0, 16)}`;
}
