/** The benchmark's pure parts: options, picking rounds, paired ratios, and the docs page it rewrites. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OptionError, parseOptions } from '../../bench/options.ts';
import { Report, writeDocs } from '../../bench/report.ts';
import { pairedRatio, Series } from '../../bench/rounds.ts';
import { histogramText, summarize } from '../../bench/latency.ts';
import { cpuDelta, cpuSample } from '../../bench/proc-stats.ts';

test('bench options: flags win over BENCH_* variables, which win over defaults', () => {
  const o = parseOptions(['--duration', '3', '--sections', 'core,dialects'], { BENCH_DURATION: '7', BENCH_ROUNDS: '5' });
  assert.ok(o !== 'help');
  assert.equal(o.duration, 3);
  assert.equal(o.rounds, 5);
  assert.deepEqual(o.sections, ['core', 'dialects']);
  assert.equal(o.connections, 64);
  assert.throws(() => parseOptions(['--sections', 'nope'], {}), OptionError);
  assert.throws(() => parseOptions(['--rounds', '0'], {}), OptionError);
  assert.equal(parseOptions(['--help'], {}), 'help');
  const d = parseOptions(['--data-stores', 'postgres'], { BENCH_DATA_STORES: 'sqlite' });
  assert.ok(d !== 'help');
  assert.deepEqual(d.dataStores, ['postgres']);
  assert.deepEqual((parseOptions([], {}) as { dataStores: string[] }).dataStores, ['sqlite', 'postgres']);
  assert.throws(() => parseOptions(['--data-stores', 'mysql'], {}), OptionError);
});

test('bench rounds: median is the lower middle round, best the highest score', () => {
  const s = new Series<number>('x', (n) => n);
  for (const n of [5, 1, 9, 3]) s.add(n);
  assert.equal(s.pick('median'), 3);
  assert.equal(s.pick('best'), 9);
  assert.equal(new Series<number>('empty', (n) => n).pick('median'), undefined);
});

test('bench ratios: median of per-round ratios, or ratio of the bests', () => {
  assert.equal(pairedRatio([100, 50, 90], [100, 100, 90], 'median'), 1);
  assert.equal(pairedRatio([100, 50], [100, 100], 'median'), 0.75);
  assert.equal(pairedRatio([100, 50], [200, 100], 'best'), 0.5);
});

test('bench docs: only the generated section is replaced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-bench-test-'));
  try {
    const path = join(dir, 'docs/benchmarks.md');
    const report = new Report();
    report.target('t', '1×', '≥ 1×', true);
    writeDocs(path, `## first\n${report.markdown()}`);
    const first = readFileSync(path, 'utf8');
    assert.match(first, /^# Benchmarks/);
    assert.match(first, /\| t \| 1× \| ≥ 1× \| \*\*PASS\*\* \|/);
    writeFileSync(path, first.replace('# Benchmarks', '# Benchmarks\n\nA hand-written line.'));
    writeDocs(path, '## second');
    const second = readFileSync(path, 'utf8');
    assert.match(second, /A hand-written line\./);
    assert.match(second, /## second/);
    assert.doesNotMatch(second, /## first/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench latency: percentiles and a histogram with fixed bounds', () => {
  const values = Float64Array.from([0.2, 0.4, 0.9, 1.5, 3, 7, 15, 40, 80, 250]);
  const s = summarize(values);
  assert.equal(s.count, 10);
  assert.equal(s.p50, 7);
  assert.equal(s.max, 250);
  assert.deepEqual(s.histogram, [2, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(histogramText([2, 0, 0, 0, 0, 0, 0, 0, 2]), '≤0.5: 50% · >100: 50%');
});

test('bench CPU accounting: a process\'s own CPU time, from /proc, grows with work', { skip: cpuSample(process.pid) === undefined && 'no /proc' }, () => {
  const before = cpuSample(process.pid)!;
  const own = process.cpuUsage();
  let used = 0;
  while (used < 50_000) {
    for (let i = 0; i < 1e5; i++) Math.sqrt(Math.random());
    const u = process.cpuUsage(own);
    used = u.user + u.system;
  }
  const d = cpuDelta(before, cpuSample(process.pid))!;
  // What /proc says this process used, against what the process itself counted (its other threads add a little).
  assert.ok(d.cpuSeconds >= 0.8 * (used / 1e6) && d.cpuSeconds < 2 * (used / 1e6) + 0.05, `${d.cpuSeconds} s vs ${used} µs`);
  assert.ok(d.waitSeconds >= 0);
});

test('bench paced load: the warm-up is sent but not counted, every measured request is answered once', async () => {
  const { createServer } = await import('node:http');
  const { pacedLoad } = await import('../../bench/load.ts');
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served++;
      // With its length stated: the generator reads content-length framing only (as Keymint answers),
      // and Node sometimes sends this body chunked otherwise (its bytes were then read as a status, "tru").
      res.writeHead(served % 50 === 0 ? 503 : 200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const r = await pacedLoad({ url: `http://127.0.0.1:${port}/token`, headers: {}, body: 'x=1' }, { connections: 4, rate: 200, seconds: 0.5, warmup: 0.25, core: -1 });
    assert.equal(served, 150); // 50 warm-up + 100 measured
    assert.equal(r.ok + r.failed, 100);
    assert.equal(r.latency?.count, 100);
    assert.equal(r.latency?.histogram.reduce((a, b) => a + b, 0), 100);
    // Every 50th answer served is a 503: two of them fall in the measured part (the 100th and 150th).
    assert.deepEqual(r.statuses, { '503': 2 });
    assert.equal(typeof r.pauses?.count, 'number');
  } finally {
    server.close();
  }
});
