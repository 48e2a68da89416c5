-- wrk script of the sessionware benchmark (bench/load.ts writes the arguments).
-- Usage: wrk -s bench/rotate.lua <url> -- <paths> <cookie file>
-- <paths> is one path or several separated by commas (the warm-up loads every route at once).
-- Every request is GET <path>, the Cookie header cycling through the lines of <cookie file> (one
-- `name=value; ...` a line; an empty file sends no Cookie header); with several paths each cookie
-- goes with each path in turn. Requests are formatted once, in init, so rotating through 10,000
-- cookies costs wrk no more than sending one.
-- `done` prints one line, `RESULT {json}`, that bench/load.ts parses.

local requests = {}
local count = 0
local index = 0

local function add(paths, cookie)
  for _, path in ipairs(paths) do
    count = count + 1
    if cookie == nil then
      requests[count] = wrk.format('GET', path)
    else
      requests[count] = wrk.format('GET', path, { Cookie = cookie })
    end
  end
end

function init(args)
  local paths = {}
  for path in string.gmatch(args[1] or '/', '[^,]+') do
    paths[#paths + 1] = path
  end
  local file = args[2]
  local any = false
  if file ~= nil and file ~= '' then
    for line in io.lines(file) do
      if #line > 0 then
        any = true
        add(paths, line)
      end
    end
  end
  if not any then
    add(paths, nil)
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
