import { Resolver } from 'node:dns/promises';
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlowSmtp, startSlowSmtp } from '../../bench/smtp-server.js';
import { sampleDnsZones } from '../../src/sim/sample-zones.js';

// The benchmark's mail provider in its own process, spoken to over SMTP, and what it reports
// of itself. Only counts, lower bounds and identities are asserted, never how late an answer may be.
describe('slow mail provider', () => {
  const latencyMs = 25;
  let smtp: SlowSmtp;

  beforeAll(async () => {
    smtp = await startSlowSmtp(latencyMs);
  });
  afterAll(async () => {
    await smtp?.close();
  });

  /** One SMTP conversation: the replies to each line sent, in order; `early`: the first line goes out before the greeting. */
  const converse = async (host: string, lines: string[], early = false): Promise<string[]> => {
    const socket: Socket = createConnection({ host, port: smtp.port });
    if (early) socket.write(`${lines.shift()}\r\n`);
    let buffer = '';
    const waiting: ((line: string) => void)[] = [];
    const ready: string[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        // A multi-line reply (EHLO) ends at its line with a space after the code.
        if (/^\d{3}-/.test(line)) continue;
        const w = waiting.shift();
        if (w) w(line);
        else ready.push(line);
      }
    });
    const reply = () =>
      new Promise<string>((resolve) => {
        const r = ready.shift();
        if (r !== undefined) resolve(r);
        else waiting.push(resolve);
      });
    const replies = [await reply()];
    if (early) replies.push(await reply());
    for (const line of lines) {
      socket.write(`${line}\r\n`);
      replies.push(await reply());
    }
    socket.end();
    await new Promise((r) => socket.once('close', r));
    return replies;
  };

  it('answers RCPT after its latency, from its own process, and counts what it saw', async () => {
    smtp.resetStats();
    const rcpts = ['a@one.test', 'b@one.test', 'c@one.test'].map((a) => `RCPT TO:<${a}>`);
    const replies = await converse('127.0.0.2', ['EHLO bench.test', 'MAIL FROM:<>', ...rcpts, 'QUIT']);
    expect(replies.map((r) => r.slice(0, 3))).toEqual(['220', '250', '250', '250', '250', '250', '221']);
    await converse('127.0.0.3', ['EHLO bench.test', 'MAIL FROM:<>', 'RCPT TO:<d@two.test>', 'QUIT']);
    // Its reports come every 100 ms: wait for the one with all four answers.
    await expect.poll(() => smtp.requests(), { timeout: 5000 }).toBe(4);
    const s = smtp.stats();
    expect(s.rcpts).toBe(4);
    expect(s.connections).toBe(2);
    expect(s.mails).toBe(2);
    expect(s.maxSessions).toBe(1);
    expect(s.maxRcptsHeld).toBe(1);
    expect(s.meanRcptsHeld).toBeGreaterThan(0);
    expect(s.meanRcptsHeld).toBeLessThanOrEqual(1);
    // Never answered before its latency was up.
    expect(s.holdMs.mean).toBeGreaterThanOrEqual(latencyMs);
    expect(s.holdMs.p50).toBeGreaterThanOrEqual(latencyMs);
    expect(s.holdMs.p99).toBeGreaterThanOrEqual(s.holdMs.p50);
    expect(s.meanLateMs).toBeGreaterThanOrEqual(0);
    expect(s.seconds).toBeGreaterThan(0);

    // A reset starts a new window; the answers so far still count in requests().
    smtp.resetStats();
    const after = smtp.stats();
    expect(after.rcpts).toBe(0);
    expect(after.connections).toBe(0);
    expect(smtp.requests()).toBe(4);
  });

  it('greets at once: a client that talks before the greeting is served, not turned away', async () => {
    // smtp-server's own early-talker check answers 421 to anything sent in its first 100 ms.
    const replies = await converse('127.0.0.2', ['EHLO bench.test', 'QUIT'], true);
    expect(replies.map((r) => r.slice(0, 3))).toEqual(['220', '250', '221']);
  });

  it('serves the sample domains with their MX at the provider on its DNS server', async () => {
    const resolver = new Resolver();
    resolver.setServers([smtp.dns]);
    const withMx = Object.entries(sampleDnsZones()).find(([, z]) => (z.mx ?? []).some((m) => m.exchange !== '.'))!;
    const [mx] = await resolver.resolveMx(withMx[0]);
    expect(mx!.exchange).toMatch(new RegExp(`^mx[12]\\.${smtp.provider.replace('.', '\\.')}$`));
    expect(['127.0.0.2', '127.0.0.3']).toContain((await resolver.resolve4(mx!.exchange))[0]);
  });
});
