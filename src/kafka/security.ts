import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ConfigError } from '../errors.js';
import type { KafkaOptions } from './options.js';

type SecurityOptions = Pick<
  KafkaOptions,
  | 'ssl'
  | 'sslCaFile'
  | 'sslCertFile'
  | 'sslKeyFile'
  | 'sslRejectUnauthorized'
  | 'saslMechanism'
  | 'saslUsername'
  | 'saslPassword'
>;

/**
 * Rules between the TLS and SASL variables, checked with the rest of the configuration so a
 * deployment that would only fail at its first connection (or, worse, silently connect in
 * clear) refuses to start instead.
 */
export function kafkaSecurityProblems(o: SecurityOptions): string[] {
  const problems: string[] = [];
  if (o.saslMechanism && (!o.saslUsername || !o.saslPassword)) {
    problems.push(`KAFKA_SASL_MECHANISM=${o.saslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  }
  // Credentials without a mechanism would be ignored: the deployment meant to authenticate.
  if (!o.saslMechanism && (o.saslUsername || o.saslPassword)) {
    problems.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not');
  }
  if (Boolean(o.sslCertFile) !== Boolean(o.sslKeyFile)) {
    problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS needs both)');
  }
  if (!o.ssl) {
    const tlsOnly = [
      o.sslCaFile && 'KAFKA_SSL_CA_FILE',
      o.sslCertFile && 'KAFKA_SSL_CERT_FILE',
      o.sslKeyFile && 'KAFKA_SSL_KEY_FILE',
      !o.sslRejectUnauthorized && 'KAFKA_SSL_REJECT_UNAUTHORIZED=false',
    ].filter(Boolean);
    if (tlsOnly.length > 0) problems.push(`${tlsOnly.join(', ')} need KAFKA_SSL=true`);
  }
  return problems;
}

function readPem(env: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${env}=${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  }
}

/**
 * The `ssl` and `sasl` parts of the KafkaJS client configuration. Files are read here, once,
 * when the client is made; an unreadable file is a configuration error naming the variable.
 */
export function kafkaSecurity(o: SecurityOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (o.ssl) {
    const problems: string[] = [];
    const tls: ConnectionOptions = { rejectUnauthorized: o.sslRejectUnauthorized };
    if (o.sslCaFile) {
      const ca = readPem('KAFKA_SSL_CA_FILE', o.sslCaFile, problems);
      if (ca !== undefined) tls.ca = [ca];
    }
    if (o.sslCertFile && o.sslKeyFile) {
      const cert = readPem('KAFKA_SSL_CERT_FILE', o.sslCertFile, problems);
      const key = readPem('KAFKA_SSL_KEY_FILE', o.sslKeyFile, problems);
      if (cert !== undefined && key !== undefined) Object.assign(tls, { cert, key });
    }
    if (problems.length > 0) {
      throw new ConfigError(problems);
    }
    out.ssl = tls;
  }
  if (o.saslMechanism && o.saslUsername && o.saslPassword) {
    out.sasl = { mechanism: o.saslMechanism, username: o.saslUsername, password: o.saslPassword } as SASLOptions;
  }
  return out;
}

/** A one-line description for logs: which protection is on, never the credentials. */
export function describeKafkaSecurity(o: SecurityOptions): string {
  const transport = o.ssl ? `TLS${o.sslCertFile ? ' (mutual)' : ''}` : 'plaintext';
  return o.saslMechanism ? `${transport}, SASL ${o.saslMechanism.toUpperCase()}` : transport;
}
