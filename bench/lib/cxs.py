"""cxs.py - cxsearch's side of the benchmark: Release build, `cxsearch index`
under GNU time, size before and after xapian-compact, cxsearchd's cold
start, wrk load at each connection count, and the daemon's RSS afterwards.

Facts that shaped it: `cxsearch index` exits 3 when the import finished but
skipped some records (counted, not fatal: the summary says which); "cold
start" here means the index files were evicted from the page cache
(posix_fadvise DONTNEED, no root needed, nothing else on the shared machine
is touched) before cxsearchd is spawned, and ends at the first HTTP 200 to
a real search; the daemon's RSS is read from /proc/<pid>/status after the
last run, both VmRSS and RssAnon (RssAnon excludes mapped index pages, i.e.
the page cache the issue's 300 MB target excludes). wrk prints our JSON
line (wrk_search.lua's done()).
"""
import json
import os
import shutil
import subprocess
import time
import urllib.parse

from common import (BenchError, by_kind, du_bytes, evict_page_cache,
                    http_get, log, proc_rss_anon_mb, proc_rss_mb,
                    read_query_rows, run, timed)

HERE = os.path.dirname(os.path.abspath(__file__))

# cxsearchd settings for the run: no access log (it would measure the disk),
# no rate limit (one address sends everything), room for 64 connections
# plus the probes; threads = 0 means one per core.
DAEMON_CONF = """# written by bench/run for one benchmark run
[server]
threads = 0
max_connections = 512
connection_timeout = 30
access_log = off
[security]
rate_limit = 0
"""


def build(src, build_dir, build_type, timeout):
    """scripts/build into build_dir (incremental when already built)."""
    env = dict(os.environ, BUILD_DIR=build_dir, BUILD_TYPE=build_type)
    log("cxsearch: scripts/build (%s, %s)" % (build_dir, build_type))
    p = subprocess.run([os.path.join(src, "scripts", "build")], cwd=src,
                       env=env, capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise BenchError("scripts/build failed:\n" + (p.stdout + p.stderr)
                         [-3000:])


def index(cxsearch, db, corpus, timeout):
    if os.path.exists(db):
        shutil.rmtree(db)
    log("cxsearch: index %s" % corpus)
    r = timed([cxsearch, "index", "--db", db, "--quiet", corpus], timeout,
              ok_codes=(0, 3))
    out = {"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
           "cpu_percent": r["cpu_percent"], "cpu_s": r["cpu_s"],
           "exit_code": r["code"]}
    if r["code"] == 3:
        out["note"] = "some records were skipped: " + r["stderr"][-500:]
    return out


def compact(db, timeout):
    """xapian-compact into a sibling folder; returns its size in bytes or
    None with the reason."""
    tool = shutil.which("xapian-compact")
    if not tool:
        return None, "xapian-compact missing (apt-get install xapian-tools)"
    dest = db + "-compact"
    if os.path.exists(dest):
        shutil.rmtree(dest)
    try:
        run([tool, db, dest], timeout=timeout)
    except BenchError as e:
        return None, str(e)
    size = du_bytes(dest)
    shutil.rmtree(dest, ignore_errors=True)
    return size, None


class Daemon:
    def __init__(self, cxsearchd, work, db, port):
        self.bin = cxsearchd
        self.db = db
        self.port = port
        self.conf = os.path.join(work, "cxsearchd.conf")
        self.logpath = os.path.join(work, "cxsearchd.log")
        self.proc = None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def search_url(self, q):
        return self.url("/search?" + urllib.parse.urlencode(
            {"q": q, "limit": "10"}))

    def start_cold(self, probe_query, timeout=120):
        """Evicts the index from the page cache, spawns the daemon, and
        returns seconds to the first 200 answer to a search."""
        with open(self.conf, "w") as f:
            f.write(DAEMON_CONF)
        evicted = evict_page_cache(self.db)
        logf = open(self.logpath, "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.bin, "--config", self.conf, "--db", self.db, "--listen",
             "127.0.0.1:%d" % self.port], stdout=logf,
            stderr=subprocess.STDOUT)
        logf.close()
        url = self.search_url(probe_query)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("cxsearchd exited (%d): %s" % (
                    self.proc.returncode, self.log_tail()))
            status, _body = http_get(url, timeout=10)
            if status == 200:
                return time.monotonic() - t0, evicted
            time.sleep(0.005)
        raise BenchError("cxsearchd gave no answer in %d s: %s" %
                         (timeout, self.log_tail()))

    def log_tail(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def rss(self):
        return {"vmrss_mb": proc_rss_mb(self.proc.pid),
                "rss_anon_mb": proc_rss_anon_mb(self.proc.pid)}

    def probe_all(self, queries_tsv, timeout_s=180):
        """Asks every query once, one at a time: the share with at least
        one hit (a sanity check that the systems answer the same
        questions), and latency per query kind with how many answers were
        relaxed to OR or carried a spelling suggestion, which shows where
        the time goes. Bounded in time."""
        hits = asked = bad = 0
        samples = []
        deadline = time.monotonic() + timeout_s
        for _lang, kind, q in read_query_rows(queries_tsv):
            if time.monotonic() > deadline:
                break
            t0 = time.monotonic()
            status, body = http_get(self.search_url(q), timeout=30)
            ms = (time.monotonic() - t0) * 1000.0
            asked += 1
            try:
                doc = json.loads(body) if status == 200 else None
            except ValueError:
                doc = None
            if doc is None:
                bad += 1
                samples.append((kind, ms, False, {}))
                continue
            found = doc.get("total", 0) > 0
            hits += 1 if found else 0
            samples.append((kind, ms, found, {
                "relaxed": 1 if doc.get("relaxed") else 0,
                "suggestion": 1 if doc.get("suggestion") else 0}))
        return ({"asked": asked, "with_hits": hits, "errors": bad},
                by_kind(samples, ("relaxed", "suggestion")))


def wrk(port, queries_txt, connections, duration):
    threads = max(1, min(connections, os.cpu_count() or 1))
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d",
           "%ds" % duration, "--timeout", "10s", "-s",
           os.path.join(HERE, "wrk_search.lua"),
           "http://127.0.0.1:%d" % port, "--", queries_txt]
    p = run(cmd, timeout=duration * 3 + 60)
    line = [ln for ln in p.stdout.splitlines()
            if ln.startswith("BENCH_JSON ")]
    if not line:
        raise BenchError("wrk printed no result:\n" + p.stdout[-1500:])
    r = json.loads(line[-1][len("BENCH_JSON "):])
    secs = r["duration_us"] / 1e6
    errors = (r["errors_connect"] + r["errors_read"] + r["errors_write"] +
              r["errors_status"] + r["errors_timeout"])
    return {"connections": connections, "duration_s": duration,
            "requests": r["requests"], "errors": errors,
            "errors_detail": {k[7:]: v for k, v in r.items()
                              if k.startswith("errors_")},
            "qps": r["requests"] / secs if secs else None,
            "p50_ms": r["p50_us"] / 1000.0, "p95_ms": r["p95_us"] / 1000.0,
            "p99_ms": r["p99_us"] / 1000.0,
            "mb_per_s": r["bytes"] / secs / 1e6 if secs else None,
            "client": "wrk -t%d (HTTP/1.1 keep-alive)" % threads}
