/**
 * `keymint sandbox`: time to the first accepted token, from spawning the process to a 200 from its
 * Orum token endpoint, as a test suite's setup sees it. Shapes: from the checkout (TypeScript
 * sources) with the sandbox generating its RSA signing key at start (the default), given a fixed
 * key in its file (no key generation), and without Node's compile cache (the first start after the
 * sources change); and the installed package (the JavaScript `npm run build` emits). Each start is
 * one round, after one start that is not counted (it fills the compile cache); the server process
 * runs pinned to the server core (one row lets it use any core, where the signing key is generated
 * beside the loading), and the token request is sent as soon as it prints what it serves.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from '../context.ts';
import { cpuSample } from '../proc-stats.ts';
import { NODE, removeTempDir, runPinned, spawnPinned, stop, tempDir } from '../procs.ts';
import { median, ms, progress } from '../rounds.ts';

const GOAL_MS = 300;
/** Starts per shape: a start is short, so more of them than load rounds. */
const MIN_STARTS = 5;

interface Shape {
  readonly label: string;
  /** The bin/keymint.js to spawn. */
  readonly bin: string;
  readonly file: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run on any core rather than pinned to the server core (as a test suite's runner does). */
  readonly unpinned?: boolean;
}

interface Start {
  /** Spawn → the sandbox printed its mounts and clients. */
  readonly readyMs: number;
  /** Spawn → the first 200 from the token endpoint. */
  readonly tokenMs: number;
  /** CPU the sandbox process used until then, and time it was runnable but waiting for a core (ms). */
  readonly cpuMs: number;
  readonly waitMs: number;
}

export async function sandboxSection(ctx: Context): Promise<void> {
  const table = ctx.report.table('keymint sandbox: time to the first accepted token (spawn → 200 from the Orum token endpoint)', ['form, signing key', 'starts', 'ready (median)', 'first token (median)', 'first token (max)', 'CPU until then (median)', 'waiting for a core (median)']);
  const dir = tempDir('sandbox');
  try {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const generated = sandboxFile(dir, 'generated', undefined);
    const shapes: Shape[] = [
      { label: CHECKOUT, bin: ctx.opts.keymint, file: generated },
      { label: 'checkout, fixed key (sandbox.signingKey)', bin: ctx.opts.keymint, file: sandboxFile(dir, 'fixed', pem) },
      { label: 'checkout, no compile cache (NODE_DISABLE_COMPILE_CACHE=1)', bin: ctx.opts.keymint, file: generated, env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
      { label: 'checkout, key generated at start, not pinned (any core)', bin: ctx.opts.keymint, file: generated, unpinned: true },
      { label: INSTALLED, bin: await installedCopy(ctx, dir), file: generated },
    ];
    const starts = Math.max(ctx.opts.rounds, MIN_STARTS);
    const medians = new Map<string, number>();
    for (const shape of shapes) {
      await oneStart(ctx, shape);
      const results: Start[] = [];
      for (let i = 1; i <= starts; i++) {
        const r = await oneStart(ctx, shape);
        progress(`sandbox (${shape.label}) start ${i}/${starts}: ready ${ms(r.readyMs)}, first token ${ms(r.tokenMs)}, CPU ${ms(r.cpuMs)}, waiting ${ms(r.waitMs)}`);
        results.push(r);
      }
      const token = median(results.map((r) => r.tokenMs));
      medians.set(shape.label, token);
      table.rows.push([shape.label, String(starts), ms(median(results.map((r) => r.readyMs))), ms(token), ms(Math.max(...results.map((r) => r.tokenMs))), ms(median(results.map((r) => r.cpuMs))), ms(median(results.map((r) => r.waitMs)))]);
    }
    for (const [label, name] of [[CHECKOUT, 'checkout'], [INSTALLED, 'installed package']] as const) {
      const token = medians.get(label)!;
      ctx.report.target(`keymint sandbox: time to the first accepted token (median, default key, ${name})`, ms(token), `< ${GOAL_MS} ms`, token < GOAL_MS);
    }
    table.notes.push(
      'One Orum client declared in a sandbox file, no faults. "ready" is when the process has printed what it serves; the token request goes out then. ' +
        'Node start-up and module loading are included, as a test suite pays them (from a checkout, type stripping of the sources too, which Node\'s compile cache keeps between starts; the row without it is the first start after the sources change). The default generates one RSA-2048 key, whose time varies with the primes it draws. ' +
        'Pinned to one core, the signing key generated on the thread pool while the modules load shares that core; not pinned, it uses another. The installed package is `npm run build` in the checkout, its bin, dist, schema and package.json copied under a temp node_modules/keymint beside copies of its dependencies (an install without the registry); its bin runs the CLI bundle (dist/bundle/), a checkout the TypeScript sources. ' +
        'CPU and waiting come from the process\'s own /proc accounting: on a busy machine the wall time is mostly waiting for a core.',
    );
  } finally {
    removeTempDir(dir);
  }
}

function sandboxFile(dir: string, name: string, pem: string | undefined): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, clients: { app: { dialects: ['orum'] } }, sandbox: { ...(pem ? { signingKey: pem } : {}) } }));
  return file;
}

const CHECKOUT = 'checkout, key generated at start (default)';
const INSTALLED = 'installed package, key generated at start';

/**
 * The package as a user installs it: `npm run build` in the benchmarked checkout, then what the
 * package ships to run (bin, dist, schema, package.json) under <dir>/installed/node_modules/keymint
 * and its dependencies beside it. Resolves to its bin/keymint.js, which runs dist/ (under node_modules).
 */
async function installedCopy(ctx: Context, dir: string): Promise<string> {
  const checkout = dirname(dirname(ctx.opts.keymint));
  await runPinned(ctx.opts.loadCore, NODE, ['scripts/build.ts'], 300_000, { cwd: checkout });
  const modules = join(dir, 'installed', 'node_modules');
  for (const part of ['bin', 'dist', 'schema', 'package.json']) cpSync(join(checkout, part), join(modules, 'keymint', part), { recursive: true });
  const { dependencies } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(dependencies)) cpSync(join(checkout, 'node_modules', dep), join(modules, dep), { recursive: true, dereference: true });
  return join(modules, 'keymint', 'bin', 'keymint.js');
}

async function oneStart(ctx: Context, shape: Shape): Promise<Start> {
  const started = performance.now();
  const proc = spawnPinned(shape.unpinned ? -1 : ctx.opts.serverCore, NODE, [shape.bin, 'sandbox', '--file', shape.file], shape.env ? { env: shape.env } : {});
  try {
    let out = '';
    const banner = await new Promise<string>((resolve, reject) => {
      proc.child.stdout?.on('data', (d: Buffer | string) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops it.')) resolve(out);
      });
      void proc.exited.then(({ code }) => reject(new Error(`keymint sandbox exited ${code}: ${proc.stderr().slice(-500)}`)));
    });
    const readyMs = performance.now() - started;
    const url = /listening on (http:\/\/[^)]+)\)/.exec(banner)?.[1];
    const client = /app +(\S+) +secret (\S+) \(generated\)/.exec(banner);
    if (!url || !client) throw new Error(`keymint sandbox printed no URL or client:\n${banner}`);
    const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client[1], client_secret: client[2] }) });
    await res.arrayBuffer();
    const tokenMs = performance.now() - started;
    if (res.status !== 200) throw new Error(`the first token request answered ${res.status}`);
    const cpu = cpuSample(proc.pid);
    return { readyMs, tokenMs, cpuMs: cpu ? cpu.cpuNs / 1e6 : NaN, waitMs: cpu ? cpu.waitNs / 1e6 : NaN };
  } finally {
    await stop(proc);
  }
}
