/**
 * Where a server's per-request garbage comes from, by allocating function. Two roles in one file:
 *
 * - Loaded into the server (`--import bench/alloc-sites.ts` with BENCH_ALLOC_SITES_FILE set), the
 *   first SIGUSR2 starts V8's sampling heap profiler, keeping the samples of objects that scavenges
 *   and mark-compacts have since collected (a plain `--heap-prof` keeps only what is still alive, and
 *   per-request garbage is all collected), and the second writes the profile to that file.
 * - Run as `node bench/alloc-sites.ts FILE TOKENS [TOP]`, it prints the bytes each function allocated
 *   per token (its own allocations, not its callees'), largest first.
 *
 * With bench/instructions.ts: `BENCH_ALLOC_SITES_FILE=/tmp/k.json node bench/instructions.ts --mode
 * alloc --usr2 --node-flag=--import=./bench/alloc-sites.ts --tokens 3000`, then
 * `node bench/alloc-sites.ts /tmp/k.json 3000`. Sampling every 512 bytes slows the server several
 * times over: the figures are bytes, not time.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface SampleNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SampleNode[];
}

function install(file: string): void {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    const step = sampling
      ? session.post('HeapProfiler.stopSampling').then(({ profile }) => {
          writeFileSync(`${file}.part`, JSON.stringify(profile));
          renameSync(`${file}.part`, file);
        })
      : session
          .post('HeapProfiler.enable')
          .then(() => session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }));
    sampling = !sampling;
    step.catch((err: unknown) => process.stderr.write(`alloc-sites: ${String(err)}\n`));
  });
}

function summarise(file: string, tokens: number, top: number): void {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: SampleNode }).head;
  const bySite = new Map<string, number>();
  let total = 0;
  const visit = (node: SampleNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    total += node.selfSize;
    if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(head);
  process.stdout.write(`${Math.round(total / tokens)} bytes sampled per token\n`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${String(Math.round(bytes / tokens)).padStart(7)}  ${site}\n`);
  }
}

if (import.meta.main) {
  const [file, tokens, top = '40'] = process.argv.slice(2);
  if (!file || !tokens) throw new Error('usage: node bench/alloc-sites.ts PROFILE.json TOKENS [TOP]');
  summarise(file, Number(tokens), Number(top));
} else if (process.env.BENCH_ALLOC_SITES_FILE) {
  install(process.env.BENCH_ALLOC_SITES_FILE);
}
