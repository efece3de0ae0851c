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

describe('generated README tables', () => {
  it('the dead-letter code table is generated from the contract and current', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const start = readme.indexOf(DLQ_CODES_START);
    expect(start).toBeGreaterThan(0);
    const block = readme.slice(start + DLQ_CODES_START.length, readme.indexOf(DLQ_CODES_END)).trim();
    expect(block, 'README table is stale: npm run docs:env').toBe(deadLetterCodeTable());
    for (const code of DEAD_LETTER_CODES) expect(Object.keys(ErrorCodes)).toContain(code);
  });

  it('the operational error code table (docs/ARCHITECTURE.md) is generated from src/errors.ts and current', () => {
    const doc = readFileSync(architecturePath, 'utf8');
    const start = doc.indexOf(ERROR_CODES_START);
    expect(start).toBeGreaterThan(0);
    const block = doc.slice(start + ERROR_CODES_START.length, doc.indexOf(ERROR_CODES_END)).trim();
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
