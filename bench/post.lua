-- wrk script for bench/serve_bench.py: POSTs one /run_code body (the
-- environment variable RB_BODY) and prints a JSON summary line at the end.
wrk.method = "POST"
wrk.body = os.getenv("RB_BODY")
wrk.headers["Content-Type"] = "application/json"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
