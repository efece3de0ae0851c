import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCircles, importGraph } from '../helpers/import-graph.js';

describe('import circles', () => {
  it('src/ has none', () => {
    expect(importCircles(importGraph('src'))).toEqual([]);
  });

  it('bench/ has none', () => {
    expect(importCircles(importGraph('bench'))).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'efv-circles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a circle through a type-only import', () => {
    mkdirSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'a', 'x.ts'), "import type { Y } from '../y.js';\nexport type X = Y;\n");
    writeFileSync(join(dir, 'y.ts'), "import { x } from './a/x.js';\nexport type Y = string;\nexport const z = x;\n");
    writeFileSync(join(dir, 'free.ts'), "import { z } from './y.js';\nexport const w = z;\n");
    const circles = importCircles(importGraph(dir), dir);
    expect(circles).toEqual([[join('a', 'x.ts'), 'y.ts']]);
  });
});
