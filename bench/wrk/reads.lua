-- The room views' read load: BENCH_LIST_PERCENT (default 60) % GET /api/rooms, the rest
-- GET /api/rooms/:id of a random room of BENCH_ALL_ROOMS. No writes (bench/cache-soak.ts books
-- beside it, every 100 ms).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")
local all_rooms = {}
for id in string.gmatch(os.getenv("BENCH_ALL_ROOMS"), "%d+") do table.insert(all_rooms, tonumber(id)) end

function init(args)
  math.randomseed(os.time() + tid * 7919)
end

local list_percent = tonumber(os.getenv("BENCH_LIST_PERCENT") or "60")

function request()
  if math.random(100) <= list_percent then return wrk.format("GET", "/api/rooms") end
  return wrk.format("GET", "/api/rooms/" .. all_rooms[math.random(#all_rooms)])
end
