-- wrk script for token requests: the method, body and headers come from the environment
-- (BENCH_WRK_BODY, BENCH_WRK_HEADERS as "Name: value" lines) so bench/load.ts needs no code generation.
-- At the end it prints one line "BENCH_JSON {...}" with the counts and latency percentiles (µs).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_WRK_BODY") or ""
for line in string.gmatch(os.getenv("BENCH_WRK_HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
