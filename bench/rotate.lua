-- wrk script for the sessionware benchmark (bench/run.ts writes the arguments).
-- Usage: wrk -s bench/rotate.lua <url> -- <path> <cookie file>
-- Every request is GET <path>; the Cookie header cycles through the lines of <cookie file>
-- (one `name=value` a line; an empty file sends no Cookie header). Requests are formatted once,
-- in init, so rotating through 10,000 cookies costs wrk no more than sending one.
-- `done` prints one line, `RESULT {json}`, that bench/load.ts parses.

local requests = {}
local count = 0
local index = 0

function init(args)
  local path = args[1] or '/'
  local file = args[2]
  if file ~= nil and file ~= '' then
    for line in io.lines(file) do
      if #line > 0 then
        count = count + 1
        requests[count] = wrk.format('GET', path, { Cookie = line })
      end
    end
  end
  if count == 0 then
    count = 1
    requests[1] = wrk.format('GET', path)
  end
end

function request()
  index = index + 1
  if index > count then
    index = 1
  end
  return requests[index]
end

function done(summary, latency, _requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"durationUs":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max
  ))
end
