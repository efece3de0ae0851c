import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/usage.js';
import { loadConfig } from '../src/config.js';
import { DEAD_LETTER_CODES } from '../src/contract/verdicts.js';
import { ReplayOptionError } from '../src/dlq/filter.js';
import {
  asProcessorError,
  ConfigError,
  codeOf,
  ErrorCodes,
  isOperationalCode,
  OPERATIONAL_ERRORS,
  ProcessorError,
  problemsOf,
} from '../src/errors.js';
import { SchemaRegistryError } from '../src/schema-registry/client.js';

describe('operational error codes', () => {
  it('are stable: scripts and alerts match on them, so a rename or a new exit code is a breaking change', () => {
    // Written out on purpose: changing a code (or its exit code) must change this test too.
    expect(Object.fromEntries(Object.entries(OPERATIONAL_ERRORS).map(([code, s]) => [code, s.exit]))).toEqual({
      USAGE_INVALID: 2,
      CONFIG_INVALID: 2,
      INPUT_FILE_INVALID: 2,
      TOPIC_MISSING: 2,
      EXACTLY_ONCE_UNAVAILABLE: 2,
      HTTP_PORT_UNAVAILABLE: 2,
      UNSUPPORTED: 2,
      TOPIC_CREATION_REFUSED: 1,
      KAFKA_FAILED: 1,
      CONSUMER_CRASHED: 1,
      PUBLISH_FAILED: 1,
      SCHEMA_REGISTRY_FAILED: 1,
      SCHEMA_NOT_REGISTERED: 1,
      REPLAY_CONCURRENT: 1,
      INTERNAL: 1,
    });
  });

  it('each has its one text: when it is used and what an operator does', () => {
    for (const [code, spec] of Object.entries(OPERATIONAL_ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Z_]+$/);
      expect(spec.when.length, code).toBeGreaterThan(20);
      expect(spec.action.length, code).toBeGreaterThan(10);
    }
  });

  it('are apart from the record codes of the dead-letter contract; ErrorCodes is both', () => {
    for (const code of DEAD_LETTER_CODES) {
      expect(isOperationalCode(code), code).toBe(false);
      expect(ErrorCodes[code].kind).toBe('record');
    }
    for (const code of Object.keys(OPERATIONAL_ERRORS)) {
      expect((DEAD_LETTER_CODES as readonly string[]).includes(code), code).toBe(false);
      expect(ErrorCodes[code as keyof typeof ErrorCodes].kind).toBe('operational');
    }
    expect(Object.keys(ErrorCodes)).toHaveLength(DEAD_LETTER_CODES.length + Object.keys(OPERATIONAL_ERRORS).length);
  });

  it('give the default retriable flag: a dead letter of VALIDATION_UNKNOWN may pass on replay, a bad record never', () => {
    expect(new ProcessorError('VALIDATION_UNKNOWN', 'x').retriable).toBe(true);
    expect(new ProcessorError('AVRO_DECODE', 'x').retriable).toBe(false);
    expect(new ProcessorError('AVRO_DECODE', 'x', { retriable: true }).retriable).toBe(true);
    expect(new ProcessorError('PUBLISH_FAILED', 'x').retriable).toBe(true);
    expect(new ProcessorError('CONFIG_INVALID', 'x').retriable).toBe(false);
  });
});

describe('every operational error is a ProcessorError with its code', () => {
  it.each([
    ['a wrong command line', new UsageError('unknown command "x"', 'run'), 'USAGE_INVALID'],
    ['a bad replay option', new ReplayOptionError('--since "x" is not an ISO 8601 time'), 'USAGE_INVALID'],
    ['a configuration error', new ConfigError(['A=1: bad', 'B=2: worse']), 'CONFIG_INVALID'],
    ['a registry failure', new SchemaRegistryError('schema registry answered 503', 503), 'SCHEMA_REGISTRY_FAILED'],
  ] as const)('%s', (_what, err, code) => {
    expect(err).toBeInstanceOf(ProcessorError);
    expect(err.code).toBe(code);
    expect(codeOf(err)).toBe(code);
  });

  it('a configuration error lists its problems one a line, and gives them back to whoever gathers more', () => {
    let err: unknown;
    try {
      loadConfig({ PARTITION_WINDOW: 'many', DNS_TRIES: '0' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = problemsOf(err);
    expect(problems).toHaveLength(2);
    expect((err as Error).message).toBe(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    expect(problemsOf(new Error('one line'))).toEqual(['one line']);
  });

  it('a registry failure keeps its status and is retriable only for what may pass', () => {
    expect(new SchemaRegistryError('down', 0).retriable).toBe(true);
    expect(new SchemaRegistryError('busy', 429).retriable).toBe(true);
    expect(new SchemaRegistryError('not found', 404, 40403).retriable).toBe(false);
    expect(new SchemaRegistryError('not found', 404, 40403)).toMatchObject({ status: 404, errorCode: 40403 });
  });

  it('an error of KafkaJS is KAFKA_FAILED, any other error without a code INTERNAL, both kept as the cause', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const denied = new KafkaJSProtocolError('Not authorized to access topics');
    expect(codeOf(refused)).toBe('KAFKA_FAILED');
    expect(codeOf(denied)).toBe('KAFKA_FAILED');
    expect(codeOf(new TypeError('x is undefined'))).toBe('INTERNAL');
    const wrapped = asProcessorError(refused);
    expect(wrapped).toMatchObject({ code: 'KAFKA_FAILED', message: refused.message, cause: refused });
    const own = new ProcessorError('PUBLISH_FAILED', 'x');
    expect(asProcessorError(own)).toBe(own);
  });
});

describe('stack traces', () => {
  it('are not captured for record codes (dead letters are data), and are for operational errors', () => {
    const stackFrames = (e: Error) => (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ')).length;
    for (const code of DEAD_LETTER_CODES) {
      const e = new ProcessorError(code, 'why');
      expect(stackFrames(e), code).toBe(0);
      expect(e.stack).toContain('why');
      expect(e.message).toBe('why');
    }
    expect(stackFrames(new ProcessorError('PUBLISH_FAILED', 'down'))).toBeGreaterThan(0);
    expect(stackFrames(new Error('plain'))).toBeGreaterThan(0);
  });
});
