-- wrk script of the sessionware benchmark: mints sessions. Usage:
--   wrk -t1 -c16 -d<seconds>s -s bench/mint.lua <url> -- <limit> <cookie file> [<every>]
-- Sends GET /write without a cookie for the whole run and appends the `name=value` of the
-- response's Set-Cookie to <cookie file>, for every <every>-th response (default 1) and at most
-- <limit> lines. A response must carry exactly one cookie (sessionware's do): wrk keeps one value
-- per header name. `done` prints one line, `RESULT {json}`, with the responses counted.

local limit = 0
local every = 1
local seen = 0
local written = 0
local file = nil

function init(args)
  limit = tonumber(args[1]) or 0
  file = io.open(args[2], 'a')
  every = tonumber(args[3]) or 1
  wrk.path = '/write'
end

function response(status, headers, _body)
  local cookie = headers['Set-Cookie'] or headers['set-cookie']
  if status ~= 200 or cookie == nil then
    return
  end
  seen = seen + 1
  if written < limit and seen % every == 0 then
    written = written + 1
    file:write(string.match(cookie, '^[^;]+'), '\n')
    if written == limit or written % 1000 == 0 then
      file:flush()
    end
  end
end

function done(summary, _latency, _requests)
  io.write(string.format('RESULT {"requests":%d,"durationUs":%d}\n', summary.requests, summary.duration))
end
