/**
 * Runs autocannon in its own (pinned) process: `node bench/autocannon-runner.ts SPEC_JSON`, where
 * SPEC_JSON is `{url, headers, body, connections, seconds}`. Prints one JSON line with the counts and
 * latency percentiles (ms). Used when wrk is not on PATH.
 */
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2] ?? '{}') as { url: string; headers: Record<string, string>; body: string; connections: number; seconds: number };
const result = await autocannon({
  url: spec.url,
  method: 'POST',
  headers: spec.headers,
  body: spec.body,
  connections: spec.connections,
  duration: spec.seconds,
  timeout: 10,
});
process.stdout.write(
  `${JSON.stringify({
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    max: result.latency.max,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).filter(([code]) => !code.startsWith('2')).map(([code, v]) => [code, v.count])),
  })}\n`,
);
