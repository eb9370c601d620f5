"""Load (issue 8): wrk with 64 connections of mixed read requests against a
real cxsearchd on loopback while posts are written through the API
(POST /documents with the write key). Asserts zero socket errors, only 2xx
answers (counted per status by load_mixed.lua's response hook), every
write accepted, and the daemon's resident memory growing under 10% after
a warm-up; prints the figures.

Scale: CI runs 15 s (CXS_LOAD_SECONDS) after a 5 s warm-up
(CXS_LOAD_WARMUP); the full run of the issue is
    CXS_LOAD_SECONDS=60 python3 tests/e2e/test_load.py
In a sanitizer build the run is 5 s and the memory check is reported but
not asserted (ASan's quarantine holds freed memory by design).
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import (BUILD_DIR, SOURCE_DIR, Checks, Harness,  # noqa: E402
                         skip)
from cxs_synth import make_posts  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WRITE_KEY = "load-test-write-key-0123"
CONNECTIONS = 64


def sanitized_build():
    try:
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt"),
                  encoding="utf-8", errors="replace") as f:
            return "CXS_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


SLOW = sanitized_build()
SECONDS = int(os.environ.get("CXS_LOAD_SECONDS", "5" if SLOW else "15"))
WARMUP = int(os.environ.get("CXS_LOAD_WARMUP", "3" if SLOW else "5"))
CORPUS = 1000 if SLOW else 3000

QUERIES = [
    "клиентский опыт", "опыт клиента", "отзыв оператор", "\"клиент опыт\"",
    "исследов*", "жалоба OR отзыв", "сервис -звонок", "удовлетворённость",
    "esperienza cliente", "dell'esperienza", "perche", "reclamo fiducia",
    "\"servizio supporto\"", "questionar*", "customer journey", "churn",
    "NPS OR CSI", "survey -call", "\"customer feedback\"", "trust",
    "CX", "lang:it servizio", "channel:ch3 customer", "tag:t2 опыт",
    "date:2024-03..2024-06 quality", "", "nonexistentword", "a",
]
EXTRA = ["", "&limit=20", "&facets=channel,lang,year", "&sort=-date",
         "&offset=10", "&lang=ru", "&tag=t1&tag=t3", "&fields=*"]


def request_paths():
    """Mixed read paths, URL-encoded."""
    paths = []
    for i, q in enumerate(QUERIES):
        paths.append("/search?q=%s%s" % (urllib.parse.quote(q),
                                         EXTRA[i % len(EXTRA)]))
    for prefix in ("кли", "esper", "cust", "NP", "серв"):
        paths.append("/suggest?q=" + urllib.parse.quote(prefix))
    for n in (1, 17, 250, 999):
        paths.append("/documents/load%%2F%d" % n)
        paths.append("/documents/load/%d/similar?limit=5" % n)
    paths += ["/documents/cx_notes_ru/102", "/health", "/stats"]
    return paths


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Writer(threading.Thread):
    """Posts batches of new posts through the API until stopped."""

    def __init__(self, h):
        super().__init__(daemon=True)
        self.h = h
        self.stop = threading.Event()
        self.statuses = {}
        self.errors = []
        self.posts = 0
        self.next_id = 0

    def run(self):
        headers = {"Authorization": "Bearer " + WRITE_KEY,
                   "Content-Type": "application/json"}
        while not self.stop.is_set():
            batch = make_posts(10, prefix="written", start=self.next_id,
                               seed=self.next_id)
            self.next_id += 10
            try:
                s, body, _ = self.h.request("POST", "/documents", body=batch,
                                            headers=headers)
                self.statuses[s] = self.statuses.get(s, 0) + 1
                if s == 200:
                    self.posts += len(batch)
                else:
                    self.errors.append((s, str(body)[:200]))
            except OSError as e:
                self.errors.append(str(e))
            self.stop.wait(0.2)


def run_wrk(h, paths_file, secs):
    p = subprocess.run(
        ["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % secs, "--timeout",
         "10s", "-s", os.path.join(HERE, "load_mixed.lua"),
         "http://127.0.0.1:%d" % h.port, "--", paths_file],
        capture_output=True, text=True, timeout=secs + 60)
    for line in p.stdout.splitlines():
        if line.startswith("LOAD "):
            return json.loads(line[5:]), p.stdout
    raise RuntimeError("wrk printed no LOAD line:\n%s\n%s" %
                       (p.stdout, p.stderr))


def check_run(t, res, what):
    t.check(res["requests"] > 0, "%s: requests were made" % what)
    for kind in ("connect", "read", "write", "timeout"):
        t.check(res[kind] == 0, "%s: %d socket %s errors" %
                (what, res[kind], kind))
    bad = {k: v for k, v in res["statuses"].items() if not k.startswith("2")}
    t.check(res["status_errors"] == 0 and not bad,
            "%s: only 2xx answers (others: %s)" % (what, bad))


def main():
    if not shutil.which("wrk"):
        skip("wrk is not installed (scripts/install-deps --test)")
    t = Checks()
    with Harness() as h:
        src = os.path.join(h.tmp, "posts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for p in make_posts(CORPUS, prefix="load"):
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        h.index(os.path.join(SOURCE_DIR, "data", "sample"), src)
        h.start_daemon("[security]\nwrite_key = %s\n[files]\n"
                       "access_log = off\n" % WRITE_KEY)
        paths_file = os.path.join(h.tmp, "paths.txt")
        with open(paths_file, "w", encoding="utf-8") as f:
            f.write("\n".join(request_paths()) + "\n")
        base_docs = h.get("/health")[1]["documents"]
        # The pool's readers are opened ahead in the background: the
        # memory baseline after the warm-up must not catch one half-way.
        h.wait_readers_opened()

        writer = Writer(h)
        writer.start()
        warm, _ = run_wrk(h, paths_file, WARMUP)
        rss0 = rss_kb(h.proc.pid)
        res, out = run_wrk(h, paths_file, SECONDS)
        rss1 = rss_kb(h.proc.pid)
        writer.stop.set()
        writer.join(30)

        check_run(t, warm, "warm-up")
        check_run(t, res, "load")
        t.check(not writer.errors and writer.posts > 0,
                "writes during the load: %d posts, statuses %s, errors %s" %
                (writer.posts, writer.statuses, writer.errors[:3]))
        growth = (rss1 - rss0) / rss0 * 100 if rss0 else 0.0
        if SLOW:
            print("(sanitizer build: memory growth reported, not asserted)")
        else:
            t.check(growth < 10.0, "daemon RSS growth after warm-up %.1f%% "
                    "(%d -> %d kB) is under 10%%" % (growth, rss0, rss1))
        s, body = h.get("/health")
        t.check(s == 200 and body.get("documents") == base_docs + writer.posts,
                "every written post is in the index (%s, want %d)" %
                (body.get("documents"), base_docs + writer.posts))
        t.check(h.proc.poll() is None, "the daemon is still running")
        secs = res["duration_us"] / 1e6
        print("load: %d connections, %.0f s: %d requests, %.0f req/s, "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms; statuses %s; socket "
              "errors %d; writes %d posts in %d requests; RSS %d -> %d kB "
              "(%+.1f%%)" %
              (CONNECTIONS, secs, res["requests"], res["requests"] / secs,
               res["p50_us"] / 1e3, res["p99_us"] / 1e3, res["max_us"] / 1e3,
               res["statuses"], res["connect"] + res["read"] + res["write"] +
               res["timeout"], writer.posts, sum(writer.statuses.values()),
               rss0, rss1, growth))
    t.done()


if __name__ == "__main__":
    main()
