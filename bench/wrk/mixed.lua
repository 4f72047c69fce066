-- The soak's mixed load, per request: 40% GET /api/rooms, 25% GET /api/rooms/:id (a random
-- room), 15% GET /api/reservations/mine (BENCH_TOKEN's user, whose list does not grow), 12% POST
-- reserve (another user, distinct slots, as reserve.lua), 7% GET /api/health, 1% POST /api/auth/login.
count_statuses = true
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")

local rooms = {}
for id in string.gmatch(os.getenv("BENCH_ROOMS"), "%d+") do table.insert(rooms, tonumber(id)) end
local all_rooms = {}
for id in string.gmatch(os.getenv("BENCH_ALL_ROOMS"), "%d+") do table.insert(all_rooms, tonumber(id)) end
local base = tonumber(os.getenv("BENCH_BASE_EPOCH"))
local nthreads = tonumber(os.getenv("BENCH_THREADS"))
local auth = {
  ["Cookie"] = "access_token_cookie=" .. os.getenv("BENCH_ACCESS_COOKIE"),
  ["X-CSRF-TOKEN"] = os.getenv("BENCH_CSRF"),
  ["Content-Type"] = "application/json",
}
local login_body = string.format('{"name":"%s","password":"%s"}', os.getenv("BENCH_LOGIN_NAME"), os.getenv("BENCH_LOGIN_PASSWORD"))
local json = { ["Content-Type"] = "application/json" }
local reader = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local n = 0

function init(args)
  math.randomseed(os.time() + tid * 7919)
end

function request()
  local p = math.random(100)
  if p <= 40 then return wrk.format("GET", "/api/rooms") end
  if p <= 65 then return wrk.format("GET", "/api/rooms/" .. all_rooms[math.random(#all_rooms)]) end
  if p <= 80 then return wrk.format("GET", "/api/reservations/mine", reader) end
  if p <= 92 then
    local g = n * nthreads + tid
    n = n + 1
    local start = base + math.floor(g / #rooms) * 1800
    return wrk.format("POST", "/api/rooms/" .. rooms[(g % #rooms) + 1] .. "/reserve", auth,
      string.format('{"start_time":"%s","end_time":"%s"}',
        os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", start + 1800)))
  end
  if p <= 99 then return wrk.format("GET", "/api/health") end
  return wrk.format("POST", "/api/auth/login", json, login_body)
end
