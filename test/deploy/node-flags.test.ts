/**
 * The V8 flags the image and the benchmark start the processor with (bin/node-flags.mjs): Node
 * accepts them, and the young generation they set is the one a process gets, whatever the host.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../bin/node-flags.mjs';

const MB = 1024 * 1024;

/** Allocates short-lived garbage until V8 has grown the young generation; prints its largest size. */
const GROW_YOUNG_GENERATION = `
const v8 = require('node:v8');
let keep = [], largest = 0;
for (let i = 0; i < 4e6; i++) {
  keep.push({ i, s: 'x' + i });
  if (keep.length > 100000) keep = [];
  if (i % 100000 === 0) largest = Math.max(largest, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
}
process.stdout.write(String(largest));
`;

function youngGeneration(flags: readonly string[]): number {
  return Number(execFileSync(process.execPath, [...flags, '-e', GROW_YOUNG_GENERATION], { encoding: 'utf8' }));
}

describe('NODE_FLAGS', () => {
  it('are flags this Node accepts, each once', () => {
    expect(NODE_FLAGS.length).toBeGreaterThan(0);
    expect(new Set(NODE_FLAGS.map((f) => f.split('=')[0])).size).toBe(NODE_FLAGS.length);
    // Node refuses an unknown flag ("bad option", exit code 9): execFileSync would throw.
    expect(
      execFileSync(process.execPath, [...NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' }),
    ).toBe('ok');
  });

  it('bound the young generation to two semi-spaces of --max-semi-space-size', () => {
    const flag = NODE_FLAGS.find((f) => f.startsWith('--max-semi-space-size='));
    expect(flag).toBeDefined();
    const semiSpaceMb = Number(flag!.split('=')[1]);
    const young = youngGeneration(NODE_FLAGS);
    expect(young).toBeGreaterThan(0);
    // Two semi-spaces, plus what V8 may commit for a moment during a scavenge (seen once on
    // Node 26: 35.5 MB against 32); without the flag Node 24 grows it to 128 MB, Node 26 to 64.
    expect(young).toBeLessThanOrEqual(2.5 * semiSpaceMb * MB);
  });

  it('leave the heap limit to Node, which sizes it from the container memory limit', () => {
    expect(NODE_FLAGS.some((f) => /^--max-old-space-size|^--max-heap-size/.test(f))).toBe(false);
  });
});
