/**
 * The verification benchmark, bench/verify.ts, written on another branch: when the file exists it runs
 * as one more section (same BENCH_* options in its environment) and its output goes into the report
 * verbatim. When it does not exist the section says so and is skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { NODE, ROOT, spawnPinned, stop } from '../procs.ts';
import { progress } from '../rounds.ts';

export const VERIFY_SCRIPT = join(ROOT, 'bench/verify.ts');

export async function verifySection(ctx: Context): Promise<void> {
  if (!existsSync(VERIFY_SCRIPT)) {
    ctx.report.notes.push('verify section skipped: bench/verify.ts is not in this build.');
    progress('verify: skipped, bench/verify.ts is not in this build');
    return;
  }
  const { opts } = ctx;
  progress('verify: running bench/verify.ts');
  const env = {
    BENCH_DURATION: String(opts.duration),
    BENCH_ROUNDS: String(opts.rounds),
    BENCH_PICK: opts.pick,
    BENCH_WARMUP: String(opts.warmup),
    BENCH_CONNECTIONS: String(opts.connections),
    BENCH_SERVER_CORE: String(opts.serverCore),
    BENCH_LOAD_CORE: String(opts.loadCore),
    BENCH_LOADER: ctx.loader,
  };
  // Unpinned: the script pins its own children (a child may widen its affinity with taskset).
  const proc = spawnPinned(-1, NODE, [VERIFY_SCRIPT], { env, passStderr: true });
  const limitMs = (opts.rounds * opts.duration * 20 + 300) * 1000;
  const timer = setTimeout(() => void stop(proc), limitMs);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench/verify.ts failed (${signal ?? `exit ${code}`}):\n${proc.stderr().slice(-2000)}`);
  process.stdout.write(proc.stdout());
  ctx.report.blocks.push({ title: 'Verification (bench/verify.ts)', text: proc.stdout() });
}
