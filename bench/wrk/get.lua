-- GET one path (wrk's URL), optionally with a bearer token from BENCH_TOKEN and an
-- Accept-Encoding from BENCH_ACCEPT_ENCODING.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local encoding = os.getenv("BENCH_ACCEPT_ENCODING")
if encoding and encoding ~= "" then wrk.headers["Accept-Encoding"] = encoding end
