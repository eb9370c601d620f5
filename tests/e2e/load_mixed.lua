-- load_mixed.lua - wrk script of tests/e2e/test_load.py: mixed read
-- requests (searches with filters, facets, sorting and paging, phrases,
-- prefixes, suggestions, documents, similar posts) picked from a file of
-- request paths, one per line, already URL-encoded by the test:
--     wrk -s load_mixed.lua URL -- PATHS_FILE
--
-- Facts that shaped it: wrk runs one Lua state per thread, so each thread
-- reads the file in init() and starts at its own point of the list; wrk
-- counts only socket errors and "non-2xx or 3xx" answers, so response()
-- counts every status per thread and done() collects the counts from the
-- threads (thread:get copies their tables) and prints one JSON line,
-- "LOAD {...}", that the test parses.

local threads = {}
local paths = {}
local pos = 0
statuses = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            paths[#paths + 1] = wrk.format("GET", line)
        end
    end
    if #paths == 0 then
        error("no request paths in " .. args[1])
    end
    pos = ((tid or 0) * 7919) % #paths
end

function request()
    pos = pos % #paths + 1
    return paths[pos]
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for k, v in pairs(s) do
            total[k] = (total[k] or 0) + v
        end
    end
    local parts = {}
    for k, v in pairs(total) do
        parts[#parts + 1] = string.format('"%d": %d', k, v)
    end
    local e = summary.errors
    io.write(string.format(
        'LOAD {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
        '"connect": %d, "read": %d, "write": %d, "status_errors": %d, ' ..
        '"timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
        '"statuses": {%s}}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read,
        e.write, e.status, e.timeout, latency:percentile(50),
        latency:percentile(99), latency.max, table.concat(parts, ", ")))
end
