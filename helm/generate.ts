/**
 * Generates two files of the Helm chart from their sources, so neither can drift:
 *
 * - templates/_config-fields.tpl: every processor setting (src/config.ts's configSchema) as
 *   data -- its variable, kind, bounds, pattern and default -- which templates/_validate.tpl
 *   checks at render time with the processor's own messages.
 * - README.md: the chart's values, from the `# --` comments in values.yaml.
 *
 *   npx tsx helm/generate.ts          # write both
 *   npx tsx helm/generate.ts --check  # exit 1 if either is out of date
 *
 * test/deploy/helm-chart.test.ts runs the check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, type Pair, parseDocument, type YAMLMap } from 'yaml';
import { configSchema } from '../src/config.js';
import type { Field } from '../src/config-fields.js';
import { PROVIDER_LIMIT } from '../src/validation/probe/manners.js';

const chartDir = join(dirname(fileURLToPath(import.meta.url)), 'email-flow-validator');
export const fieldsTemplatePath = join(chartDir, 'templates', '_config-fields.tpl');
export const readmePath = join(chartDir, 'README.md');

/** One setting as _validate.tpl reads it. Kinds mirror the constructors in config-fields.ts. */
export interface FieldRule {
  env: string;
  kind: 'str' | 'optionalStr' | 'int' | 'bool' | 'oneOf' | 'list' | 'durations' | 'providerLimits' | 'unchecked';
  default: string;
  min?: number;
  max?: number;
  values?: string[];
  allowEmpty?: boolean;
  /** RE2 source for Go's regexp, and the JavaScript form the processor prints. */
  re?: string;
  reShown?: string;
  /** The processor's message when `re` does not match, instead of "must match <re>". */
  message?: string;
}

/**
 * Settings whose parse is written by hand, so their kind cannot be read off the field; each
 * is stated here with the processor's message. A setting missing here is caught by
 * test/deploy/helm-chart.test.ts, which compares the chart's messages with the processor's.
 */
const handParsed: Record<string, Omit<FieldRule, 'env' | 'default'>> = {
  // Empty (the null reverse-path) or an address. The pod checks the address with the
  // processor's own parser; the chart refuses only what no parse accepts: no "@", nothing
  // before it, an empty, spaced or address-literal domain.
  SMTP_FROM: { kind: 'str', allowEmpty: true, re: '^$|^[^@].*@[^@\\[\\s]+$', message: 'must be an email address' },
  // Items as parseProviderLimits reads them, limits at least 1 (_validate.tpl).
  SMTP_PROVIDER_LIMITS: { kind: 'providerLimits', re: re2(PROVIDER_LIMIT) },
};

/** A JavaScript RegExp as Go's RE2 reads it; refuses flags and syntax that differ. */
function re2(re: RegExp): string {
  const flags = re.flags.replace('i', '');
  if (flags !== '') throw new Error(`${re}: flags "${flags}" have no RE2 equivalent`);
  if (/\(\?[=!<]/.test(re.source)) throw new Error(`${re}: look-around has no RE2 equivalent`);
  return (re.flags.includes('i') ? '(?i)' : '') + re.source;
}

function accepts(f: Field<unknown>, raw: string): boolean {
  try {
    return f.parse(raw) === raw;
  } catch {
    return false;
  }
}

function kindOf(f: Field<unknown> & Record<string, unknown>): FieldRule['kind'] {
  if (typeof f.default === 'boolean') return 'bool';
  if (typeof f.min === 'number') return 'int';
  if (Array.isArray(f.values)) return 'oneOf';
  if (Array.isArray(f.default) && typeof f.max === 'number') return 'durations';
  if (Array.isArray(f.default)) return 'list';
  if (typeof f.default === 'string') return 'str';
  // optionalStr keeps any value its pattern allows; a hand-written parse (KAFKA_SASL_MECHANISM)
  // refuses a plain word and is left to the chart's schema.
  if (f.default === undefined && (f.pattern instanceof RegExp || accepts(f, 'x'))) return 'optionalStr';
  return 'unchecked';
}

export function fieldRules(): FieldRule[] {
  const out: FieldRule[] = [];
  for (const slice of Object.values(configSchema)) {
    for (const field of Object.values(slice) as (Field<unknown> & Record<string, unknown>)[]) {
      if (field.secret) continue; // comes from the Secret, never echoed
      const special = handParsed[field.env];
      if (special) {
        out.push({ env: field.env, ...special, default: field.show(field.default) });
        continue;
      }
      const kind = kindOf(field);
      const rule: FieldRule = {
        env: field.env,
        kind,
        default: kind === 'optionalStr' ? '' : field.show(field.default),
      };
      if (kind === 'int' || kind === 'durations') {
        if (kind === 'int') rule.min = field.min as number;
        rule.max = field.max as number;
      }
      if (kind === 'oneOf') rule.values = [...(field.values as string[])];
      if (kind === 'str') rule.allowEmpty = Boolean(field.allowEmpty);
      const re = (field.pattern ?? field.item) as RegExp | undefined;
      if (re && (kind === 'str' || kind === 'optionalStr' || kind === 'list')) {
        rule.re = re2(re);
        rule.reShown = String(re);
      }
      out.push(rule);
    }
  }
  return out;
}

export function fieldsTemplate(): string {
  const json = JSON.stringify(fieldRules());
  if (json.includes('{{') || json.includes('}}')) throw new Error('field data would break the template delimiters');
  return [
    '{{- /* Generated by `npx tsx helm/generate.ts` from src/config.ts; do not edit. The',
    "processor's settings, which _validate.tpl checks with the processor's own messages. */ -}}",
    `{{- define "efv.configFields" -}}`,
    json.replaceAll('},{', '},\n{'),
    '{{- end }}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// README from values.yaml: a value is documented by the comment block above it that starts
// with "# --" (the helm-docs convention); the table lists each documented leaf with its
// default.

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v;
}

function docComment(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  const lines = comment.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith('--'));
  if (start < 0) return undefined;
  return lines
    .slice(start)
    .map((l, i) => (i === 0 ? l.trimStart().slice(2) : l).trim())
    .join(' ')
    .trim();
}

function walk(map: YAMLMap, prefix: string, rows: Row[]): void {
  (map.items as Pair[]).forEach((pair, i) => {
    const keyNode = pair.key as { value: unknown; commentBefore?: string | null };
    const key = `${prefix}${String(keyNode.value)}`;
    const value = pair.value as unknown;
    // The comment above a map's first key belongs to the map node in the YAML model.
    const doc = docComment(keyNode.commentBefore ?? (i === 0 ? map.commentBefore : undefined));
    if (isMap(value) && value.items.length > 0 && doc === undefined) {
      walk(value, `${key}.`, rows);
      return;
    }
    const js = isScalar(value) || isMap(value) || isSeq(value) ? value.toJSON() : value;
    rows.push({
      key,
      type: typeOf(js),
      default: JSON.stringify(js),
      description: doc ?? '',
    });
  });
}

export function readme(): string {
  const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const rows: Row[] = [];
  walk(doc.contents as YAMLMap, '', rows);
  const chart = parseDocument(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')).toJSON() as Record<string, string>;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `# ${chart.name}`,
    '',
    '<!-- Generated by `npx tsx helm/generate.ts` from values.yaml and Chart.yaml; do not edit. -->',
    '',
    `${chart.description}`,
    '',
    `Chart version ${chart.version}, app version ${chart.appVersion}, Kubernetes ${chart.kubeVersion}.`,
    '',
    '```sh',
    'helm install efv ./helm/email-flow-validator --namespace streaming \\',
    '  --set kafka.brokers[0]=kafka:9092',
    '```',
    '',
    'Every setting the chart hands the processor (its values and `extraEnv`) is checked at',
    "render time as the processor checks it at start, with the processor's own message.",
    'Variables from `extraEnvVars`, `extraEnvVarsCM` and `extraEnvVarsSecret` exist only in',
    'the pod: the processor checks them when it starts. One exception to the same checks:',
    '`SMTP_FROM` is checked at render only for the shape of an address (something, "@", a',
    'domain that is no address literal); the pod parses the address itself.',
    '',
    'With `CHECK_SMTP=true` (in `extraEnv`), enable `networkPolicy.enabled`: it allows port 25',
    'only to public addresses, so a crafted MX record cannot make the processor probe',
    'private (RFC 1918, link-local, unique-local) hosts inside the cluster network. A SOCKS5',
    'proxy URL (`SMTP_PROXY`) may carry its password: set it in `secrets.smtpProxy` (or the',
    '`SMTP_PROXY` key of `existingSecret`), never in `extraEnv`.',
    '',
    '## Values',
    '',
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.key}\` | ${r.type} | \`${cell(r.default)}\` | ${cell(r.description)} |`),
    '',
  ].join('\n');
}

function main(): void {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [path, text] of [
    [fieldsTemplatePath, fieldsTemplate()],
    [readmePath, readme()],
  ] as const) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current === text) continue;
    if (check) {
      console.error(`${path} is out of date: run npx tsx helm/generate.ts`);
      stale += 1;
    } else {
      writeFileSync(path, text);
      console.error(`wrote ${path}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
