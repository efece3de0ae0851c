/**
 * No crash loop from a single record (issue 13): a verdict whose result cannot be encoded
 * (here a check duration that is not a number, which Avro's long refuses) is dead-lettered
 * as VALIDATION_ERROR, and the processor goes on with the next record. Before, the encoder's
 * throw stopped the processor, and the restart met the same record.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import type { Validator, Verdict } from '../../src/validation/types.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

let pipeline: TestPipeline | undefined;
afterAll(async () => {
  await pipeline?.stop();
});

const verdict = (email: string): Verdict => ({
  verdict: 'deliverable',
  reason: null,
  flags: [],
  normalized: email,
  suggestion: null,
  checks: [
    {
      name: 'syntax',
      status: 'pass',
      reason: null,
      detail: null,
      durationMs: email.startsWith('broken') ? Number.NaN : 0.1,
    },
  ] as Verdict['checks'],
});

describe('a result that cannot be encoded', () => {
  it('is dead-lettered and the processor goes on', async () => {
    const validator: Validator = { validate: async (email) => verdict(email), validateNow: (email) => verdict(email) };
    pipeline = await startTestPipeline({ partitions: 1, validator });
    await produceRaw(pipeline.topics.input, [
      { key: 'a', value: JSON.stringify({ email: 'broken@signup-mail.net' }) },
      { key: 'b', value: JSON.stringify({ email: 'fine@signup-mail.net' }) },
    ]);
    const out = await consumeRecords([pipeline.topics.valid, pipeline.topics.deadLetter], 2, 30_000);
    expect(out.map((r) => r.topic).sort()).toEqual([pipeline.topics.deadLetter, pipeline.topics.valid].sort());
    const dl = out.find((r) => r.topic === pipeline!.topics.deadLetter)!;
    expect(dl.message.headers?.[DLQ_HEADERS.code]?.toString()).toBe('VALIDATION_ERROR');
    expect(dl.message.headers?.[DLQ_HEADERS.message]?.toString()).toMatch(/could not be encoded/);
    expect(pipeline.processor.failure).toBeUndefined();
  }, 60_000);
});
