import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import type { OutgoingRecord } from '../../src/pipeline/publish/batch-publisher.js';
import { batchBytesOf, isTooLarge, MessageSizeGuard } from '../../src/pipeline/publish/message-size.js';

const source = { topic: 'signups', partition: 2, offset: '77' };

describe('records kept under the topic limit', () => {
  it('replaces a record that cannot fit by a capped dead letter keeping coordinates, sizes and hashes', () => {
    const options: { maxBytes?: number } = {};
    const guard = new MessageSizeGuard('signups.dlq', options);
    guard.setLimits(
      new Map([
        ['signups.valid', 100_000],
        ['signups.dlq', 1_048_588],
      ]),
    );
    expect(options.maxBytes).toBeLessThan(100_000);
    const small: OutgoingRecord = { topic: 'signups.valid', source, key: 'k', value: Buffer.alloc(1000), headers: {} };
    expect(guard.fit(small)).toBe(small);
    const big: OutgoingRecord = {
      topic: 'signups.valid',
      source,
      key: 'x'.repeat(60_000),
      value: Buffer.alloc(50_000, 1),
      headers: { 'content-type': 'application/vnd.efv.result+avro', [DLQ_HEADERS.code]: 'KEY_TOO_LONG' },
    };
    const capped = guard.fit(big);
    expect(capped.topic).toBe('signups.dlq');
    expect(capped.key).toBeNull();
    expect(capped.value).toBeNull();
    expect(batchBytesOf(capped)).toBeLessThan(2000);
    expect(capped.headers).toMatchObject({
      [DLQ_HEADERS.code]: 'RESULT_TOO_LARGE',
      [DLQ_HEADERS.originalErrorCode]: 'KEY_TOO_LONG',
      [DLQ_HEADERS.originalTopic]: 'signups.valid',
      [DLQ_HEADERS.topic]: 'signups',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '77',
      [DLQ_HEADERS.keyBytes]: '60000',
      [DLQ_HEADERS.valueBytes]: '50000',
    });
    expect(capped.headers[DLQ_HEADERS.valueSha256]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('counts a record as the broker does, with room for the batch header', () => {
    const r: OutgoingRecord = { topic: 't', key: 'abc', value: Buffer.alloc(10), headers: { h: 'é' } };
    expect(batchBytesOf(r)).toBeGreaterThanOrEqual(61 + 3 + 10 + 1 + 2);
  });

  it('treats MESSAGE_TOO_LARGE as a size problem, other errors not', () => {
    expect(isTooLarge({ type: 'MESSAGE_TOO_LARGE' })).toBe(true);
    expect(isTooLarge({ type: 'NOT_LEADER_FOR_PARTITION' })).toBe(false);
    expect(isTooLarge(new Error('x'))).toBe(false);
  });
});
