-- GET one path with If-None-Match: BENCH_IF_NONE_MATCH (a client revalidating what it has: 304
-- expected, with no body). Statuses are counted, so a 200 among them shows.
count_statuses = true
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")
wrk.headers["If-None-Match"] = os.getenv("BENCH_IF_NONE_MATCH") or ""
