import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
  // Running from dist/ means no TypeScript loader is registered yet.
  if (!here.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  const harness = (await import(pathToFileURL(join(root, 'bench', 'harness.ts')).href)) as BenchHarness;
  return harness.benchMain(options);
}
