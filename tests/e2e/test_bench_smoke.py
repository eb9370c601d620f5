"""test_bench_smoke.py - keeps bench/run working: runs `bench/run --smoke`
(a couple of thousand synthetic posts, one second per load run) against the
programs of this build and checks that the results JSON has what the
benchmark promises (machine, corpus, cxsearch's build, size, cold start,
load percentiles per connection count, daemon RSS, ratios, targets).

No timing assertions: CI machines are shared and slow; only that each
figure was measured (a number, not missing) and is sane (positive, p50 <=
p95 <= p99). PostgreSQL and Sphinx take part when installed (their sections
then need the same keys); when not, they must be recorded as skipped.
Skips (exit 77) when ../shared/bench (the corpus generator) is absent or
the programs are not built.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import (BUILD_DIR, CXSEARCH, CXSEARCHD, SHARED_DIR,  # noqa
                         SOURCE_DIR, Checks, skip)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_load(c, name, loads, conns):
    c.check(isinstance(loads, list) and
            sorted(r.get("connections") for r in loads) == sorted(conns),
            "%s: one load run per connection count %s" % (name, conns))
    for r in loads or []:
        ok = all(number(r.get(k)) for k in ("qps", "p50_ms", "p95_ms",
                                             "p99_ms", "requests"))
        c.check(ok, "%s at %s: qps and p50/p95/p99 measured: %r" %
                (name, r.get("connections"), r))
        if ok:
            c.check(r["requests"] > 0 and r["qps"] > 0,
                    "%s at %s: requests were answered" %
                    (name, r["connections"]))
            c.check(r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"],
                    "%s at %s: percentiles ordered" %
                    (name, r["connections"]))
        c.check(r.get("errors") == 0, "%s at %s: no errors (%r)" %
                (name, r.get("connections"), r.get("errors")))


def check_results(c, res, conns):
    for k in ("schema", "timestamp", "mode", "config", "machine",
              "versions", "corpus", "systems", "ratios", "targets", "notes"):
        c.check(k in res, "results have '%s'" % k)
    m = res.get("machine", {})
    c.check(bool(m.get("cpu_model")) and number(m.get("cores")) and
            number(m.get("ram_gb")) and bool(m.get("kernel")),
            "machine described (cpu, cores, RAM, kernel): %r" % m)
    c.check(res.get("mode") == "smoke", "mode is smoke")
    c.check(res.get("corpus", {}).get("posts") == 2000 and
            res["corpus"].get("text_bytes", 0) > 0,
            "corpus of 2000 posts with its text size")
    cx = res.get("systems", {}).get("cxsearch", {})
    c.check("error" not in cx, "cxsearch step ran: %s" % cx.get("error"))
    c.check(number(cx.get("build", {}).get("wall_s")) and
            number(cx["build"].get("peak_rss_mb")),
            "cxsearch build time and peak RSS measured")
    c.check(cx.get("size", {}).get("bytes", 0) > 0 and
            cx["size"].get("compact_bytes", 0) > 0,
            "cxsearch index size before and after compaction")
    if shutil.which("wrk"):
        c.check(number(cx.get("cold_start_s")), "cold start measured")
        check_load(c, "cxsearch", cx.get("load"), conns)
        c.check(number(cx.get("daemon_rss", {}).get("rss_anon_mb")),
                "daemon RSS measured")
        hr = cx.get("hit_rate", {})
        c.check(hr.get("asked", 0) > 0 and hr.get("errors") == 0 and
                hr.get("with_hits", 0) > 0, "queries answered with hits: "
                "%r" % hr)
    for peer in ("postgresql", "sphinx"):
        p = res.get("systems", {}).get(peer, {})
        if "skipped" in p:
            continue
        c.check("error" not in p, "%s step ran: %s" % (peer, p.get("error")))
        c.check(number(p.get("build", {}).get("wall_s")) and
                p.get("size", {}).get("bytes", 0) > 0,
                "%s build time and size measured" % peer)
        check_load(c, peer, p.get("load"), conns)
        c.check(number(res.get("ratios", {}).get("cxsearch/" + peer, {})
                       .get("qps_8")), "ratio cxsearch/%s at 8" % peer)
    c.check(len(res.get("targets", [])) >= 6 and
            all(t.get("verdict") in ("met", "not met", "not measured")
                for t in res.get("targets", [])),
            "targets evaluated")


def main():
    if not os.path.isfile(os.path.join(SHARED_DIR, "bench", "make-corpus")):
        skip("%s/bench/make-corpus absent: the benchmark corpus generator "
             "lives in ../shared beside the clone" % SHARED_DIR)
    if not (os.access(CXSEARCH, os.X_OK) and os.access(CXSEARCHD, os.X_OK)):
        skip("cxsearch/cxsearchd not built in %s" % BUILD_DIR)
    tmp = tempfile.mkdtemp(prefix="cxs-bench-smoke-")
    c = Checks()
    conns = [1, 8]
    try:
        cmd = [sys.executable, os.path.join(SOURCE_DIR, "bench", "run"),
               "--smoke", "--no-build", "--build-dir", BUILD_DIR,
               "--shared", SHARED_DIR, "--work", os.path.join(tmp, "work"),
               "--results-dir", os.path.join(tmp, "results"),
               "--posts", "2000", "--queries", "200", "--duration", "1",
               "--connections", ",".join(str(x) for x in conns)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        print(p.stdout[-3000:])
        c.check(p.returncode == 0, "bench/run --smoke exits 0 (got %d): %s"
                % (p.returncode, p.stderr[-3000:]))
        found = glob.glob(os.path.join(tmp, "results", "*-smoke.json"))
        if c.check(len(found) == 1, "one results file written: %r" % found):
            with open(found[0], encoding="utf-8") as f:
                check_results(c, json.load(f), conns)
        c.check("| q/s at 8 conn. |" in p.stdout, "table printed")
        c.check(not os.path.exists(os.path.join(tmp, "work", "pg",
                                                "data", "postmaster.pid")),
                "PostgreSQL stopped after the run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
