import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = '2.6.13.Final';

export interface RegistryServer {
  /** Base URL of the Confluent-compatible API, as SCHEMA_REGISTRY_URL takes it. */
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real Apicurio Registry (installed from Maven Central by
 * scripts/install-schema-registry.sh, cached) on a loopback port and waits until its
 * Confluent-compatible API answers. Stopped by its own pid.
 */
export async function startRegistry(timeoutMs = 180_000): Promise<RegistryServer> {
  const dir = execFileSync('bash', [join(root, 'scripts/install-schema-registry.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, APICURIO_VERSION: VERSION },
  })
    .trim()
    .split('\n')
    .pop()!;
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'efv-registry-'));
  const log = createWriteStream(join(logDir, 'registry.log'));
  const child = spawn(
    process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java',
    [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      // Nothing here may leave the machine.
      '-Dquarkus.analytics.disabled=true',
      '-Dregistry.ui.features.readOnly=true',
      '-jar',
      join(dir, `apicurio-registry-app-${VERSION}-runner.jar`),
    ],
    { cwd: logDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the schema registry exited during start-up; see ${join(logDir, 'registry.log')}`);
    const up = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (up) return { url, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`the schema registry did not answer within ${timeoutMs} ms; see ${join(logDir, 'registry.log')}`);
}
