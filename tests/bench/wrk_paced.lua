-- wrk.lua at a fixed request rate (for createOrder, whose bodies hey cannot vary).
-- args: as wrk.lua, then RATE_PER_THREAD (requests per second each wrk thread sends).
-- Each thread hands out send slots every 1000/RATE ms; a connection that is ready takes the next
-- slot (or sends at once when the slot has passed: no backlog, like hey's dropped ticks).

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk.lua")

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

local function now_ms()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local base_init = init

function init(args)
   base_init(args)
   interval = 1000 / tonumber(args[5] or "1")
   next_slot = nil
end

function delay()
   local now = now_ms()
   local slot = math.max(now, next_slot or now)
   next_slot = slot + interval
   return math.floor(slot - now + 0.5)
end
