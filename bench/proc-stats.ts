/**
 * A server's own CPU accounting, read from /proc (Linux), summed over every thread of the process
 * and of its descendants (cluster workers, libuv's threadpool): CPU time and the time its threads
 * were runnable but waiting for a core (other processes on that core, or its own threads competing).
 * Both come from `/proc/<pid>/task/<tid>/schedstat` in nanoseconds, so a round of a few seconds is
 * measured precisely. Elsewhere (no /proc) every reading is undefined and the report says n/a.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  /** ns on a core, all threads of the tree. */
  readonly cpuNs: number;
  /** ns runnable but waiting for a core. */
  readonly waitNs: number;
  /** Threads summed (a worker that died between two samples makes the difference meaningless). */
  readonly threads: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The pid and its descendants. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    for (const tid of tasks(p)) {
      const children = read(`/proc/${p}/task/${tid}/children`);
      if (children) for (const c of children.trim().split(/\s+/).filter(Boolean)) out.push(Number(c));
    }
  }
  return out;
}

function tasks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** The CPU accounting of `pid` and its descendants now, or undefined without /proc. */
export function cpuSample(pid: number): CpuSample | undefined {
  let cpuNs = 0;
  let waitNs = 0;
  let threads = 0;
  for (const p of tree(pid)) {
    for (const tid of tasks(p)) {
      const s = read(`/proc/${p}/task/${tid}/schedstat`);
      if (!s) continue;
      const [run = '0', wait = '0'] = s.trim().split(/\s+/);
      cpuNs += Number(run);
      waitNs += Number(wait);
      threads++;
    }
  }
  return threads === 0 ? undefined : { cpuNs, waitNs, threads };
}

export interface CpuDelta {
  /** CPU seconds used between the two samples. */
  readonly cpuSeconds: number;
  /** Seconds its threads waited for a core. */
  readonly waitSeconds: number;
}

export function cpuDelta(before: CpuSample | undefined, after: CpuSample | undefined): CpuDelta | undefined {
  if (!before || !after) return undefined;
  return { cpuSeconds: (after.cpuNs - before.cpuNs) / 1e9, waitSeconds: (after.waitNs - before.waitNs) / 1e9 };
}
