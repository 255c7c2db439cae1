-- wrk script: cycle through a pool of pre-built, pre-signed raw HTTP requests.
--
-- BENCH_POOL names a file of records "<byte length>\n<raw request bytes>" written by
-- bench/ingest.py. Each wrk thread takes every n-th record (n = number of threads), so no two
-- threads send the same webhook-id; a thread that runs out of its share wraps around (counted
-- as "wrapped": those requests are redeliveries and are answered 200, not 202).
-- done() prints one line "BENCH_JSON {...}" that ingest.py parses.

local pool_path = os.getenv("BENCH_POOL")
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  reqs = {}
  local f = assert(io.open(pool_path, "rb"))
  local i = 0
  while true do
    local line = f:read("*l")
    if not line then break end
    local data = f:read(tonumber(line))
    if i % nthreads == tid then reqs[#reqs + 1] = data end
    i = i + 1
  end
  f:close()
  idx = 0
  wrapped = 0
  statuses = {}
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wrapped = wrapped + 1
  end
  return reqs[idx]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, wraps = {}, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do counts[code] = (counts[code] or 0) + n end
    wraps = wraps + t:get("wrapped")
  end
  local parts = {}
  for code, n in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"wrapped":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, wraps, e.connect, e.read, e.write,
    e.status, e.timeout, table.concat(parts, ",")))
end
