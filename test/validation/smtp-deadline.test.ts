import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { probeDeadline } from '../../src/validation/probe/connect.js';
import { ProbeFailure } from '../../src/validation/probe/conversation.js';

describe('probeDeadline', () => {
  it("ends the probe when the event's signal fires, with the event's reason", () => {
    const event = new AbortController();
    const d = probeDeadline(event.signal, 60_000);
    const why = new Error('partition revoked');
    event.abort(why);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe(why);
    expect(d.kind()).toBe('aborted');
    d.dispose();
  });

  it('ends the probe at its own deadline', async () => {
    const event = new AbortController();
    const d = probeDeadline(event.signal, 1);
    await new Promise((resolve) => d.signal.addEventListener('abort', resolve, { once: true }));
    expect(d.signal.reason).toBeInstanceOf(ProbeFailure);
    expect((d.signal.reason as ProbeFailure).kind).toBe('deadline');
    expect(d.kind()).toBe('deadline');
    expect(event.signal.aborted).toBe(false);
    d.dispose();
  });

  it('is aborted at once for an event already aborted', () => {
    const event = new AbortController();
    event.abort(new Error('gone'));
    const d = probeDeadline(event.signal, 60_000);
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });

  // The event's signal outlives the probe: once disposed, the probe is not tied to it any
  // more (AbortSignal.any kept it tied through WeakRefs, which young-generation GC keeps alive).
  it("leaves the event's signal as it found it once disposed", () => {
    const event = new AbortController();
    const before = getEventListeners(event.signal, 'abort').length;
    const d = probeDeadline(event.signal, 60_000);
    d.dispose();
    expect(getEventListeners(event.signal, 'abort').length).toBe(before);
    event.abort(new Error('later'));
    expect(d.signal.aborted).toBe(false);
  });
});
