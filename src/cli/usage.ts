/**
 * The command-line grammar: what a command declares (options, positionals, help), how its
 * arguments are parsed and checked, and the help text made from the declaration.
 */
import { parseArgs } from 'node:util';
import { distance } from 'fastest-levenshtein';
import { ProcessorError } from '../errors.js';
import { PROCESSOR_VERSION } from '../version.js';

export const NAME = 'email-flow-validator';

/** A wrong command line (USAGE_INVALID): reported with a pointer to the command's --help, exit code 2. */
export class UsageError extends ProcessorError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super('USAGE_INVALID', message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's placeholder in the help, e.g. N. */
  value?: string;
  help: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  summary: string;
  /** Positional arguments in the usage line, e.g. "[ADDRESS...]"; none when absent. */
  positionals?: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  /** Extra help text after the options. */
  notes?: string;
  run(values: Values, positionals: string[]): Promise<number>;
}

export function intOption(values: Values, name: string, dflt: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The usage of the program, listing `commands`. */
export function globalUsage(commands: Record<string, CommandSpec>): string {
  return `${NAME} ${PROCESSOR_VERSION}

usage: ${NAME} <command> [options]
       ${NAME} <command> --help
       ${NAME} --version

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Configuration comes from environment variables: \`${NAME} config\` lists them,
\`${NAME} config --check\` checks them.`;
}

/** The help of one command. */
export function commandHelp(name: string, c: CommandSpec): string {
  const opts = Object.entries(c.options);
  const optText = (n: string, o: OptionSpec) => `--${n}${o.value ? ` ${o.value}` : ''}`;
  const width = Math.max(10, ...opts.map(([n, o]) => optText(n, o).length));
  const lines = [
    `usage: ${NAME} ${name}${opts.length > 0 ? ' [options]' : ''}${c.positionals ? ` ${c.positionals}` : ''}`,
    '',
    c.summary,
    '',
    'options:',
    ...opts.map(([n, o]) => `  ${optText(n, o).padEnd(width)}  ${o.help}`),
    `  ${'-h, --help'.padEnd(width)}  show this help`,
  ];
  if (c.notes) lines.push('', c.notes);
  lines.push('', c.examples.length > 1 ? 'examples:' : 'example:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** The closest command name, if the typo is small. */
export function closest(word: string, names: string[]): string | undefined {
  let best: string | undefined;
  // Short names allow one edit: "keep" is not a typo of "seed".
  let d = word.length <= 4 ? 2 : 3;
  for (const n of names) {
    const nd = distance(word, n);
    if (nd < d) {
      best = n;
      d = nd;
    }
  }
  return best;
}

export function parseCommandArgs(
  name: string,
  c: CommandSpec,
  args: string[],
): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [n, o] of Object.entries(c.options))
    options[n] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: c.positionals !== undefined,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS_')) throw err;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const opt = /'([^']+)'/.exec(e.message)?.[1] ?? e.message;
      const known = Object.keys(c.options);
      const hint = closest(opt.replace(/^-+/, ''), known);
      const takes = known.length > 0 ? `; it takes ${known.map((k) => `--${k}`).join(', ')}` : '; it takes no options';
      throw new UsageError(
        `${name} does not take the option ${opt}${hint ? ` (did you mean --${hint}?)` : ''}${takes}`,
        name,
      );
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']+)'/.exec(e.message)?.[1] ?? '';
      throw new UsageError(`${name} takes no arguments, got ${JSON.stringify(arg)}`, name);
    }
    // e.g. an option that needs a value given none, or a value given to a switch.
    throw new UsageError(e.message.replace(/\.$/, ''), name);
  }
}

/** `--set NAME=VALUE` options: settings (environment variables) for our contenders in a bench run. */
export function envAssignments(items: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(item);
    if (!m) throw new UsageError(`--set expects NAME=VALUE with an upper-case variable name, got "${item}"`, 'bench');
    env[m[1]!] = m[2]!;
  }
  return env;
}
