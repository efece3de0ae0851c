import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRecord,
  installRecordEncoder,
  kafkajsRecordEncoder,
  type RecordInput,
} from '../../src/kafka/record-encoder.js';

const require = createRequire(import.meta.url);
const original = kafkajsRecordEncoder();

const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
const text = fc.string({ unit: 'grapheme', maxLength: 200 });
const keyOrValue = fc.oneof(bytes, text, fc.constant(null));
const headerValue = fc.oneof(bytes, text);
const record: fc.Arbitrary<RecordInput> = fc.record({
  offsetDelta: fc.integer({ min: 0, max: 100_000 }),
  timestampDelta: fc.oneof(fc.integer({ min: -1_000_000, max: 10_000_000 }), fc.constant(0)),
  key: keyOrValue,
  value: keyOrValue,
  headers: fc.dictionary(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })),
    { maxKeys: 6 },
  ),
});

describe('record encoder', () => {
  it('writes the bytes KafkaJS 2.2.4 writes, for any key, value and headers', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(encodeRecord(r).buffer.equals(original(r).buffer)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches KafkaJS at the varint edges (lengths, deltas) and for a result record', () => {
    const edges = [0, 1, 63, 64, 127, 128, 8191, 8192, 16_383, 16_384, 1_048_575, 1_048_576];
    for (const n of edges) {
      const r: RecordInput = {
        offsetDelta: n,
        timestampDelta: n * 1000,
        key: Buffer.alloc(Math.min(n, 70_000), 7),
        value: 'x'.repeat(Math.min(n, 70_000)),
        headers: { 'content-type': 'application/vnd.efv.result+avro', traceparent: Buffer.from('00-ab-cd-01') },
      };
      expect(encodeRecord(r).buffer.equals(original(r).buffer), `at ${n}`).toBe(true);
    }
    for (const ts of [-(2 ** 40), 2 ** 45, 2 ** 52, -(2 ** 53)]) {
      const r: RecordInput = { timestampDelta: ts, key: null, value: Buffer.from('v') };
      expect(encodeRecord(r).buffer.equals(original(r).buffer), `timestamp delta ${ts}`).toBe(true);
    }
  });

  it('encodes a frozen header object once, and never caches one that can change', () => {
    const frozen = Object.freeze({ 'content-type': 'application/x', 'efv-verdict': 'risky' });
    for (let i = 0; i < 3; i++) {
      const r: RecordInput = { offsetDelta: i, key: `k${i}`, value: Buffer.from([i]), headers: frozen };
      expect(encodeRecord(r).buffer.equals(original(r).buffer)).toBe(true);
    }
    const open: Record<string, string> = { a: '1' };
    encodeRecord({ headers: open });
    open.a = '22';
    open.b = '3';
    expect(encodeRecord({ headers: open }).buffer.equals(original({ headers: open }).buffer)).toBe(true);
    // Frozen, but a Buffer value's bytes can still change.
    const bytes = Buffer.from('abc');
    const withBuffer = Object.freeze({ h: bytes });
    encodeRecord({ headers: withBuffer });
    bytes[0] = 0x7a;
    expect(encodeRecord({ headers: withBuffer }).buffer.equals(original({ headers: withBuffer }).buffer)).toBe(true);
  });

  it('is what KafkaJS producers load once installed', () => {
    const outcome = installRecordEncoder().outcome;
    expect(['installed', 'already']).toContain(outcome);
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(encodeRecord);
    expect(installRecordEncoder().outcome).toBe('already');
  });
});
