import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { loopbackProber, startRaw } from './smtp-servers.js';

/**
 * Probes pipelined on one connection (RFC 2920): when the server offers PIPELINING, the
 * next probe for the same address sends its RSET, MAIL and RCPT while the previous RCPT is
 * still being answered, so the server has them at hand and the provider's slot never waits
 * for a round trip. A scripted server answers the commands strictly in order, RCPT after
 * HOLD_MS (never, for local part `never`), and records what it had already received when
 * it answered each RCPT.
 */
const HOLD_MS = 60;
let dns: LocalDnsServer;
let server: Awaited<ReturnType<typeof startRaw>>;
/** Per connection: the commands in arrival order. */
const transcripts: string[][] = [];
/** Per RCPT answered: the recipient, and how many commands were already waiting behind it. */
const answered: { to: string; waiting: number }[] = [];

beforeAll(async () => {
  server = await startRaw('127.0.0.1', 0, (s: Socket) => {
    const transcript: string[] = [];
    transcripts.push(transcript);
    const queue: string[] = [];
    let busy = false;
    let buf = '';
    const next = () => {
      if (busy || s.destroyed) return;
      const line = queue.shift();
      if (line === undefined) return;
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      if (verb === 'QUIT') {
        s.end('221 bye\r\n');
        return;
      }
      if (verb !== 'RCPT') {
        s.write(verb === 'EHLO' ? '250-mx.pipe.test\r\n250 PIPELINING\r\n' : '250 ok\r\n');
        next();
        return;
      }
      const to = /<([^>]*)>/.exec(line)?.[1] ?? '';
      busy = true;
      // Held for good: nothing behind it is answered either.
      if (to.startsWith('never@')) return;
      setTimeout(() => {
        answered.push({ to, waiting: queue.length });
        busy = false;
        s.write(to.startsWith('nobody@') ? '550 5.1.1 no such user\r\n' : '250 ok\r\n');
        next();
      }, HOLD_MS);
    };
    s.write('220 mx.pipe.test ESMTP\r\n');
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        transcript.push(line);
        queue.push(line);
      }
      next();
    });
  });
  dns = await startLocalDnsServer({
    'mx.pipe.test': { a: ['127.0.0.1'] },
    'p.test': { mx: [{ exchange: 'mx.pipe.test', preference: 10 }] },
  });
});

afterAll(async () => {
  await server?.close();
  await dns?.close();
});

function prober(overrides: Parameters<typeof loopbackProber>[2] = {}) {
  return loopbackProber(server.port, dns.address, overrides);
}

const hosts = [{ exchange: 'mx.pipe.test', preference: 10 }];
const reset = () => {
  transcripts.length = 0;
  answered.length = 0;
};

describe('pipelined probes', () => {
  it("the next probe's commands are at the server before the previous RCPT is answered", async () => {
    reset();
    const p = prober();
    const never = new AbortController().signal;
    const locals = ['a1', 'nobody', 'a3', 'a4'];
    const answers = await Promise.all(locals.map((l) => p.probe(l, 'p.test', hosts, never, false)));
    expect(answers.map((a) => a.reason)).toEqual([null, 'mailbox_not_found', null, null]);
    // One connection (the limit), each probe its own transaction.
    expect(transcripts).toHaveLength(1);
    expect(transcripts[0]!.filter((l) => l === 'RSET')).toHaveLength(3);
    // Every RCPT but the last had the next probe's RSET, MAIL and RCPT waiting behind it.
    expect(answered.map((a) => a.waiting)).toEqual([3, 3, 3, 0]);
    p.close();
  });

  it('a probe pipelined behind one that its event ends is answered on a new connection', async () => {
    reset();
    const p = prober();
    const event = new AbortController();
    const stuck = p.probe('never', 'p.test', hosts, event.signal, false);
    const behind = p.probe('jane', 'p.test', hosts, new AbortController().signal, false);
    // Once the second probe's commands are out behind the first one's RCPT.
    await expect.poll(() => transcripts[0]?.filter((l) => l.startsWith('RCPT')).length ?? 0).toBe(2);
    event.abort();
    expect(await stuck).toMatchObject({ reason: 'timeout', detail: 'aborted' });
    expect(await behind).toMatchObject({ reason: null });
    expect(transcripts).toHaveLength(2);
    p.close();
  });

  it('a probe that may still ask whether the domain is catch-all keeps the connection until it has asked', async () => {
    reset();
    const p = prober({ catchAllCheck: true });
    const never = new AbortController().signal;
    const answers = await Promise.all(['c1', 'c2'].map((l) => p.probe(l, 'p.test', hosts, never, false)));
    expect(answers.map((a) => a.reason)).toEqual(['accept_all', 'accept_all']);
    const rcpts = transcripts[0]!.filter((l) => l.startsWith('RCPT') || l === 'RSET' || l.startsWith('MAIL'));
    // The random recipient follows the first probe's own RCPT, in its own transaction;
    // the second probe uses the cached answer and asks nothing more.
    expect(rcpts[0]).toMatch(/^MAIL FROM/);
    expect(rcpts[1]).toBe('RCPT TO:<c1@p.test>');
    expect(rcpts[2]).toMatch(/^RCPT TO:<[0-9a-f]{24}@p\.test>$/);
    expect(rcpts.slice(3)).toEqual(['RSET', 'MAIL FROM:<>', 'RCPT TO:<c2@p.test>']);
    p.close();
  });
});
