import avro from 'avsc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema, type SignupEvent, validationResultType } from '../../src/contract/schemas.js';
import { SchemaRegistryClient } from '../../src/schema-registry/client.js';
import { AvroRegistryCodec } from '../../src/schema-registry/codec.js';
import { unframe } from '../../src/schema-registry/wire-format.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw, startTestPipeline, type TestPipeline } from '../helpers/processor.js';
import { type RegistryServer, startRegistry } from './apicurio.js';

/** The processor wired to a real registry: evolved wire-format input in, wire-format results out. */
let registry: RegistryServer;
beforeAll(async () => {
  registry = await startRegistry();
}, 240_000);
afterAll(async () => {
  await registry?.stop();
});
let pipeline: TestPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

const ours = loadSchema('SignupEvent') as { fields: object[] } & Record<string, unknown>;
const evolved = { ...ours, fields: [...ours.fields, { name: 'referrer', type: ['null', 'string'], default: null }] };

describe('processor with SCHEMA_REGISTRY_URL (real registry, real broker)', () => {
  it('reads evolved wire-format input and writes wire-format results under <topic>-value', async () => {
    pipeline = await startTestPipeline({ partitions: 1, env: { SCHEMA_REGISTRY_URL: registry.url } });
    const t = pipeline.topics;
    const producerCodec = new AvroRegistryCodec<SignupEvent & { referrer: string | null }>(
      new SchemaRegistryClient({ url: registry.url }),
      avro.Type.forSchema(evolved as avro.Schema),
      evolved,
    );
    const event = (n: number, email: string) => ({
      eventId: `evt-${n}`,
      userId: `user-${n}`,
      email,
      occurredAt: 1_764_300_000_000,
      source: null,
      locale: null,
      referrer: 'ad',
    });
    await produceRaw(t.input, [
      { key: 'user-1', value: await producerCodec.encodeAsync(t.input, event(1, 'ann@example.com')) },
      { key: 'user-2', value: await producerCodec.encodeAsync(t.input, event(2, 'bad@@example.com')) },
      // Framed with an id the registry never issued.
      { key: 'user-3', value: Buffer.from([0, 0x3b, 0x9a, 0xc9, 0xff, 0x02]) },
    ]);
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], 3);
    expect(out).toHaveLength(3);
    const consumer = new AvroRegistryCodec(
      new SchemaRegistryClient({ url: registry.url }),
      validationResultType,
      loadSchema('ValidationResult') as object,
    );
    const byTopic = Object.fromEntries(out.map((r) => [r.topic, r]));
    expect(unframe(byTopic[t.valid]!.message.value!)).toBeDefined();
    expect(await consumer.decodeAsync(byTopic[t.valid]!.message.value!)).toMatchObject({
      eventId: 'evt-1',
      verdict: 'deliverable',
    });
    expect(await consumer.decodeAsync(byTopic[t.invalid]!.message.value!)).toMatchObject({
      eventId: 'evt-2',
      verdict: 'undeliverable',
    });
    expect(byTopic[t.deadLetter]!.message.headers?.['efv-error-code']?.toString()).toBe('AVRO_DECODE');
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
    expect(subjects).toEqual(expect.arrayContaining([`${t.valid}-value`, `${t.invalid}-value`, `${t.input}-value`]));
  });
});
