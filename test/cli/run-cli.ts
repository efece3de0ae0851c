import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real CLI, run from the sources (a dist/ may be stale). */
export const bin = fileURLToPath(new URL('../../bin/email-flow-validator.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A clean environment: none of the caller's settings leak in (the test runner's
 * KAFKA_BROKERS, say), only what a test passes.
 */
export function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { EFV_FROM_SOURCE: '1', HTTP_PORT: '-1', LOG_LEVEL: 'warn' };
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) base[k] = process.env[k]!;
  return { ...base, ...env };
}

/** Runs the CLI to its end; `timeoutMs` bounds a hang (the child is killed and the result says so). */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: cliEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, opts.input, opts.timeoutMs ?? 60_000);
}

/** `input`: written to stdin, which is then closed; `null` leaves stdin open for the caller. */
export function collect(child: ChildProcess, input: string | undefined | null, timeoutMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  if (typeof input === 'string') child.stdin?.end(input);
  else if (input === undefined) child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON lines of a pino stream (other lines skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs the CLI on a terminal (`script` gives it one), returning what the terminal showed and the exit code. */
export async function onTerminal(args: string[], env: Record<string, string>): Promise<string> {
  return (await onTerminalWithCode(args, env)).stdout;
}

export async function onTerminalWithCode(args: string[], env: Record<string, string>): Promise<CliResult> {
  const command = [process.execPath, bin, ...args].join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env: { ...cliEnv(env), TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, null, 60_000);
}
