import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError, ProcessorError } from '../../src/errors.js';
import { describeKafkaSecurity, kafkaSecurity } from '../../src/kafka/security.js';
import { makeTestPki, type TestPki } from './certificates.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ProcessorError);
    expect((err as ProcessorError).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('configuration was accepted');
}

describe('Kafka TLS and SASL configuration', () => {
  it('is plaintext without SASL by default', () => {
    const c = loadConfig({});
    expect(c.kafka.ssl).toBe(false);
    expect(c.kafka.saslMechanism).toBeUndefined();
    expect(kafkaSecurity(c.kafka)).toEqual({});
    expect(describeKafkaSecurity(c.kafka)).toBe('plaintext');
  });

  it('reads the variables the Helm chart sets, mechanism in any case', () => {
    const c = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(c.kafka.saslMechanism).toBe('scram-sha-512');
    expect(kafkaSecurity(c.kafka)).toEqual({
      ssl: { rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' },
    });
    expect(describeKafkaSecurity(c.kafka)).toBe('TLS, SASL SCRAM-SHA-512');
  });

  it('treats an empty mechanism and empty credentials as unset (the chart may render them empty)', () => {
    const c = loadConfig({ KAFKA_SASL_MECHANISM: '', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: ' ' });
    expect(c.kafka.saslMechanism).toBeUndefined();
    expect(kafkaSecurity(c.kafka).sasl).toBeUndefined();
  });

  it('refuses an unknown mechanism', () => {
    expect(configError({ KAFKA_SASL_MECHANISM: 'gssapi' })).toMatch(
      /KAFKA_SASL_MECHANISM="gssapi": must be one of plain/,
    );
  });

  it('refuses half a configuration, naming each variable, without echoing the password', () => {
    const noPassword = configError({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice' });
    expect(noPassword).toMatch(/KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    const noMechanism = configError({ KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'hunter2-very-secret' });
    expect(noMechanism).toMatch(/KAFKA_SASL_MECHANISM is not/);
    expect(noMechanism).not.toContain('hunter2-very-secret');
    expect(configError({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/x.pem' })).toMatch(
      /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/,
    );
    expect(configError({ KAFKA_SSL_CA_FILE: '/ca.pem', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })).toMatch(
      /KAFKA_SSL_CA_FILE, KAFKA_SSL_REJECT_UNAUTHORIZED=false need KAFKA_SSL=true/,
    );
  });

  it('loads the CA and the client certificate from PEM files', () => {
    const c = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: pki.caFile,
      KAFKA_SSL_CERT_FILE: pki.clientCertFile,
      KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
    });
    const ssl = kafkaSecurity(c.kafka).ssl;
    expect(ssl).toMatchObject({ rejectUnauthorized: true });
    if (typeof ssl !== 'object') throw new Error('expected TLS options');
    expect(String((ssl.ca as string[])[0])).toContain('BEGIN CERTIFICATE');
    expect(String(ssl.cert)).toContain('BEGIN CERTIFICATE');
    expect(String(ssl.key)).toContain('PRIVATE KEY');
    expect(describeKafkaSecurity(c.kafka)).toBe('TLS (mutual)');
  });

  it('names each unreadable file when the client is made', () => {
    const missing = join(pki.dir, 'missing-ca.pem');
    const c = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: missing,
      KAFKA_SSL_CERT_FILE: join(pki.dir, 'nope.pem'),
      KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
    });
    let err: unknown;
    try {
      kafkaSecurity(c.kafka);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(ProcessorError);
    expect((err as ProcessorError).code).toBe('CONFIG_INVALID');
    expect((err as ConfigError).problems).toEqual([
      `KAFKA_SSL_CA_FILE=${missing}: ENOENT`,
      `KAFKA_SSL_CERT_FILE=${join(pki.dir, 'nope.pem')}: ENOENT`,
    ]);
  });
});
