import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long work (producing, benchmarking). On a terminal it redraws
 * in place; in logs and CI it prints a plain line every few seconds instead.
 */
export function progressBar(label: string, total: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} {rate}/s eta {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update(done) {
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { rate: secs > 0 ? Math.round(done / secs) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
