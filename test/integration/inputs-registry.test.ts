/**
 * Hostile Schema Registry input (issue 13), against the real registry the suite runs
 * (Apicurio's Confluent-compatible API): values naming 20,000 ids nobody registered cost a
 * bounded number of registry requests and cache entries, and a writer schema that would make
 * decoding spin (an array of nulls, with a 9-byte block count) is refused as AVRO_DECODE.
 */
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema, type SignupEvent, signupEventType } from '../../src/contract/schemas.js';
import type { ProcessorError } from '../../src/errors.js';
import { SchemaRegistryClient } from '../../src/schema-registry/client.js';
import { AvroRegistryCodec, spinningPart } from '../../src/schema-registry/codec.js';
import { frame, valueSubject } from '../../src/schema-registry/wire-format.js';
import { uniqueName } from '../helpers/kafka.js';
import { type RegistryServer, startRegistry } from '../schema-registry/apicurio.js';

const ours = loadSchema('SignupEvent') as { fields: object[] } & Record<string, unknown>;
const spinning = {
  ...ours,
  fields: [...ours.fields, { name: 'nothing', type: { type: 'array', items: 'null' }, default: [] }],
};

describe('writer schemas that make decoding spin', () => {
  it('are found wherever the zero-size items sit', () => {
    const t = (s: unknown) => avro.Type.forSchema(s as avro.Schema);
    expect(spinningPart(t(spinning))).toMatch(/nothing: array of zero-size items/);
    expect(spinningPart(t({ type: 'map', values: { type: 'fixed', name: 'F', size: 0 } }))).toMatch(/map/);
    const empty = { type: 'record', name: 'E', fields: [{ name: 'n', type: 'null' }] };
    expect(
      spinningPart(
        t({ type: 'record', name: 'R', fields: [{ name: 'a', type: ['null', { type: 'array', items: empty }] }] }),
      ),
    ).toMatch(/a: array/);
    expect(spinningPart(t(ours))).toBeUndefined();
    expect(spinningPart(t({ type: 'array', items: ['null', 'string'] }))).toBeUndefined();
    // A recursive record terminates (a union), so it is not zero-size.
    expect(
      spinningPart(t({ type: 'record', name: 'L', fields: [{ name: 'next', type: ['null', 'L'] }] })),
    ).toBeUndefined();
  });
});

let registry: RegistryServer;
let client: SchemaRegistryClient;
beforeAll(async () => {
  registry = await startRegistry();
  client = new SchemaRegistryClient({ url: registry.url });
}, 240_000);
afterAll(async () => {
  await registry?.stop();
});

const event: SignupEvent = {
  eventId: 'e1',
  userId: 'u1',
  email: 'a@example.org',
  occurredAt: 1_764_300_000_000,
  source: 'web',
  locale: null,
};

describe('registry lookups from hostile input', () => {
  it('costs a bounded number of requests and entries for 20,000 unknown ids', async () => {
    const subject = valueSubject(uniqueName('signups'));
    const known = await client.register(subject, ours);
    const codec = new AvroRegistryCodec<SignupEvent>(client, signupEventType, ours, { subject, maxEntries: 500 });
    const body = signupEventType.toBuffer(event);
    const values = Array.from({ length: 20_000 }, (_, i) => frame(1_000_000 + i, body));
    // Four fetches of 5,000 records each, as four batches would bring them.
    for (let i = 0; i < values.length; i += 5000) await codec.prefetch(values.slice(i, i + 5000));
    // One read of the subject per batch (at most one a second), no GET per unknown id.
    expect(codec.requests).toBeLessThanOrEqual(4);
    expect(codec.cachedSchemas()).toBeLessThanOrEqual(500);
    const r = codec.decode(values[19_999]!);
    expect(r?.ok).toBe(false);
    expect((r as { error: ProcessorError }).error.code).toBe('AVRO_DECODE');
    // The id registered under the subject still decodes.
    await codec.prefetch([frame(known, body)]);
    expect(codec.decode(frame(known, body))).toEqual({ ok: true, value: event });
  }, 120_000);

  it('reads a schema version registered after its subject was last read', async () => {
    const subject = valueSubject(uniqueName('signups'));
    await client.register(subject, ours);
    const codec = new AvroRegistryCodec<SignupEvent>(client, signupEventType, ours, { subject });
    const body = signupEventType.toBuffer(event);
    await codec.prefetch([frame(999_999_999, body)]);
    // A producer registers its next version and writes with it at once.
    const evolved = {
      ...ours,
      fields: [...ours.fields, { name: 'referrer', type: ['null', 'string'], default: null }],
    };
    const next = await client.register(subject, evolved);
    const value = frame(next, avro.Type.forSchema(evolved as avro.Schema).toBuffer({ ...event, referrer: null }));
    await codec.prefetch([value]);
    expect(codec.decode(value)).toEqual({ ok: true, value: event });
  }, 60_000);

  it('refuses a writer schema with an array of nulls as AVRO_DECODE, without decoding', async () => {
    const subject = valueSubject(uniqueName('signups'));
    const id = await client.register(subject, spinning);
    const codec = new AvroRegistryCodec<SignupEvent>(client, signupEventType, ours, { subject });
    // A valid event, then a block count of 2^62 items of null: 9 bytes that would loop forever.
    const writer = avro.Type.forSchema(spinning as avro.Schema);
    const head = writer.toBuffer({ ...event, nothing: [] }).subarray(0, -1);
    const count = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    const value = frame(id, Buffer.concat([head, count]));
    await codec.prefetch([value]);
    const r = codec.decode(value);
    expect(r?.ok).toBe(false);
    expect((r as { error: ProcessorError }).error).toMatchObject({ code: 'AVRO_DECODE' });
    expect((r as { error: ProcessorError }).error.message).toMatch(/array of zero-size items/);
  }, 60_000);
});
