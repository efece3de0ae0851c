import type { Config } from '../config.js';
import { describeFilter, parseReplayFilter, ReplayOptionError } from '../dlq/filter.js';
import { type ReplaySummary, replayDeadLetters } from '../dlq/replay.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../telemetry/logger.js';
import { type Progress, progressBar } from './progress.js';

export interface ReplayDlqOptions {
  code?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  dryRun?: boolean | undefined;
  to?: string | undefined;
  quiet?: boolean | undefined;
}

export { ReplayOptionError };

/**
 * Replays (or, with dryRun, counts) the dead-letter records the options select and prints a
 * summary on stdout. Bad options throw a ReplayOptionError before anything is read.
 */
export async function replayDlqCommand(config: Config, logger: Logger, opts: ReplayDlqOptions): Promise<ReplaySummary> {
  const filter = parseReplayFilter(opts);
  if (opts.to !== undefined && opts.to.trim() === '') throw new ReplayOptionError('--to needs a topic name');
  const destination = opts.to ?? config.topics.input;
  let bar: Progress | undefined;
  let summary: ReplaySummary;
  try {
    summary = await replayDeadLetters(createKafka(config.kafka, logger), logger, {
      dlqTopic: config.topics.deadLetter,
      destination,
      filter,
      baseGroupId: config.kafka.groupId,
      dryRun: opts.dryRun ?? false,
      onStart: (total) => {
        if (!opts.quiet && total > 0) bar = progressBar(opts.dryRun ? 'scan' : 'replay', total);
      },
      onProgress: (scanned) => bar?.update(scanned),
    });
  } finally {
    bar?.stop();
  }
  if (!opts.quiet) {
    process.stdout.write(
      `${formatReplaySummary(summary, describeFilter(filter), config.topics.deadLetter, destination)}\n`,
    );
  }
  return summary;
}

/** The summary the CLI prints: what was selected, how many, and the count per error code. */
export function formatReplaySummary(s: ReplaySummary, filterText: string, from: string, to: string): string {
  const lines = [
    s.dryRun
      ? `dry run: ${s.matching} of ${s.scanned} dead-letter records in ${from} match (${filterText}); nothing published`
      : `replayed ${s.published} of ${s.scanned} dead-letter records from ${from} to ${to} (${filterText})`,
  ];
  for (const [code, c] of Object.entries(s.byCode).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${code.padEnd(26)} ${String(c.scanned).padStart(8)} scanned ${String(c.matching).padStart(8)} match`);
  }
  lines.push(`replay group: ${s.groupId}${s.dryRun ? ' (not moved by a dry run)' : ''}`);
  return lines.join('\n');
}
