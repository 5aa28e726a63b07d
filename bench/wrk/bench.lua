-- wrk script of the Athena benchmark suite.
--
-- BENCH_BODY selects the request body:
--   branches  POST alternating {"name":"x","value":12} and {"name":"y","value":5}, so a
--             workflow's condition takes its true and its false branch equally often
--   create    POST an agent with a name unique to this run (BENCH_RUN_ID) and request
--   (unset)   no body: the method and headers given on wrk's command line
-- done() prints one line, "WRKJSON {...}", that bench/load.py parses.
local mode = os.getenv("BENCH_BODY") or ""
local run_id = os.getenv("BENCH_RUN_ID") or "run"
local branch_bodies = { '{"name":"x","value":12}', '{"name":"y","value":5}' }
local sent = 0

-- wrk.format() replaces wrk.headers when given a headers table, which would drop the
-- Authorization header of the command line, so the content type is added to wrk.headers.
if mode == "branches" or mode == "create" then
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  sent = sent + 1
  if mode == "branches" then
    return wrk.format("POST", nil, nil, branch_bodies[(sent % 2) + 1])
  elseif mode == "create" then
    local body = string.format('{"name":"Bench %s %d","instructions":"Answer briefly."}', run_id, sent)
    return wrk.format("POST", nil, nil, body)
  end
  return wrk.format(nil, nil, nil, nil)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.3f,"requests_per_second":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"non_2xx_3xx":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
