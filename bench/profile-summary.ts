/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `bench --cpu-prof`): self time by function
 * and by package, so hot spots can be reported with numbers.
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/CPU.….cpuprofile [top]
 */
import { readFileSync } from 'node:fs';
import type { CpuProfile, ProfileNode } from './cpu-profile.js';

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

function where(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** `package/path/in/it.js` for a dependency, `src/…` for ours: enough to find the line. */
function file(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return where(url);
}

export function summarise(
  profile: CpuProfile,
  top = 25,
): { totalMs: number; byFunction: HotSpot[]; byModule: HotSpot[]; inclusive: HotSpot[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const w = where(f.url);
    const name = `${f.functionName || '(anonymous)'} ${file(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const m =
      f.functionName === '(idle)' || f.functionName === '(program)' || f.functionName === '(garbage collector)'
        ? f.functionName
        : w;
    mod.set(m, (mod.get(m) ?? 0) + us);
    total += us;
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: Math.round((us / total) * 1000) / 10 }));
  // Inclusive time: a function's self time plus everything called under it (once per stack).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  const nameOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${file(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = nameOf(byId.get(cur)!);
      if (seen.has(name)) continue;
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + us);
    }
  }
  return { totalMs: Math.round(total / 1000), byFunction: rank(fn), byModule: rank(mod), inclusive: rank(incl) };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25));
  process.stdout.write(`total ${s.totalMs} ms sampled\n\nby module (self time):\n`);
  for (const h of s.byModule)
    process.stdout.write(`  ${String(h.share).padStart(5)}%  ${String(h.selfMs).padStart(7)} ms  ${h.name}\n`);
  process.stdout.write('\nby function (inclusive time):\n');
  for (const h of s.inclusive)
    process.stdout.write(`  ${String(h.share).padStart(5)}%  ${String(h.selfMs).padStart(7)} ms  ${h.name}\n`);
  process.stdout.write('\nby function (self time):\n');
  for (const h of s.byFunction)
    process.stdout.write(`  ${String(h.share).padStart(5)}%  ${String(h.selfMs).padStart(7)} ms  ${h.name}\n`);
}
