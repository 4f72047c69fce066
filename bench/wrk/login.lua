-- POST /api/auth/login with one account (BENCH_LOGIN_NAME / BENCH_LOGIN_PASSWORD).
count_statuses = true
dofile((os.getenv("BENCH_LUA_DIR") or "bench/wrk") .. "/stats.lua")
wrk.method = "POST"
wrk.path = "/api/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"name":"%s","password":"%s"}', os.getenv("BENCH_LOGIN_NAME"), os.getenv("BENCH_LOGIN_PASSWORD"))
