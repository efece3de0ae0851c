/**
 * The chart's NOTES.txt, rendered by the real helm. `helm template` leaves NOTES.txt out and
 * `helm install --dry-run` wants a cluster, so the notes are rendered from a copy of the
 * chart in which they are wrapped, unchanged, into a template of their own.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, runOk } from './tools.js';

const chart = join(repoRoot, 'helm', 'email-flow-validator');
const dir = mkdtempSync(join(tmpdir(), 'efv-notes-'));
const copy = join(dir, 'email-flow-validator');
cpSync(chart, copy, { recursive: true });
writeFileSync(
  join(copy, 'templates', 'zz-notes.yaml'),
  `{{- define "efvTest.notes" -}}\n${readFileSync(join(chart, 'templates', 'NOTES.txt'), 'utf8')}\n{{- end }}\n` +
    'notes: {{ include "efvTest.notes" . | toJson }}\n',
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function notes(args: string[] = []): string {
  const out = runOk('helm', [
    'template',
    'efv',
    copy,
    '--namespace',
    'streaming',
    '--show-only',
    'templates/zz-notes.yaml',
    ...args,
  ]);
  return (parse(out) as { notes: string }).notes;
}

const SMTP_WARNING = "WARNING: CHECK_SMTP is on without the chart's NetworkPolicy";

describe('NOTES.txt', () => {
  it('renders the deployment summary (the wrapping renders the real notes)', () => {
    expect(notes()).toContain('is deployed as efv-email-flow-validator in namespace streaming');
  });

  it('warns when SMTP probes run without the NetworkPolicy that keeps them to public addresses', () => {
    const text = notes(['--set-string', 'extraEnv.CHECK_SMTP=true', '--set', 'networkPolicy.enabled=false']);
    expect(text).toContain(SMTP_WARNING);
    expect(text).toContain('egress rule that keeps port 25 to public addresses');
    const otherPort = notes([
      '--set-string',
      'extraEnv.CHECK_SMTP=true',
      '--set-string',
      'extraEnv.SMTP_PORT=587',
      '--set',
      'networkPolicy.enabled=false',
    ]);
    expect(otherPort).toContain('egress rule that keeps port 587 to public addresses');
  });

  it('says nothing of SMTP when the NetworkPolicy is on, or when SMTP probes are off', () => {
    expect(notes(['--set-string', 'extraEnv.CHECK_SMTP=true'])).not.toContain(SMTP_WARNING);
    expect(notes(['--set', 'networkPolicy.enabled=false'])).not.toContain(SMTP_WARNING);
    expect(notes(['--set-string', 'extraEnv.CHECK_SMTP=false', '--set', 'networkPolicy.enabled=false'])).not.toContain(
      SMTP_WARNING,
    );
  });

  it('notes that spans correlate only within a pod while tracing runs without a shared TRACE_KEY_SECRET', () => {
    const tracing = ['--set', 'tracing.enabled=true', '--set', 'tracing.endpoint=http://collector:4318'];
    expect(notes(tracing)).toContain('NOTE: no secrets.traceKeySecret (TRACE_KEY_SECRET)');
    expect(notes([...tracing, '--set', 'secrets.traceKeySecret=k'])).not.toContain('traceKeySecret');
    expect(notes([...tracing, '--set', 'existingSecret=efv-credentials'])).not.toContain('traceKeySecret');
  });
});
