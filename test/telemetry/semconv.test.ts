import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageKeyHasher, processSpanName, sendSpanName } from '../../src/telemetry/semconv.js';

describe('messaging semantic conventions', () => {
  it('names spans `{operation} {destination}` with the send and process operations', () => {
    expect(sendSpanName('signups.valid')).toBe('send signups.valid');
    expect(processSpanName('signups')).toBe('process signups');
  });

  it('puts a record key on spans as an HMAC with the deployment secret, not a plain hash', () => {
    const key = Buffer.from('user-42');
    const a = new MessageKeyHasher('deployment-secret');
    const token = a.hash(key);
    expect(token).toMatch(/^hmac-sha256:[0-9a-f]{16}$/);
    expect(token.slice('hmac-sha256:'.length)).toBe(
      createHmac('sha256', 'deployment-secret').update(key).digest('hex').slice(0, 16),
    );
    // Stable for one secret (replicas correlate), different for another, never the bare digest.
    expect(new MessageKeyHasher('deployment-secret').hash('user-42')).toBe(token);
    expect(new MessageKeyHasher('another-secret').hash(key)).not.toBe(token);
    expect(token).not.toContain(createHash('sha256').update(key).digest('hex').slice(0, 16));
    // Without a secret each process draws one: stable within it, unguessable outside.
    const random = new MessageKeyHasher(undefined);
    expect(random.hash(key)).toBe(random.hash(key));
    expect(random.hash(key)).not.toBe(new MessageKeyHasher(undefined).hash(key));
  });
});
