-- Drives TOTP authentications round-robin over the users written above by bench/load.py.
-- Each wrk thread walks the users from its own offset with a stride of the thread count.
-- One request in `correct_every` (0: none), drawn at random so that every user gets some, carries
-- the user's code of the current time step; all others carry a code that matches no step of the
-- run. A user's code is accepted once per step (200); its later uses answer 400 with 3402.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("offset", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  position = offset
  math.randomseed(os.time() * 7919 + offset)
  counts = {}
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  local i = position % user_count + 1
  position = position + stride
  local code = wrong[i]
  if correct_every > 0 and math.random(correct_every) == 1 then
    local k = math.floor(os.time() / period) - first_step + 1
    local mine = correct[i]
    if mine ~= nil and mine[k] ~= nil then
      code = mine[k]
    end
  end
  local path = path_prefix .. users[i] .. path_suffix
  return wrk.format("POST", path, headers, '{"code":"' .. code .. '"}')
end

function response(status, headers, body)
  local key = tostring(status)
  if status ~= 200 then
    local code = string.match(body, '"code"%s*:%s*(%d+)')
    if code ~= nil then
      key = key .. ":" .. code
    end
  end
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local answers = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("counts")) do
      answers[key] = (answers[key] or 0) + count
    end
  end
  local parts = {}
  for key, count in pairs(answers) do
    table.insert(parts, string.format('"%s": %d', key, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us": %d, "requests": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p95": %d, ' ..
    '"p99": %d, "mean": %.1f, "max": %d}, "answers": {%s}}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    latency.max, table.concat(parts, ", ")))
end
