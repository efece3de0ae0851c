/** What every command does before its work: configuration, logger, and checks that connect to nothing. */
import { checkWithoutConnecting } from '../commands/config.js';
import { type Config, type EnvWarning, loadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger, setLogAddresses } from '../telemetry/logger.js';
import { NAME } from './usage.js';

/** Warnings about unknown environment variables (typos), said once: whoever says them clears them. */
export const envWarnings: { pending: EnvWarning[] } = { pending: [] };

/** The typo warnings on stderr, for when there is no logger to say them (they stay pending). */
export function printEnvWarnings(): void {
  for (const w of envWarnings.pending) process.stderr.write(`${NAME}: warning: ${w.message}\n`);
}

/** Configuration and logger for a command, with the typo warnings logged once the logger exists. */
export function setup(): { config: Config; logger: Logger } {
  const config = loadConfig();
  setLogAddresses(config.telemetry.logAddresses);
  const logger = createLogger(config.telemetry);
  for (const w of envWarnings.pending)
    logger.warn({ variable: w.variable, ...(w.suggestion ? { suggestion: w.suggestion } : {}) }, w.message);
  // Said once: a later configuration error does not repeat them.
  envWarnings.pending = [];
  return { config, logger };
}

/** Fails, before any connection, on what the variables alone do not show (files, DNS servers, validator). */
export async function preflight(config: Config, buildValidator = false): Promise<void> {
  const problems = await checkWithoutConnecting(config, { buildValidator });
  if (problems.length > 0) throw new ConfigError(problems);
}
