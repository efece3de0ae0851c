import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const SHOW_CURSOR = '\x1b[?25h';

/**
 * A progress bar on stderr for long work (producing, benchmarking). On a terminal it redraws
 * in place with the cursor hidden; in logs and CI it prints a plain line every few seconds
 * instead. Ctrl-C (or SIGTERM) while it runs shows the cursor again before the process
 * ends, so the terminal is left as it was found.
 */
export function progressBar(label: string, total: number): Progress {
  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} {rate}/s eta {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: !tty,
      notTTYSchedule: 2000,
      hideCursor: tty,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let stopped = false;
  const restore = () => {
    if (tty) process.stderr.write(SHOW_CURSOR);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stop();
    process.stderr.write('\n');
    // The default action of the signal, now that the terminal is restored (unless the
    // program handles the signal itself, as `run` does).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    bar.stop();
    restore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', restore);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // An error that ends the process mid-bar must not leave the cursor hidden either.
  process.once('exit', restore);
  bar.start(total, 0, { rate: 0 });
  return {
    update(done) {
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { rate: secs > 0 ? Math.round(done / secs) : 0 });
    },
    stop,
  };
}
