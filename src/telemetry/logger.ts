import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { TelemetryOptions } from '../config.js';

export type { Logger };

/**
 * The one root logger; components take `logger.child({ component })`. Email addresses are
 * personal data: anything that could hold one is passed through `redactAddress`, which
 * hashes it unless the LOG_ADDRESSES debug switch is on.
 */
export function createLogger(
  options: Pick<TelemetryOptions, 'logLevel'>,
  destination?: pino.DestinationStream,
): Logger {
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
    destination ?? pino.destination({ dest: 2, sync: false }),
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
