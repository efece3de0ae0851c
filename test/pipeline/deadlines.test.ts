import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/pipeline/deadlines.js';

describe('Deadlines', () => {
  it('answers null for work past its deadline at the next sweep, and only for that work', async () => {
    let now = 1000;
    const d = new Deadlines(100, () => now);
    const never = new Promise<string>(() => {});
    let late: string | null | undefined;
    void d.race(never).then((v) => {
      late = v;
    });
    now = 1050;
    let fresh: string | null | undefined;
    void d.race(never).then((v) => {
      fresh = v;
    });
    expect(d.size()).toBe(2);
    now = 1099;
    d.sweep();
    await Promise.resolve();
    expect(late).toBeUndefined();
    now = 1100;
    d.sweep();
    await new Promise((r) => setImmediate(r));
    expect(late).toBeNull();
    expect(fresh).toBeUndefined();
    expect(d.size()).toBe(1);
    now = 1150;
    d.sweep();
    await new Promise((r) => setImmediate(r));
    expect(fresh).toBeNull();
    expect(d.size()).toBe(0);
  });

  it('passes a value or a rejection through and forgets the entry', async () => {
    let now = 0;
    const d = new Deadlines(10, () => now);
    await expect(d.race(Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(d.race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(d.size()).toBe(0);
    now = 1_000;
    d.sweep(); // nothing left to answer
    expect(d.size()).toBe(0);
  });
});
