/**
 * The verification benchmark, bench/verify.ts (another engineer's): when the file exists it runs as
 * one more section, pinned to the server core (it measures in-process verification on one core),
 * with the round duration as its argument and the BENCH_* options in its environment. Its output
 * goes into the report verbatim; lines of the form `ALG bare jose.jwtVerify N/s createVerifier M/s
 * ratio R` become targets (verifier ≥ 0.9 × bare jose). Without the file the section is skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import { NODE, ROOT, spawnPinned, stop } from '../procs.ts';
import { progress } from '../rounds.ts';

export const VERIFY_SCRIPT = join(ROOT, 'bench/verify.ts');
const VERIFY_GOAL = 0.9;

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
  const proc = spawnPinned(opts.serverCore, NODE, [VERIFY_SCRIPT, String(opts.duration)], { env, passStderr: true });
  const limitMs = (opts.rounds * opts.duration * 20 + 300) * 1000;
  const timer = setTimeout(() => void stop(proc), limitMs);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench/verify.ts failed (${signal ?? `exit ${code}`}):\n${proc.stderr().slice(-2000)}`);
  const text = proc.stdout();
  for (const line of text.split('\n').filter(Boolean)) progress(`verify: ${line}`);
  ctx.report.blocks.push({ title: `Verification (bench/verify.ts ${opts.duration}, pinned to core ${opts.serverCore})`, text });
  for (const m of text.matchAll(/^(\S+)\s+bare jose\.jwtVerify\s+(\d+)\/s\s+createVerifier\s+(\d+)\/s\s+ratio\s+([\d.]+)/gm)) {
    const [, alg, bare, ours, r] = m;
    ctx.report.target(`${alg} createVerifier vs bare jose.jwtVerify`, `${r}× (${ours} vs ${bare} verifications/s)`, `≥ ${VERIFY_GOAL}×`, Number(r) >= VERIFY_GOAL);
  }
}
