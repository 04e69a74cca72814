/** Facts about the machine a run happened on, for the report. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface Machine {
  readonly cpu: string;
  readonly nproc: number;
  readonly node: string;
  readonly kernel: string;
  readonly memory: string;
  /** 1-minute load average when the run started: how busy the "quiet" machine was. */
  readonly load: string;
}

export function machine(): Machine {
  let cpu = 'unknown';
  try {
    cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || availableParallelism();
  return {
    cpu,
    nproc,
    node: process.version,
    kernel: release(),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
