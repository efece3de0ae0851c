/**
 * Locates the real `helm` and Compose binaries that scripts/install-deploy-tools.sh builds
 * and caches, and runs them. A missing binary is a test failure with the command to fix it,
 * never a skip: a chart or compose file nobody checked is what these tests exist to prevent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const installer = join(repoRoot, 'scripts', 'install-deploy-tools.sh');

const overrides = { helm: 'HELM_BIN', 'docker-compose': 'COMPOSE_BIN', 'kube-check': 'KUBE_CHECK_BIN' } as const;
const installerArg = { helm: 'helm', 'docker-compose': 'compose', 'kube-check': 'kube-check' } as const;
export type Tool = keyof typeof overrides;

export function toolPath(tool: Tool): string {
  const override = process.env[overrides[tool]];
  const dir = execFileSync('bash', [installer, '--print-dir'], { encoding: 'utf8' }).trim();
  const path = override || join(dir, tool);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${tool} not found at ${path}. Install it with: bash scripts/install-deploy-tools.sh ` +
        `${installerArg[tool]} (or set ${overrides[tool]})`,
    );
  }
  return path;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(tool: Tool, args: string[], cwd = repoRoot, input?: string): RunResult {
  const res = spawnSync(toolPath(tool), args, {
    cwd,
    input,
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
    // No daemon, no user config: only the files under test decide the outcome.
    env: { ...process.env, DOCKER_CONFIG: join(repoRoot, 'test', 'deploy', 'fixtures', 'docker-config') },
  });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Runs and throws with the tool's own output unless it exits 0. */
export function runOk(tool: Tool, args: string[], cwd = repoRoot, input?: string): string {
  const res = run(tool, args, cwd, input);
  if (res.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${res.status}\n${res.stderr}\n${res.stdout}`);
  }
  return res.stdout;
}
