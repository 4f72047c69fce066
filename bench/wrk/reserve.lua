-- POST /api/rooms/:id/reserve as the frontend does it: the session cookie plus X-CSRF-TOKEN.
-- Every request books a distinct free 30-minute slot: request g of the run (g = n * threads +
-- thread id) takes room BENCH_ROOMS[g % #rooms] at BENCH_BASE_EPOCH + floor(g / #rooms) * 30 min,
-- far beyond the seeded term. Every BENCH_REPEAT_EVERY-th request of a thread deliberately
-- repeats that thread's previous slot: exactly one of the two gets 201, the other 409.
count_statuses = true
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")

local rooms = {}
for id in string.gmatch(os.getenv("BENCH_ROOMS"), "%d+") do table.insert(rooms, tonumber(id)) end
local base = tonumber(os.getenv("BENCH_BASE_EPOCH"))
local nthreads = tonumber(os.getenv("BENCH_THREADS"))
local repeat_every = tonumber(os.getenv("BENCH_REPEAT_EVERY") or "0")
local headers = {
  ["Content-Type"] = "application/json",
  ["Cookie"] = "access_token_cookie=" .. os.getenv("BENCH_ACCESS_COOKIE"),
  ["X-CSRF-TOKEN"] = os.getenv("BENCH_CSRF"),
}
local n = 0
local last_path, last_body

function request()
  if repeat_every > 0 and last_path and n % repeat_every == repeat_every - 1 then
    n = n + 1
    local path, body = last_path, last_body
    last_path = nil
    return wrk.format("POST", path, headers, body)
  end
  local g = n * nthreads + tid
  n = n + 1
  local room = rooms[(g % #rooms) + 1]
  local start = base + math.floor(g / #rooms) * 1800
  last_path = "/api/rooms/" .. room .. "/reserve"
  last_body = string.format('{"start_time":"%s","end_time":"%s"}',
    os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", start + 1800))
  return wrk.format("POST", last_path, headers, last_body)
end
