-- wrk_search.lua - drives cxsearchd's GET /search with the benchmark's query
-- set: `wrk -s wrk_search.lua URL -- QUERIES_FILE`.
--
-- Facts that shaped it: wrk runs one Lua state per thread, so each thread
-- reads the file in init() and pre-builds its requests (URL-encoded once,
-- not per request); setup() numbers the threads so each starts at another
-- point of the list, as independent users would. wrk's own --latency table
-- has no p95, so done() prints one JSON line with p50/p95/p99 (microseconds)
-- and every error count, which bench/run parses. Snippets are always on in
-- cxsearchd; limit=10 as for the peers.

local next_id = 0
local requests_list = {}
local pos = 0

function setup(thread)
    thread:set("tid", next_id)
    next_id = next_id + 1
end

local function urlencode(s)
    return (s:gsub("[^%w%-%._~]", function(c)
        return string.format("%%%02X", string.byte(c))
    end))
end

function init(args)
    local file = args[1]
    if not file then
        error("usage: wrk -s wrk_search.lua URL -- QUERIES_FILE")
    end
    for line in io.lines(file) do
        if line ~= "" then
            requests_list[#requests_list + 1] = wrk.format(
                "GET", "/search?q=" .. urlencode(line) .. "&limit=10")
        end
    end
    if #requests_list == 0 then
        error("no queries in " .. file)
    end
    pos = ((tid or 0) * 7919) % #requests_list
end

function request()
    pos = pos % #requests_list + 1
    return requests_list[pos]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '\nBENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
        '"errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
        '"errors_status": %d, "errors_timeout": %d, "p50_us": %d, ' ..
        '"p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
        summary.requests, summary.duration, summary.bytes, e.connect,
        e.read, e.write, e.status, e.timeout, latency:percentile(50),
        latency:percentile(95), latency:percentile(99), latency.max,
        latency.mean))
end
