import { describe, expect, it } from 'vitest';
import { batchLength } from '../../../src/pipeline/publish/batcher.js';

describe('batchLength', () => {
  const rec = (bytes: number) => ({ record: { topic: 't', key: null, value: Buffer.alloc(bytes), headers: {} } });
  it('cuts a batch before it exceeds the request size, and always takes at least one record', () => {
    expect(batchLength([rec(10), rec(10), rec(10)], 1000)).toBe(3);
    expect(batchLength([rec(10), rec(10), rec(10)], 2)).toBe(2);
    expect(batchLength([rec(400_000), rec(400_000), rec(400_000)], 1000)).toBe(1);
    expect(batchLength([rec(2_000_000), rec(10)], 1000)).toBe(1);
  });
});
