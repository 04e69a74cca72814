-- wrk script for token requests: the method, body and headers come from the environment
-- (BENCH_WRK_BODY, BENCH_WRK_HEADERS as "Name: value" lines) so bench/load.ts needs no code generation.
-- Non-2xx answers are counted by status. At the end it prints one line "BENCH_JSON {...}" with the
-- counts and latency percentiles (µs).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_WRK_BODY") or ""
for line in string.gmatch(os.getenv("BENCH_WRK_HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

statuses = {}
function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%d":%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, table.concat(parts, ",")))
end
