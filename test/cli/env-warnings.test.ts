import { describe, expect, it } from 'vitest';
import { configFields, unknownEnvWarnings } from '../../src/config.js';

const env = (names: string[]) => Object.fromEntries(names.map((n) => [n, 'x']));

describe('unknown variable warnings', () => {
  it('say nothing of the usual variables of a machine, a container or a Kubernetes pod', () => {
    const usual = [
      'PATH',
      'HOME',
      'HOSTNAME',
      'NODE_ENV',
      'NODE_OPTIONS',
      'LANG',
      'TERM',
      'TZ',
      'HTTP_PROXY',
      'HTTPS_PROXY',
      'NO_PROXY',
      'CI',
      'JAVA_HOME',
      'PORT',
      'HOST',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_TRACES_SAMPLER',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_PORT_443_TCP',
      'KAFKA_SERVICE_HOST',
      'KAFKA_SERVICE_PORT',
      'KAFKA_PORT',
      'KAFKA_PORT_9092_TCP_ADDR',
      'KAFKA_HEAP_OPTS',
      'EMAIL_FLOW_VALIDATOR_SERVICE_PORT_HTTP',
      'KAFKA_VERSION',
      'EFV_FROM_SOURCE',
    ];
    expect(unknownEnvWarnings(env(usual))).toEqual([]);
  });

  it('never warn of a setting itself', () => {
    expect(unknownEnvWarnings(env(configFields().map((f) => f.env)))).toEqual([]);
  });

  it('name the setting a typo was meant to be, or say the prefix is ours', () => {
    const got = unknownEnvWarnings(
      env(['PARTITON_WINDOW', 'LOGLEVEL', 'kafka_brokers', 'DNS_SERVER', 'PROVIDER_TOKEN']),
    );
    expect(got.map((w) => [w.variable, w.suggestion])).toEqual([
      ['DNS_SERVER', 'DNS_SERVERS'],
      ['LOGLEVEL', 'LOG_LEVEL'],
      ['PARTITON_WINDOW', 'PARTITION_WINDOW'],
      ['PROVIDER_TOKEN', undefined],
      ['kafka_brokers', 'KAFKA_BROKERS'],
    ]);
    expect(got.find((w) => w.variable === 'PROVIDER_TOKEN')?.message).toContain('is not a setting');
  });
});
