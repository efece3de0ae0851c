import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_CODES } from '../../src/contract/verdicts.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work: string;
let tarball: string;
let files: string[];

/**
 * Packs a copy of the working tree (so the repository's own dist/ is left alone), with the
 * kind of local files a checkout collects planted in it: none of them may be packed.
 */
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'efv-pack-'));
  const copy = join(work, 'copy');
  const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const f of tracked) {
    try {
      cpSync(join(repo, f), join(copy, f));
    } catch (err) {
      // A file deleted in the working tree but still in the index.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
  const plant = (f: string, text = 'local\n') => {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    writeFileSync(join(copy, f), text);
  };
  plant('dev/kafka/.state/demo/state.json', '{"pids":[123],"brokers":"127.0.0.1:9092"}');
  plant('dist/stale-module.js');
  plant('dist/stale-module.js.map', '{"sources":["../src/stale-module.ts"]}');
  plant('bench/results/run.tmp');
  plant('coverage/index.html');
  plant('.vitest-report.json', '{}');
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: copy,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  files = info!.files.map((f) => f.path).sort();
  mkdirSync(join(work, 'unpacked'));
  execFileSync('tar', ['-xzf', tarball, '-C', join(work, 'unpacked')]);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the program, its types, schemas, LICENSE and README, and nothing local', () => {
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'bin/email-flow-validator.mjs',
      'dist/cli.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/contract/verdicts.d.ts',
      'schemas/SignupEvent.avsc',
      'schemas/ValidationResult.avsc',
      'dev/kafka/cluster.mjs',
    ])
      expect(files).toContain(f);
    const unexpected = files.filter(
      (f) =>
        !/^(LICENSE|README\.md|package\.json|bin\/[^/]+\.mjs|schemas\/[^/]+\.avsc|dev\/kafka\/(cluster\.mjs|cluster\.d\.mts|pom\.xml)|dist\/.+\.(js|d\.ts))$/.test(
          f,
        ),
    );
    expect(unexpected).toEqual([]);
    expect(files.filter((f) => f.includes('.state') || f.endsWith('.map') || f.includes('stale-module'))).toEqual([]);
  });

  it('has no source map reference to a file it does not ship', () => {
    const dir = join(work, 'unpacked');
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(20);
    const referencing = js.filter((f) => readFileSync(join(dir, 'package', f), 'utf8').includes('sourceMappingURL'));
    expect(referencing).toEqual([]);
  });

  it('runs in the container image layout (dist, bin, schemas, package.json; no dev/)', () => {
    // The Dockerfile's runtime stage copies exactly these.
    const image = join(work, 'image');
    for (const part of ['dist', 'bin', 'schemas', 'package.json'])
      cpSync(join(work, 'unpacked', 'package', part), join(image, part), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(image, 'node_modules'));
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(image, 'bin', 'email-flow-validator.mjs'), ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, CHECK_DNS: 'false' },
      });
    expect(cli(['--version']).stdout.trim()).toBe(`email-flow-validator ${pkg.version}`);
    expect(cli(['run', '--help']).stdout).toContain('usage: email-flow-validator run');
    const validate = cli(['validate', 'ada@example.com']);
    expect(validate.stderr).toBe('');
    expect(JSON.parse(validate.stdout)).toMatchObject({ verdict: 'deliverable' });
  });

  it('carries the Apache-2.0 LICENSE with the project as copyright holder', () => {
    const license = readFileSync(join(repo, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license).toContain('Copyright 2026 The email-flow-validator authors');
    expect(license.split('\n').length).toBeGreaterThan(190);
  });
});

describe('a consumer project with the tarball installed', () => {
  let consumer: string;
  beforeAll(() => {
    // Laid out as npm installs it: the package in node_modules beside exactly its declared
    // dependencies (taken from this checkout's install: the tests reach no registry).
    consumer = join(work, 'consumer');
    const nm = join(consumer, 'node_modules');
    mkdirSync(join(nm, '@types'), { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', nm]);
    execFileSync('mv', [join(nm, 'package'), join(nm, pkg.name)]);
    for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
      mkdirSync(dirname(join(nm, dep)), { recursive: true });
      symlinkSync(join(repo, 'node_modules', dep), join(nm, dep));
    }
    mkdirSync(join(nm, '.bin'));
    symlinkSync(join(nm, pkg.name, 'bin', 'email-flow-validator.mjs'), join(nm, '.bin', 'email-flow-validator'));
    const usage = readFileSync(join(repo, 'test', 'package', 'consumer', 'usage.ts'), 'utf8');
    for (const [kind, type] of [
      ['esm', 'module'],
      ['cjs', 'commonjs'],
    ] as const) {
      const dir = join(consumer, kind);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${kind}`, private: true, type }));
      writeFileSync(join(dir, 'usage.ts'), usage);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2023',
            lib: ['ES2023'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noEmit: true,
            types: ['node'],
            // The package's own .d.ts files are checked too.
            skipLibCheck: false,
          },
          files: ['usage.ts'],
        }),
      );
    }
  });

  const tsc = () => join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

  it.each(['esm', 'cjs'])('type-checks the README patterns under strict (%s)', (kind) => {
    const r = spawnSync(process.execPath, [tsc(), '-p', join(consumer, kind, 'tsconfig.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails the type-check on a misspelled reason (the check can fail)', () => {
    const dir = join(consumer, 'esm');
    const usage = readFileSync(join(dir, 'usage.ts'), 'utf8');
    writeFileSync(join(dir, 'usage.ts'), usage.replace("result.reason === 'no_mx'", "result.reason === 'no_mxx'"));
    try {
      const r = spawnSync(process.execPath, [tsc(), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/error TS2367: .*"no_mxx"/);
    } finally {
      writeFileSync(join(dir, 'usage.ts'), usage);
    }
  });

  it('runs: import and require give the validator and the lists; the bin runs from dist/', () => {
    const script = (load: string) =>
      `${load}
const v = m.createValidator({ env: { CHECK_DNS: 'false' } });
v.validate('jane@gmial.com').then(async (r) => {
  await v.close();
  console.log(JSON.stringify({ verdicts: m.VERDICTS, codes: m.DEAD_LETTER_CODES.length, verdict: r.verdict, suggestion: r.suggestion }));
});`;
    writeFileSync(join(consumer, 'esm', 'run.js'), script("import * as m from 'email-flow-validator';"));
    writeFileSync(join(consumer, 'cjs', 'run.js'), script("const m = require('email-flow-validator');"));
    for (const kind of ['esm', 'cjs']) {
      const r = spawnSync(process.execPath, [join(consumer, kind, 'run.js')], { encoding: 'utf8', cwd: consumer });
      // Node 22 still calls require() of an ES module experimental (a warning, no failure).
      expect(r.stderr.replace(/^.*ExperimentalWarning.*\n(.*--trace-warnings.*\n)?/gm, '')).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        verdicts: ['deliverable', 'undeliverable', 'risky', 'unknown'],
        codes: DEAD_LETTER_CODES.length,
        verdict: 'risky',
        suggestion: 'jane@gmail.com',
      });
    }
    const bin = join(consumer, 'node_modules', '.bin', 'email-flow-validator');
    const version = spawnSync(process.execPath, [bin, '--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(version.stdout.trim()).toBe(`email-flow-validator ${pkg.version}`);
    const validate = spawnSync(process.execPath, [bin, 'validate', 'a@@b'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, CHECK_DNS: 'false' },
    });
    expect(validate.status).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_syntax' });
    expect(readdirSync(join(consumer, 'node_modules', pkg.name))).not.toContain('src');
  });
});
