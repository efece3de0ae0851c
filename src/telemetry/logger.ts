import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { TelemetryOptions } from '../config.js';

export type { Logger };

/**
 * The one root logger; components take `logger.child({ component })`. Email addresses are
 * personal data: anything that could hold one is passed through `redactAddress`, which
 * hashes it unless the LOG_ADDRESSES debug switch is on.
 */
export function createLogger(
  options: Pick<TelemetryOptions, 'logLevel'> & Partial<Pick<TelemetryOptions, 'logFormat'>>,
  destination?: pino.DestinationStream,
): Logger {
  const format = options.logFormat ?? 'json';
  const readable = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  return pino(
    {
      level: options.logLevel,
      base: { service: 'email-flow-validator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['email', '*.email', 'address', '*.address', 'apiKey', '*.apiKey', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    destination ??
      (readable
        ? // In this thread (no transport worker), so a line is written before the process exits.
          pretty({
            destination: 2,
            sync: true,
            colorize: process.stderr.isTTY === true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname,service',
          })
        : pino.destination({ dest: 2, sync: false })),
  );
}

let clearAddresses = false;

/** Turns on clear-text addresses in logs (LOG_ADDRESSES=true, for debugging only). */
export function setLogAddresses(on: boolean): void {
  clearAddresses = on;
}

/** A stable, non-reversible token for an address, so log lines about one address can be correlated. */
export function redactAddress(address: string): string {
  if (clearAddresses) return address;
  return `sha256:${createHash('sha256').update(address).digest('hex').slice(0, 16)}`;
}
