/**
 * The image recipe. No Docker engine runs here, so the Dockerfile is parsed into its stages
 * and instructions and checked for what makes it a production image: multi-stage, production
 * dependencies only, non-root, SIGTERM reaching Node, and a build context that holds every
 * file the COPY instructions name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MALLOC_ENV, NODE_FLAGS } from '../../bin/node-flags.mjs';
import { repoRoot } from './tools.js';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile → global ARGs and stages; joins `\` continuations and drops comments. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line.startsWith('#') || line === '')) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (keyword === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ from: from!, name, instructions: [] });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [k, v = ''] = rest.split('=');
      args.set(k!, v);
    } else {
      stages.at(-1)?.instructions.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);
const stageNamed = (name: string) => dockerfile.stages.find((s) => s.name === name);

describe('Dockerfile', () => {
  it('is multi-stage: build with dev dependencies, install production ones apart, run from a clean stage', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    const build = stageNamed('build')!;
    expect(all(build, 'RUN').map((r) => r.args)).toEqual(
      expect.arrayContaining([expect.stringMatching(/npm ci(?!.*--omit=dev)/), 'npm run build']),
    );
    const prodDeps = stageNamed('prod-deps')!;
    expect(all(prodDeps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args))).toBe(true);
    const copies = all(runtime, 'COPY').map((c) => c.args);
    expect(copies).toContainEqual(expect.stringMatching(/--from=prod-deps \/app\/node_modules \.\/node_modules$/));
    expect(copies).toContainEqual(expect.stringMatching(/--from=build \/app\/dist \.\/dist$/));
    // node_modules from the build stage would carry TypeScript, tsx and vitest.
    expect(copies.some((c) => /--from=build \S*node_modules/.test(c))).toBe(false);
  });

  it('runs on the current Node LTS slim image', () => {
    const image = dockerfile.args.get('NODE_IMAGE');
    expect(image).toMatch(/^node:(\d+)-(?:[a-z]+-)?slim$/);
    const major = Number(/^node:(\d+)/.exec(image!)![1]);
    // LTS lines are the even majors; 24 is Active LTS.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(24);
    // Every stage uses the one ARG (spelt in two pieces: it is the literal `${…}` reference).
    for (const stage of dockerfile.stages) expect(stage.from).toBe('$' + '{NODE_IMAGE}');
  });

  it('runs as a numeric non-root user, so Kubernetes can verify runAsNonRoot', () => {
    const user = last(runtime, 'USER')?.args;
    expect(user).toBeDefined();
    const [uid] = user!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    // The user must be the last word: nothing after it may switch back to root.
    const userIndex = runtime.instructions.lastIndexOf(last(runtime, 'USER')!);
    expect(runtime.instructions.slice(userIndex).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('stops with SIGTERM delivered straight to Node through an exec-form entrypoint', () => {
    expect(last(runtime, 'STOPSIGNAL')?.args).toBe('SIGTERM');
    // Exec form: no /bin/sh -c in between to swallow the signal; Node with the processor's V8 flags.
    expect(JSON.parse(last(runtime, 'ENTRYPOINT')!.args)).toEqual([
      'node',
      ...NODE_FLAGS,
      'bin/email-flow-validator.mjs',
    ]);
    expect(JSON.parse(last(runtime, 'CMD')!.args)).toEqual(['run']);
    expect(last(runtime, 'ENV')?.args).toMatch(/NODE_ENV=production/);
  });

  it("sets the C allocator's settings the benchmark measured (bin/node-flags.mjs)", () => {
    const env = new Set(runtime.instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.split(/\s+/)));
    expect(Object.keys(MALLOC_ENV).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(MALLOC_ENV)) expect(env).toContain(`${name}=${value}`);
  });

  it('probes /healthz on HTTP_PORT', () => {
    const hc = last(runtime, 'HEALTHCHECK')!.args;
    expect(hc).toContain('/healthz');
    expect(hc).toContain('process.env.HTTP_PORT');
  });

  it('runs the compiled CLI, so tsx (a dev dependency) is never needed in the image', () => {
    const bin = readFileSync(join(repoRoot, 'bin', 'email-flow-validator.mjs'), 'utf8');
    expect(bin).toMatch(/join\(root, 'dist', 'cli\.js'\)/);
    expect(bin).toMatch(/if \(existsSync\(compiled\)/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('typescript');
    expect(pkg.scripts.build).toMatch(/^tsc /);
  });

  it('has a build context with every file COPY names, and nothing else', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // Deny everything, then allow a list: local node_modules, dist/, .git never reach the daemon.
    expect(ignore[0]).toBe('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const fromContext = dockerfile.stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((c) => !/--from=/.test(c.args))
      .flatMap((c) =>
        c.args
          .split(/\s+/)
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1),
      );
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) {
      expect(allowed, `.dockerignore lets ${source} in`).toContain(source);
      expect(existsSync(join(repoRoot, source)), `${source} exists`).toBe(true);
    }
    for (const never of ['node_modules', 'dist', '.git', 'test']) expect(allowed).not.toContain(never);
  });
});
