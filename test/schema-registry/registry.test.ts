import avro from 'avsc';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadSchema, type SignupEvent, signupEventType, validationResultType } from '../../src/contract/schemas.js';
import type { ProcessorError } from '../../src/errors.js';
import { publishSignup, signupRegistryCodec } from '../../src/index.js';
import { decodeSignup } from '../../src/pipeline/decode.js';
import { resultRecord } from '../../src/pipeline/records.js';
import { SchemaRegistryClient, SchemaRegistryError } from '../../src/schema-registry/client.js';
import { AvroRegistryCodec } from '../../src/schema-registry/codec.js';
import { RegistrySerdes } from '../../src/schema-registry/serdes.js';
import { frame, unframe, valueSubject } from '../../src/schema-registry/wire-format.js';
import type { Verdict } from '../../src/validation/types.js';
import { consumeRecords, createTopics, deleteTopics, testKafka, uniqueName } from '../helpers/kafka.js';
import { produceRaw } from '../helpers/processor.js';
import { type RegistryServer, startRegistry } from './apicurio.js';

/**
 * Against a real Confluent-compatible registry (Apicurio Registry's ccompat API, from Maven
 * Central) and the run's real Kafka broker: producers write in Confluent wire format with
 * their own (evolved) schema, the processor's decoder resolves it against ours.
 */
let registry: RegistryServer;
let client: SchemaRegistryClient;
beforeAll(async () => {
  registry = await startRegistry();
  client = new SchemaRegistryClient({ url: registry.url });
}, 240_000);
afterAll(async () => {
  await registry?.stop();
});

const ours = loadSchema('SignupEvent') as { fields: object[] } & Record<string, unknown>;
/** A producer one release ahead: the same record with an added optional field. */
const evolved = {
  ...ours,
  fields: [...ours.fields, { name: 'referrer', type: ['null', 'string'], default: null }],
};
/** A producer that broke the contract: email became a number. */
const incompatible = {
  ...ours,
  fields: (ours.fields as { name: string }[]).map((f) => (f.name === 'email' ? { name: 'email', type: 'long' } : f)),
};

function signup(n: number): SignupEvent {
  return {
    eventId: `evt-${n}`,
    userId: `user-${n}`,
    email: `person${n}@example.com`,
    occurredAt: 1_764_300_000_000 + n,
    source: 'web',
    locale: null,
  };
}

const rec = (offset: number) => ({ key: null, timestamp: '0', topic: 't', partition: 0, offset: String(offset) });
const decodeOptions = (serdes: RegistrySerdes) => ({
  format: 'auto' as const,
  maxMessageBytes: 65_536,
  registry: serdes,
});

describe('Schema Registry (real registry, real broker)', () => {
  it('registers a schema under a subject idempotently and serves it by id', async () => {
    const subject = valueSubject(uniqueName('subject'));
    const id = await client.register(subject, ours);
    expect(await client.register(subject, ours)).toBe(id);
    expect(JSON.parse(await client.schemaById(id))).toMatchObject({ name: 'SignupEvent' });
    await expect(client.schemaById(987_654_321)).rejects.toMatchObject({ status: 404, retriable: false });
  });

  it('decodes wire-format sign-ups written with our schema and with an evolved one (added optional field)', async () => {
    const topic = uniqueName('registry-input');
    await createTopics([topic], 1);
    try {
      const writer = new SchemaRegistryClient({ url: registry.url });
      const evolvedCodec = new AvroRegistryCodec<SignupEvent & { referrer: string | null }>(
        writer,
        avro.Type.forSchema(evolved as avro.Schema),
        evolved,
      );
      const sameCodec = new AvroRegistryCodec<SignupEvent>(writer, signupEventType, ours);
      const newer = await evolvedCodec.encodeAsync(topic, { ...signup(1), referrer: 'newsletter' });
      const older = await sameCodec.encodeAsync(topic, signup(2));
      // Both registered under the topic's subject, as two versions with their own ids.
      expect(unframe(newer)!.schemaId).not.toBe(unframe(older)!.schemaId);
      await produceRaw(topic, [
        { key: 'user-1', value: newer },
        { key: 'user-2', value: older },
      ]);

      const records = await consumeRecords([topic], 2);
      expect(records).toHaveLength(2);
      const serdes = new RegistrySerdes(new SchemaRegistryClient({ url: registry.url }));
      await serdes.prefetch(records.map((r) => r.message));
      const decoded = records.map((r, i) =>
        decodeSignup(r.message.value, r.message.headers, rec(i), decodeOptions(serdes)),
      );
      expect(decoded).toEqual([
        { ok: true, value: signup(1) },
        { ok: true, value: signup(2) },
      ]);
    } finally {
      await deleteTopics([topic]);
    }
  });

  it('dead-letters (AVRO_DECODE) an unknown schema id and a writer schema that cannot be resolved', async () => {
    const serdes = new RegistrySerdes(new SchemaRegistryClient({ url: registry.url }));
    const badId = await client.register(valueSubject(uniqueName('broken')), incompatible);
    const unknown = frame(987_654_321, signupEventType.toBuffer(signup(3)));
    const broken = frame(badId, Buffer.from([0x02, 0x61]));
    await serdes.prefetch([{ value: unknown }, { value: broken }]);
    const [a, b] = [unknown, broken].map((v, i) => decodeSignup(v, undefined, rec(i), decodeOptions(serdes)));
    expect(a!.ok).toBe(false);
    expect(b!.ok).toBe(false);
    const ea = (a as { error: ProcessorError }).error;
    const eb = (b as { error: ProcessorError }).error;
    expect([ea.code, ea.retriable]).toEqual(['AVRO_DECODE', false]);
    expect(ea.message).toMatch(/writer schema 987654321/);
    expect([eb.code, eb.retriable]).toEqual(['AVRO_DECODE', false]);
    expect(eb.message).toMatch(new RegExp(`writer schema ${badId} cannot be read as ours`));
  });

  it('still reads raw Avro and JSON when a registry is configured', async () => {
    const serdes = new RegistrySerdes(new SchemaRegistryClient({ url: registry.url }));
    const raw = signupEventType.toBuffer(signup(4));
    expect(decodeSignup(raw, undefined, rec(0), decodeOptions(serdes))).toEqual({ ok: true, value: signup(4) });
    const json = Buffer.from(JSON.stringify(signup(5)));
    expect(decodeSignup(json, undefined, rec(1), decodeOptions(serdes))).toEqual({ ok: true, value: signup(5) });
  });

  it('fails the prefetch, not the record, when the registry cannot be reached', async () => {
    const down = new RegistrySerdes(
      new SchemaRegistryClient({ url: 'http://127.0.0.1:9/apis/ccompat/v7', timeoutMs: 2000 }),
    );
    const value = frame(1, signupEventType.toBuffer(signup(6)));
    const err = await down.prefetch([{ value }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SchemaRegistryError);
    expect((err as SchemaRegistryError).retriable).toBe(true);
    // Not loaded: decoding says so as a retriable failure instead of guessing.
    const r = decodeSignup(value, undefined, rec(0), decodeOptions(down));
    expect(r.ok ? null : [r.error.code, r.error.retriable]).toEqual(['AVRO_DECODE', true]);
  });

  it('writes results in wire format with our schema registered under <topic>-value, readable by a registry consumer', async () => {
    const valid = uniqueName('registry-valid');
    const serdes = RegistrySerdes.fromConfig(loadConfig({ SCHEMA_REGISTRY_URL: registry.url }))!;
    expect(serdes).toBeDefined();
    await serdes.start([valid]);
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
    expect(subjects).toContain(`${valid}-value`);

    const verdict: Verdict = {
      verdict: 'deliverable',
      reason: null,
      flags: ['has_mx'],
      normalized: 'person7@example.com',
      suggestion: null,
      checks: [],
    };
    const out = resultRecord(
      signup(7),
      verdict,
      { topic: 't', partition: 0, offset: '7' },
      null,
      10,
      valid,
      serdes.encodeResult,
    );
    const framed = unframe(out.value as Buffer);
    expect(framed).toBeDefined();
    expect(JSON.parse(await client.schemaById(framed!.schemaId))).toMatchObject({ name: 'ValidationResult' });

    const downstream = new AvroRegistryCodec(
      new SchemaRegistryClient({ url: registry.url }),
      validationResultType,
      loadSchema('ValidationResult') as object,
    );
    expect(await downstream.decodeAsync(out.value as Buffer)).toMatchObject({
      eventId: 'evt-7',
      verdict: 'deliverable',
      flags: ['has_mx'],
    });
  });

  it('publishSignup with signupRegistryCodec writes wire format the processor decodes', async () => {
    const topic = uniqueName('registry-publish');
    await createTopics([topic], 1);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const registryCodec = signupRegistryCodec({ url: registry.url });
      await publishSignup(producer, topic, signup(8), { registry: registryCodec });
      const [r] = await consumeRecords([topic], 1);
      const framed = unframe(r!.message.value!);
      expect(framed).toBeDefined();
      const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
      expect(subjects).toContain(`${topic}-value`);
      const serdes = new RegistrySerdes(new SchemaRegistryClient({ url: registry.url }));
      await serdes.prefetch([r!.message]);
      expect(decodeSignup(r!.message.value, r!.message.headers, rec(0), decodeOptions(serdes))).toEqual({
        ok: true,
        value: signup(8),
      });
    } finally {
      await producer.disconnect();
      await deleteTopics([topic]);
    }
  });

  it('is off unless SCHEMA_REGISTRY_URL is set, and refuses a URL that is not http(s)', () => {
    expect(RegistrySerdes.fromConfig(loadConfig({}))).toBeUndefined();
    expect(() => loadConfig({ SCHEMA_REGISTRY_URL: 'registry:8081' })).toThrow(/SCHEMA_REGISTRY_URL/);
  });
});
