import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { loopbackProber, startRaw } from './smtp-servers.js';

/**
 * A provider's slot is free once its connection is gone, not when QUIT is sent: the server
 * here answers QUIT but closes only `LINGER_MS` later (as a loaded server may), and counts
 * connections from accept to the client's FIN (or the close). It must never see more than
 * the provider's limit, however long a closing connection lingers.
 */
const LINGER_MS = 200;
let dns: LocalDnsServer;
let server: Awaited<ReturnType<typeof startRaw>>;
const seen = { open: 0, maxOpen: 0 };

beforeAll(async () => {
  server = await startRaw('127.0.0.1', 0, (s: Socket) => {
    seen.open++;
    seen.maxOpen = Math.max(seen.maxOpen, seen.open);
    let counted = true;
    const gone = () => {
      if (counted) seen.open--;
      counted = false;
    };
    s.once('end', gone);
    s.once('close', gone);
    s.write('220 mx.slots.test ESMTP\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const verb = buf.slice(0, nl).trim().split(/[ :]/)[0]!.toUpperCase();
        buf = buf.slice(nl + 1);
        if (verb === 'QUIT') {
          s.write('221 bye\r\n');
          setTimeout(() => s.end(), LINGER_MS);
        } else s.write(verb === 'EHLO' ? '250-mx.slots.test\r\n250 PIPELINING\r\n' : '250 ok\r\n');
      }
    });
    // Half-closed by the client: this side stays open until the linger is over.
    s.allowHalfOpen = true;
  });
  const zones: Record<string, { mx?: { exchange: string; preference: number }[]; a?: string[] }> = {
    'mx.slots.test': { a: ['127.0.0.1'] },
  };
  for (let i = 0; i < 4; i++) zones[`s${i}.test`] = { mx: [{ exchange: 'mx.slots.test', preference: 10 }] };
  dns = await startLocalDnsServer(zones);
});

afterAll(async () => {
  await server?.close();
  await dns?.close();
});

describe('provider slots', () => {
  it('a connection that is closing still holds its slot until it is gone', async () => {
    const p = loopbackProber(server.port, dns.address, {
      // Every probe retires its connection: QUIT, then the next one may connect.
      rcptsPerConnection: 1,
    });
    const never = new AbortController().signal;
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        p.probe('jane', `s${i}.test`, [{ exchange: 'mx.slots.test', preference: 10 }], never, false),
      ),
    );
    expect(answers.map((a) => a.reason)).toEqual([null, null, null, null]);
    expect(server.connections).toBe(4);
    expect(seen.maxOpen).toBe(1);
    p.close();
  });
});
