/**
 * The only reader of process.env. Each module declares its slice of fields beside itself;
 * this file assembles them, parses every value, reports every bad one at once, and freezes
 * the result.
 */
import type { Field, Infer, Slice } from './config-fields.js';
import { ProcessorError } from './errors.js';
import { kafkaFields, topicFields } from './kafka/options.js';
import { pipelineFields } from './pipeline/options.js';
import { telemetryFields } from './telemetry/options.js';
import { validationFields } from './validation/options.js';

export const configSchema = {
  kafka: kafkaFields,
  topics: topicFields,
  pipeline: pipelineFields,
  validation: validationFields,
  telemetry: telemetryFields,
} as const;

type Schema = typeof configSchema;
export type Config = { readonly [K in keyof Schema]: Infer<Schema[K]> };
export type KafkaOptions = Config['kafka'];
export type TopicOptions = Config['topics'];
export type PipelineOptions = Config['pipeline'];
export type ValidationOptions = Config['validation'];
export type TelemetryOptions = Config['telemetry'];

export type Env = Readonly<Record<string, string | undefined>>;

function readSlice(slice: Slice, env: Env, errors: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(slice) as [string, Field<unknown>][]) {
    const raw = env[field.env];
    if (raw === undefined) {
      out[key] = field.default;
      continue;
    }
    try {
      out[key] = field.parse(raw);
    } catch (err) {
      const shown = field.secret ? '(secret)' : JSON.stringify(raw);
      errors.push(`${field.env}=${shown}: ${(err as Error).message}`);
    }
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/** Cross-field rules that one field alone cannot state. */
function checkRelations(c: Config, errors: string[]): void {
  const t = c.topics;
  const outputs = [t.valid, t.invalid, t.deadLetter];
  if (outputs.includes(t.input)) errors.push(`INPUT_TOPIC "${t.input}" must differ from the result topics`);
  if (new Set(outputs).size !== outputs.length) errors.push('VALID_TOPIC, INVALID_TOPIC and DLQ_TOPIC must be distinct');
  if (c.pipeline.partitionConcurrency > c.pipeline.partitionWindow) {
    errors.push(
      `PARTITION_CONCURRENCY (${c.pipeline.partitionConcurrency}) must not exceed PARTITION_WINDOW (${c.pipeline.partitionWindow})`,
    );
  }
}

/**
 * Reads and checks the configuration. Throws one ProcessorError(CONFIG_INVALID) listing every
 * bad value, so a misconfigured deployment fails at start with a message naming each variable.
 */
export function loadConfig(env: Env = process.env, overrides: Env = {}): Config {
  const merged: Env = { ...env, ...overrides };
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, slice] of Object.entries(configSchema)) out[name] = readSlice(slice, merged, errors);
  const config = out as Config;
  if (errors.length === 0) checkRelations(config, errors);
  if (errors.length > 0) {
    throw new ProcessorError('CONFIG_INVALID', `invalid configuration:\n  - ${errors.join('\n  - ')}`);
  }
  return deepFreeze(config);
}

/** The README's environment table, generated from the schema. */
export function configMarkdownTable(): string {
  const rows = ['| variable | default | description |', '| --- | --- | --- |'];
  for (const slice of Object.values(configSchema)) {
    for (const field of Object.values(slice) as Field<unknown>[]) {
      const dflt = field.show(field.default);
      rows.push(`| \`${field.env}\` | ${dflt === '' ? '(empty)' : `\`${dflt}\``} | ${field.description.replace(/\|/g, '\\|')} |`);
    }
  }
  return rows.join('\n');
}
