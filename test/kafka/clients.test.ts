import { describe, expect, it } from 'vitest';
import { producerConfig } from '../../src/kafka/clients.js';

describe('producerConfig', () => {
  it('uses the idempotent producer only for transactions, and bounded retries always', () => {
    const plain = producerConfig();
    expect(plain.idempotent).toBe(false);
    expect(plain.transactionalId).toBeUndefined();
    expect(plain.maxInFlightRequests).toBe(1);
    expect(plain.allowAutoTopicCreation).toBe(false);
    expect(plain.retry?.retries).toBeLessThanOrEqual(10);
    const transactional = producerConfig({ transactionalId: 'efv-0' });
    expect(transactional).toMatchObject({ idempotent: true, transactionalId: 'efv-0' });
    expect(transactional.retry?.retries).toBeLessThanOrEqual(10);
  });
});
