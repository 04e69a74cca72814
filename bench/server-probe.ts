/**
 * Loaded into a server under test with `node --import bench/server-probe.ts …` (bench/servers.ts):
 * the server's own view of its pauses, which no load generator can see apart from its own.
 * It keeps an event-loop delay histogram (perf_hooks.monitorEventLoopDelay, 1 ms resolution) and
 * every garbage collection's duration; on SIGUSR2 it writes both to BENCH_PROBE_FILE as one JSON
 * object and starts over, so the bench reads exactly one round. Nothing of the server is changed.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHistogram, monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';

const file = process.env.BENCH_PROBE_FILE;
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
let gc = { minor: 0, major: 0, other: 0, totalMs: 0, maxMs: 0, over1ms: 0 };
const reset = () => (gc = { minor: 0, major: 0, other: 0, totalMs: 0, maxMs: 0, over1ms: 0 });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else gc.other++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    if (e.duration > 1) gc.over1ms++;
  }
}).observe({ entryTypes: ['gc'] });

// The server's own time per request: from node:http's 'request' event to the answer handed to the
// socket ('finish'), and how many requests were in progress at once (work interleaved across
// requests delays the first answers of a burst).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
const served = createHistogram();
let inProgress = 0;
let concurrent = { overlapped: 0, maxInProgress: 0 };
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: import('node:http').Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'request') {
    const t = performance.now();
    if (inProgress > 0) concurrent.overlapped++;
    concurrent.maxInProgress = Math.max(concurrent.maxInProgress, ++inProgress);
    (args[1] as ServerResponse).once('finish', () => {
      inProgress--;
      served.record(Math.max(1, Math.round((performance.now() - t) * 1000)));
    });
  }
  return Reflect.apply(emit, this, [event, ...args]) as boolean;
} as typeof emit;

let since = performance.now();
process.on('SIGUSR2', () => {
  const ms = (ns: number) => ns / 1e6;
  const now = performance.now();
  const stats = {
    seconds: (now - since) / 1000,
    // The histogram counts the timer's lateness beyond its 1 ms resolution.
    eventLoopDelay: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), p999: ms(eld.percentile(99.9)), max: ms(eld.max), count: eld.count },
    gc: { ...gc },
    requests: { count: served.count, p50: served.percentile(50) / 1000, p99: served.percentile(99) / 1000, p999: served.percentile(99.9) / 1000, max: served.max / 1000, ...concurrent },
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
  if (file) writeFileSync(file, JSON.stringify(stats));
  eld.reset();
  reset();
  served.reset();
  concurrent = { overlapped: 0, maxInProgress: 0 };
  since = now;
});
