import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { parseSmtpProxy } from '../../src/validation/smtp.js';
import { createValidator } from '../../src/validation/validator.js';
import { type Counted, rcptError, startSmtp } from './smtp-servers.js';

/**
 * SMTP_PROXY through a real SOCKS5 server with username/password authentication
 * (microsocks, installed by scripts/install-socks-server.sh), on loopback. The proxy binds
 * its outgoing connections to 127.0.0.9, so the SMTP server can tell them from direct ones.
 */
const USER = 'probe';
const PASSWORD = 's3cret:pw@x';
let proxy: ChildProcess;
let proxyPort: number;
let smtp: Counted;
const remotes: string[] = [];
let dns: LocalDnsServer;
const signal = new AbortController().signal;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`proxy did not listen on ${port}`);
}

beforeAll(async () => {
  try {
    execFileSync('sh', ['-c', 'command -v microsocks'], { stdio: 'pipe' });
  } catch {
    throw new Error('microsocks is missing: run scripts/install-socks-server.sh');
  }
  smtp = await startSmtp(
    '127.0.0.1',
    0,
    (a) => (a.startsWith('jane@') ? undefined : rcptError(550, '5.1.1 No such user')),
    {
      onConnect(session, callback) {
        remotes.push(session.remoteAddress);
        smtp.connections++;
        callback();
      },
    },
  );
  proxyPort = await freePort();
  proxy = spawn(
    'microsocks',
    ['-i', '127.0.0.1', '-p', String(proxyPort), '-u', USER, '-P', PASSWORD, '-b', '127.0.0.9'],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(proxyPort);
  dns = await startLocalDnsServer({
    'proxied.test': { mx: [{ exchange: 'mx.proxied.test', preference: 10 }] },
    // Known to the test resolver only: the proxy could not resolve the name, only the address.
    'mx.proxied.test': { a: ['127.0.0.1'] },
  });
});

afterAll(async () => {
  proxy?.kill('SIGTERM');
  await smtp?.close();
  await dns?.close();
});

function validator(proxyUrl: string, env: Record<string, string> = {}) {
  return createValidator(
    loadConfig(
      {},
      {
        DNS_SERVERS: dns.address,
        CHECK_SMTP: 'true',
        SMTP_PORT: String(smtp.port),
        SMTP_TIMEOUT_MS: '2000',
        SMTP_ALLOW_PRIVATE_NETWORKS: 'true',
        SMTP_PROXY: proxyUrl,
        ...env,
      },
    ).validation,
  );
}

const url = (user: string, password: string) =>
  `socks5://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${proxyPort}`;

describe('SMTP through a SOCKS5 proxy', () => {
  it('the SMTP server sees the proxy, which was asked for the pinned address, with credentials', async () => {
    remotes.length = 0;
    const v = validator(url(USER, PASSWORD));
    expect(await v.validate('jane@proxied.test', { signal })).toMatchObject({ verdict: 'deliverable' });
    expect(await v.validate('gone@proxied.test', { signal })).toMatchObject({ reason: 'mailbox_not_found' });
    expect(remotes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(remotes)).toEqual(new Set(['127.0.0.9']));
    await v.close();
  });

  it('wrong credentials: unknown (proxy), and no connection reaches the SMTP server', async () => {
    remotes.length = 0;
    const v = validator(url(USER, 'wrong'));
    const verdict = await v.validate('jane@proxied.test', { signal });
    expect(verdict.verdict).toBe('unknown');
    expect(verdict.checks.find((c) => c.name === 'smtp')).toMatchObject({
      reason: 'smtp_unavailable',
      detail: 'proxy',
    });
    expect(JSON.stringify(verdict)).not.toContain('wrong');
    expect(remotes).toEqual([]);
  });

  it('the proxy does not lift the private-address rule', async () => {
    remotes.length = 0;
    const v = validator(url(USER, PASSWORD), { SMTP_ALLOW_PRIVATE_NETWORKS: 'false' });
    const verdict = await v.validate('jane@proxied.test', { signal });
    expect(verdict.checks.find((c) => c.name === 'smtp')).toMatchObject({ detail: 'mx_not_public' });
    expect(remotes).toEqual([]);
  });

  it('SMTP_PROXY is a secret: a bad one is refused at start without echoing it', () => {
    expect(() => loadConfig({}, { SMTP_PROXY: 'http://user:hunter2@proxy:8080' })).toThrow(/SMTP_PROXY=\(secret\)/);
    try {
      loadConfig({}, { SMTP_PROXY: 'http://user:hunter2@proxy:8080' });
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
    expect(parseSmtpProxy('socks5://a%40b:p%3Aw@[::1]:1080')).toEqual({
      host: '::1',
      port: 1080,
      userId: 'a@b',
      password: 'p:w',
    });
  });
});
