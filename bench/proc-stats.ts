import { readFileSync } from 'node:fs';

/** What the kernel says about one process: CPU time used so far and its peak resident set. */
export interface ProcStats {
  /** User + system CPU seconds. */
  cpuSeconds: number;
  /** Peak resident set size (VmHWM), bytes. */
  peakRssBytes: number;
  /** Current resident set size (VmRSS), bytes. */
  rssBytes: number;
}

// USER_HZ is 100 on every Linux we run on; `getconf CLK_TCK` would need a child process.
const TICKS_PER_SECOND = 100;

function statusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Reads /proc/<pid>/stat and /proc/<pid>/status; undefined once the process is gone. Measured
 * from outside so that the contender pays nothing for it and kcat is measured like node.
 */
export function procStats(pid: number): ProcStats | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      cpuSeconds: ticks / TICKS_PER_SECOND,
      peakRssBytes: statusKb(status, 'VmHWM'),
      rssBytes: statusKb(status, 'VmRSS'),
    };
  } catch {
    return undefined;
  }
}

/** Sum over the processes of one contender (kcat's pass-through is two processes). */
export function sumStats(pids: readonly number[], last: Map<number, ProcStats>): ProcStats {
  let cpuSeconds = 0;
  let peakRssBytes = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = procStats(pid);
    // A process that already exited keeps the last figures read from it.
    if (s) last.set(pid, s);
    const v = s ?? last.get(pid);
    if (!v) continue;
    cpuSeconds += v.cpuSeconds;
    peakRssBytes += v.peakRssBytes;
    rssBytes += s ? v.rssBytes : 0;
  }
  return { cpuSeconds, peakRssBytes, rssBytes };
}
