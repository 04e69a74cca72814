/**
 * An open-loop paced load generator (wrk2 is not packaged; autocannon's rate limit sends each
 * second's quota in a burst): `node bench/paced-load.ts SPEC_JSON` with `{url, headers, body,
 * connections, rate, seconds}` sends `rate` requests per second at even intervals over at most
 * `connections` keep-alive sockets for `seconds`, at most rate × seconds requests in all. Latency runs
 * from each request's scheduled send time, so a stalled server is not hidden (no coordinated
 * omission). Prints one JSON line with counts and percentiles (ms).
 */
import { Agent, request } from 'node:http';

interface Spec { url: string; headers: Record<string, string>; body: string; connections: number; rate: number; seconds: number }
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const total = Math.floor(spec.rate * spec.seconds);
const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
const url = new URL(spec.url);
const body = Buffer.from(spec.body);
const headers = { ...spec.headers, 'content-length': String(body.length) };
const latencies: number[] = [];
let ok = 0;
let failed = 0;
const statuses: Record<string, number> = {};
let sent = 0;

function fire(scheduled: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - scheduled);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) ok++;
        else {
          failed++;
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end(body);
  });
}

const start = performance.now() + 20;
const interval = 1000 / spec.rate;
const pending: Promise<void>[] = [];
while (sent < total) {
  const now = performance.now();
  while (sent < total && start + sent * interval <= now) {
    pending.push(fire(start + sent * interval));
    sent++;
  }
  const next = start + sent * interval - performance.now();
  await new Promise((r) => (next > 1 ? setTimeout(r, Math.floor(next)) : setImmediate(r)));
}
const hardStop = setTimeout(() => process.exit(3), 15_000);
await Promise.all(pending);
clearTimeout(hardStop);
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ ok, failed, seconds: elapsed, p50: at(0.5), p99: at(0.99), max: at(1), statuses })}\n`);
agent.destroy();
