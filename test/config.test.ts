import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configMarkdownTable, configSchema, ENV_END, ENV_START, loadConfig } from '../src/config.js';
import type { Field } from '../src/config-fields.js';
import { ProcessorError } from '../src/errors.js';

describe('loadConfig', () => {
  it('gives every field a default, so an empty environment is a valid configuration', () => {
    const c = loadConfig({});
    expect(c.topics.input).toBe('signups');
    expect(c.pipeline.ordering).toBe('key');
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(Object.isFrozen(c.pipeline)).toBe(true);
  });

  it('parses values from the environment', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      ORDERING: 'UNORDERED',
      PARTITION_CONCURRENCY: '8',
      RISKY_ROUTE: 'invalid',
    });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.pipeline.ordering).toBe('unordered');
    expect(c.pipeline.partitionConcurrency).toBe(8);
    expect(c.pipeline.riskyRoute).toBe('invalid');
  });

  it('reports every bad value at once, naming each variable', () => {
    let err: unknown;
    try {
      loadConfig({
        ORDERING: 'random',
        PARTITION_CONCURRENCY: '0',
        KAFKA_BROKERS: 'no-port',
        PUBLISH_LINGER_MS: 'soon',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProcessorError);
    const e = err as ProcessorError;
    expect(e.code).toBe('CONFIG_INVALID');
    for (const name of ['ORDERING', 'PARTITION_CONCURRENCY', 'KAFKA_BROKERS', 'PUBLISH_LINGER_MS'])
      expect(e.message).toContain(name);
  });

  it('rejects contradictory settings', () => {
    expect(() => loadConfig({ INPUT_TOPIC: 'x', VALID_TOPIC: 'x' })).toThrow(/INPUT_TOPIC/);
    expect(() => loadConfig({ VALID_TOPIC: 'x', INVALID_TOPIC: 'x' })).toThrow(/distinct/);
    expect(() => loadConfig({ PARTITION_CONCURRENCY: '100', PARTITION_WINDOW: '10' })).toThrow(/PARTITION_WINDOW/);
  });

  it('documents every variable in the README, from the same schema', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const slice of Object.values(configSchema)) {
      for (const field of Object.values(slice) as Field<unknown>[]) {
        expect(field.description.length).toBeGreaterThan(10);
        expect(readme, `README lacks ${field.env}`).toContain(`\`${field.env}\``);
      }
    }
    expect(configMarkdownTable()).toContain('`ORDERING`');
    const start = readme.indexOf(ENV_START) + ENV_START.length;
    expect(readme.slice(start, readme.indexOf(ENV_END)).trim(), 'README table is stale: npm run docs:env').toBe(
      configMarkdownTable(),
    );
  });
});
