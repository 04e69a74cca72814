/**
 * Deterministic cost of a `keymint sandbox` start, for A/B comparisons on a busy machine where its
 * wall and CPU time are noise: `node bench/start-instructions.ts [ROUNDS] LABEL=BIN…`. Each round
 * starts every BIN (a bin/keymint.js: a checkout's, or an installed package's) under
 * `valgrind --tool=callgrind` with a sandbox file giving a fixed signing key (an RSA key generated at
 * start would vary with the primes it draws), asks its Orum token endpoint once, stops it with
 * SIGTERM and prints the instructions it executed, every thread counted. The start before the first
 * round is not counted: it fills Node's compile cache, as the sandbox section of `npm run bench`
 * does. About a minute per start.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, removeTempDir, tempDir } from './procs.ts';

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 2;
const forms = args.map((a) => {
  const eq = a.indexOf('=');
  if (eq < 1) throw new Error(`usage: node bench/start-instructions.ts [ROUNDS] LABEL=path/to/bin/keymint.js …; got ${a}`);
  return { label: a.slice(0, eq), bin: a.slice(eq + 1) };
});

const dir = tempDir('start-instructions');
try {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const file = join(dir, 'sandbox.json');
  writeFileSync(file, JSON.stringify({ version: 1, clients: { app: { dialects: ['orum'] } }, sandbox: { signingKey } }));
  for (const f of forms) await oneStart(f.bin, file, join(dir, 'warm.out'));
  const counts = new Map<string, number[]>(forms.map((f) => [f.label, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const f of forms) {
      const n = await oneStart(f.bin, file, join(dir, `${f.label}.out`));
      counts.get(f.label)!.push(n);
      process.stderr.write(`round ${round}: ${f.label} ${(n / 1e6).toFixed(1)} M instructions\n`);
    }
  }
  for (const [label, ns] of counts) console.log(`${label}: ${ns.map((n) => (n / 1e6).toFixed(1)).join(', ')} M instructions to the first token`);
} finally {
  removeTempDir(dir);
}

async function oneStart(bin: string, file: string, out: string): Promise<number> {
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, NODE, bin, 'sandbox', '--file', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Ctrl-C stops it.')) resolve();
      });
      void exited.then((code) => reject(new Error(`${bin} exited ${code}: ${stderr}`)));
    });
    const url = /listening on (http:\/\/[^)]+)\)/.exec(stdout)?.[1];
    const client = /app +(\S+) +secret (\S+) \(generated\)/.exec(stdout);
    if (!url || !client) throw new Error(`${bin} printed no URL or client:\n${stdout}`);
    const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client[1], client_secret: client[2] }) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`the first token request answered ${res.status}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!totals) throw new Error(`no instruction total in ${out}`);
  return Number(totals[1]);
}
