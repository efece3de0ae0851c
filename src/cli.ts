#!/usr/bin/env node
import { COMMANDS } from './cli/commands.js';
import { envWarnings, printEnvWarnings } from './cli/setup.js';
import { closest, commandHelp, globalUsage, NAME, parseCommandArgs, UsageError } from './cli/usage.js';
import { unknownEnvWarnings } from './config.js';
import { codeOf, isOperationalCode, OPERATIONAL_ERRORS } from './errors.js';
import { installRequestQueueTimer } from './kafka/request-queue.js';
import { flushLogs } from './telemetry/logger.js';
import { PROCESSOR_VERSION } from './version.js';

const GLOBAL_USAGE = globalUsage(COMMANDS);

// For every KafkaJS client of the process, the local broker launcher's too (see the file).
installRequestQueueTimer();

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(`${GLOBAL_USAGE}\n`);
    return 2;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    if (rest.length > 0) throw new UsageError(`${first} takes no arguments`);
    process.stdout.write(`${NAME} ${PROCESSOR_VERSION}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const [topic] = rest;
    if (topic === undefined) {
      process.stdout.write(`${GLOBAL_USAGE}\n`);
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, topic)) throw unknownCommand(topic);
    process.stdout.write(`${commandHelp(topic, COMMANDS[topic]!)}\n`);
    return 0;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first}: options go after the command`);
  if (!Object.hasOwn(COMMANDS, first)) throw unknownCommand(first);
  const command = COMMANDS[first]!;
  const { values, positionals } = parseCommandArgs(first, command, rest);
  if (values.help) {
    process.stdout.write(`${commandHelp(first, command)}\n`);
    return 0;
  }
  envWarnings.pending = unknownEnvWarnings(process.env);
  return command.run(values, positionals);
}

function unknownCommand(word: string): UsageError {
  const hint = closest(word, Object.keys(COMMANDS));
  return new UsageError(`unknown command "${word}"${hint ? ` (did you mean ${hint}?)` : ''}`);
}

/**
 * One line (or block) on stderr: `email-flow-validator: CODE: message`, the code stable (see
 * OPERATIONAL_ERRORS in errors.ts). Exit codes: 0 done, 1 failed while working, 2 nothing was
 * done (the command line, the configuration, a missing topic: fix it and run again).
 */
function report(err: unknown): number {
  const code = codeOf(err);
  // A typo'd variable may be why the configuration or a topic name is wrong: say so next to it.
  if (code === 'CONFIG_INVALID' || code === 'TOPIC_MISSING') printEnvWarnings();
  const message = String((err as Error)?.message ?? err);
  flushLogs();
  process.stderr.write(`${NAME}: ${code}: ${message}\n`);
  if (err instanceof UsageError) {
    const help = err.command ? `${NAME} ${err.command} --help` : `${NAME} --help`;
    process.stderr.write(`(see \`${help}\`)\n`);
  }
  return isOperationalCode(code) ? OPERATIONAL_ERRORS[code].exit : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open sockets of a drained client must not keep a finished command alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: unknown) => {
    process.exit(report(err));
  },
);
