import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProcessorError } from '../errors.js';

/** Options of `email-flow-validator bench`, as parsed from the command line. */
export interface BenchCliOptions {
  events?: number;
  partitions?: number;
  quick: boolean;
  latencyMs?: number;
  providerConcurrency?: number;
  /** Comma-separated contender names. */
  contenders?: string;
  note?: string;
  cpuProf: boolean;
  /** Settings (environment variables) for our contenders, over the benchmark's own. */
  oursEnv?: Record<string, string>;
  /** Bootstrap brokers to use instead of starting a local Kafka. */
  brokers?: string;
}

interface BenchHarness {
  benchMain(options: BenchCliOptions): Promise<number>;
}

/**
 * `bench`: the harness lives in bench/ beside its reports and is not part of the published
 * build, so it is loaded from its TypeScript source through tsx (a development dependency),
 * whether this CLI runs compiled or from source.
 */
export async function benchCommand(options: BenchCliOptions): Promise<number> {
  const here = fileURLToPath(import.meta.url);
  const root = join(dirname(here), '..', '..');
  const harness = join(root, 'bench', 'harness.ts');
  if (!existsSync(harness))
    throw new ProcessorError(
      'UNSUPPORTED',
      'bench runs from a clone of the repository: the harness (bench/) is not in the package',
    );
  // Running from dist/ means no TypeScript loader is registered yet.
  if (!here.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  const { benchMain } = (await import(pathToFileURL(harness).href)) as BenchHarness;
  return benchMain(options);
}
