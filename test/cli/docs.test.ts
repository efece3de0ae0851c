import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DLQ_CODES_END,
  DLQ_CODES_START,
  deadLetterCodeTable,
  ERROR_CODES_END,
  ERROR_CODES_START,
  operationalErrorTable,
} from '../../src/commands/config.js';
import { DEAD_LETTER_CODES } from '../../src/contract/verdicts.js';
import { ErrorCodes } from '../../src/errors.js';
import { runCli } from './run-cli.js';

const readmePath = new URL('../../README.md', import.meta.url);
const architecturePath = new URL('../../docs/ARCHITECTURE.md', import.meta.url);

/** The text between a generated block's markers. */
function generatedBlock(path: URL, start: string, end: string): string {
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(start);
  expect(at).toBeGreaterThan(0);
  return text.slice(at + start.length, text.indexOf(end)).trim();
}

describe('generated README tables', () => {
  it('the dead-letter code table is generated from the contract and current', () => {
    const block = generatedBlock(readmePath, DLQ_CODES_START, DLQ_CODES_END);
    expect(block, 'README table is stale: npm run docs:env').toBe(deadLetterCodeTable());
    for (const code of DEAD_LETTER_CODES) expect(Object.keys(ErrorCodes)).toContain(code);
  });

  it('the operational error code table (docs/ARCHITECTURE.md) is generated from src/errors.ts and current', () => {
    const block = generatedBlock(architecturePath, ERROR_CODES_START, ERROR_CODES_END);
    expect(block, 'docs/ARCHITECTURE.md table is stale: npm run docs:env').toBe(operationalErrorTable());
    expect(block).toContain('| `PUBLISH_FAILED` | 1 |');
  });

  it('`config --file` rewrites both tables', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'efv-docs-')), 'README.md');
    copyFileSync(readmePath, file);
    const text = readFileSync(file, 'utf8');
    const stale = text
      .replace('| `NULL_VALUE` |', '| `STALE_CODE` |')
      .replace('| `KAFKA_BROKERS` |', '| `STALE_VARIABLE` |');
    writeFileSync(file, stale);
    const r = await runCli(['config', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('updated the environment and dead-letter code tables');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
