/**
 * Finds the main thread's long tasks in a V8 CPU profile (`bench --cpu-prof`): runs of samples
 * without an idle one between them. Prints how many runs exceed 1, 5 and 20 ms, the time they
 * hold, and which functions (self time, and the frames their stacks pass through) fill them.
 *   node --import tsx bench/profile-stalls.ts bench/results/profiles/CPU.….cpuprofile [minMs] [top]
 */
import { readFileSync } from 'node:fs';
import type { CpuProfile, ProfileNode } from './cpu-profile.js';

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const nm = url.lastIndexOf('node_modules/');
  const file = nm >= 0 ? url.slice(nm + 13) : url.replace(/^.*\/(src|bench|bin)\//, '$1/').replace(/^node:/, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

const [file, minArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-stalls.ts FILE [minMs] [top]');
const minMs = Number(minArg ?? 1);
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';

interface Run {
  ms: number;
  samples: number[];
  durations: number[];
}
const runs: Run[] = [];
let cur: Run | undefined;
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i]!;
  // A sample's time is the delta to the next one.
  const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
  if (isIdle(id)) {
    if (cur) runs.push(cur);
    cur = undefined;
    continue;
  }
  cur ??= { ms: 0, samples: [], durations: [] };
  cur.ms += dt;
  cur.samples.push(id);
  cur.durations.push(dt);
}
if (cur) runs.push(cur);

const total = runs.reduce((s, r) => s + r.ms, 0);
console.log(`busy runs: ${runs.length}, busy ${total.toFixed(0)} ms`);
for (const t of [1, 2, 5, 10, 20, 50]) {
  const long = runs.filter((r) => r.ms > t);
  console.log(`  > ${t} ms: ${long.length} runs, ${long.reduce((s, r) => s + r.ms, 0).toFixed(0)} ms`);
}
const long = runs.filter((r) => r.ms > minMs);
const self = new Map<string, number>();
const through = new Map<string, number>();
for (const r of long) {
  r.samples.forEach((id, i) => {
    const dt = r.durations[i]!;
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const l = label(byId.get(x)!);
      if (seen.has(l)) continue;
      seen.add(l);
      through.set(l, (through.get(l) ?? 0) + dt);
    }
  });
}
const longMs = long.reduce((s, r) => s + r.ms, 0);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (runs > ${minMs} ms, ${longMs.toFixed(0)} ms)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${v.toFixed(1).padStart(8)} ms ${((100 * v) / longMs).toFixed(1).padStart(5)} %  ${k}`);
};
show('self time', self);
show('inclusive time', through);
console.log('\nlongest runs:');
for (const r of [...runs].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
  const m = new Map<string, number>();
  r.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const l = label(byId.get(x)!);
      if (!seen.has(l)) m.set(l, (m.get(l) ?? 0) + r.durations[i]!);
      seen.add(l);
    }
  });
  const frames = [...m]
    .filter(([k]) => !k.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`);
  console.log(`  ${r.ms.toFixed(1)} ms: ${frames.join(' | ')}`);
}
