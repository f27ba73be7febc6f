// CPU time and memory of another running process, from /proc (Linux), for the benchmarks that run the
// real programs. The parsing is bench/discovery/workload.ts's (cpuSecondsFromStat, memoryFromStatus).
import { readFile } from 'node:fs/promises';
import { cpuSecondsFromStat, memoryFromStatus } from './discovery/workload.js';

/** User + system CPU seconds a process has used so far (its own, children not counted). Throws when it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  return cpuSecondsFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process in MiB; undefined when it is gone. */
export async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number } | undefined> {
  try {
    const m = memoryFromStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
    return { peakMiB: m.peakRssMiB, rssMiB: m.rssMiB };
  } catch {
    return undefined;
  }
}
