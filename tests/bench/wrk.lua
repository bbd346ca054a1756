-- wrk script of `make bench`: sends the request bodies of a file, checks every answer, and prints
-- one machine-readable line of results in done().
-- args: BODIES_FILE ("-" for a GET without body) EXPECT TOKEN API_KEY ("-": none; else sent as
-- the X-API-Key header of every request)
-- A body containing __OID__ gets a unique order id per request: TOKEN, the thread number and a
-- per-thread counter, so no createOrder request is a duplicate of another; __PHN__ becomes 7
-- digits from the thread number and the counter (a new customer's phone, for the CRM).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   local path = args[1] or "-"
   expect = args[2] or ""
   token = args[3] or "T"
   local key = args[4] or "-"
   bodies, prebuilt, n, bad, sample = {}, {}, 0, 0, ""
   if path ~= "-" then
      for line in io.lines(path) do
         if line ~= "" then bodies[#bodies + 1] = line end
      end
   end
   headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
   local get_headers = nil
   if key ~= "-" then
      headers["X-API-Key"] = key
      get_headers = { ["X-API-Key"] = key }
   end
   unique = #bodies > 0 and bodies[1]:find("__OID__", 1, true) ~= nil
   if #bodies == 0 then
      prebuilt[1] = wrk.format("GET", nil, get_headers)
   elseif not unique then
      for i, body in ipairs(bodies) do prebuilt[i] = wrk.format("POST", nil, headers, body) end
   end
end

function request()
   n = n + 1
   if unique then
      local body = bodies[(n % #bodies) + 1]:gsub("__OID__", token .. tid .. "N" .. n)
         :gsub("__PHN__", string.format("%d%06d", tid, n % 1000000))
      return wrk.format("POST", nil, headers, body)
   end
   return prebuilt[(n % #prebuilt) + 1]
end

function response(status, hdrs, body)
   if status < 200 or status > 299 or not body:find(expect, 1, true)
      or body:find('"errors"', 1, true) then
      bad = bad + 1
      if sample == "" then sample = status .. " " .. body:sub(1, 400):gsub("[\r\n]", " ") end
   end
end

function done(summary, latency, requests)
   local total_bad, first = 0, ""
   for _, thread in ipairs(threads) do
      total_bad = total_bad + (thread:get("bad") or 0)
      local s = thread:get("sample") or ""
      if first == "" then first = s end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"bad":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
      total_bad))
   io.write("BENCH_SAMPLE " .. first .. "\n")
end
