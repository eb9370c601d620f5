"""sphinx.py - the Sphinx 2.2 peer (Debian 12's sphinxsearch package): one
index per language built by `indexer` from the TSV files corpus.py wrote,
searchd on a loopback port, load from sphinxql_load.c (compiled here).

Facts that shaped it: Sphinx stores no text, so it answers ids and weights
only (no snippets): its figures are the "without snippets" bar of issue 7.
In MATCH() the extended query syntax gives meaning to ( ) | - ! @ ~ & / ^ $
= < and backslash; quotes are kept (they make phrases, as in the query
set); inside the SphinxQL string literal quote and backslash are escaped.
searchd daemonizes and writes its pid file; `searchd --stopwait` stops it.
"""
import json
import os
import shutil
import time

from common import (BenchError, by_kind, du_bytes, evict_page_cache, log,
                    read_query_rows, run, timed, wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = set('()|-!@~&/^$=<\\')


def available():
    for prog in ("indexer", "searchd"):
        if not shutil.which(prog):
            return "Sphinx not installed (apt-get install sphinxsearch)"
    if not (shutil.which("cc") or shutil.which("gcc")):
        return "no C compiler for the SphinxQL load client"
    return None


def match_literal(q):
    out = []
    for ch in q:
        if ch in SPECIAL:
            out.append("\\\\" + ch)  # escaped for MATCH, then for SQL
        elif ch == "'":
            out.append("\\'")
        else:
            out.append(ch)
    return "".join(out)


class Sphinx:
    def __init__(self, work, port):
        self.work = work
        self.dir = os.path.join(work, "sphinx")
        self.port = port
        self.conf = os.path.join(work, "sphinx.conf")
        self.started = False
        self.client = os.path.join(work, "sphinxql_load")

    def _write_conf(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        with open(os.path.join(HERE, "sphinx.conf.in")) as f:
            text = f.read()
        text = (text.replace("@WORK@", self.work)
                .replace("@PORT@", str(self.port))
                .replace("@CORES@", str(os.cpu_count() or 1)))
        with open(self.conf, "w") as f:
            f.write(text)

    def compile_client(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        run([cc, "-O2", "-pthread", "-std=c11", "-o", self.client,
             os.path.join(HERE, "sphinxql_load.c")], timeout=120)

    def version(self):
        p = run(["indexer", "--help"], timeout=20, ok_codes=(0, 1))
        return (p.stdout or p.stderr).splitlines()[0].strip()

    def build(self, timeout):
        self._write_conf()
        log("Sphinx: indexer --all")
        r = timed(["indexer", "--config", self.conf, "--all"], timeout)
        return {"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                "cpu_s": r["cpu_s"],
                "cpu_percent": r["cpu_percent"]}

    def size_bytes(self):
        return sum(du_bytes(os.path.join(self.dir, f)) if os.path.isdir(
            os.path.join(self.dir, f)) else os.stat(os.path.join(
                self.dir, f)).st_blocks * 512
            for f in os.listdir(self.dir) if f.startswith("posts_"))

    def start(self):
        """Evicts the index from the page cache, starts searchd, and
        returns seconds until the first query was answered (as for
        cxsearchd)."""
        evict_page_cache(self.dir)
        t0 = time.monotonic()
        run(["searchd", "--config", self.conf], timeout=60)
        self.started = True
        if not wait_port(self.port, 30):
            raise BenchError("searchd did not listen on 127.0.0.1:%d" %
                             self.port)
        deadline = t0 + 60
        while time.monotonic() < deadline:
            p = run([self.client, "127.0.0.1", str(self.port), "1", "0",
                     self.statements], timeout=30, ok_codes=(0, 1))
            if p.returncode == 0 and '"errors": 0' in p.stdout:
                return time.monotonic() - t0
            time.sleep(0.01)
        raise BenchError("searchd answered no query in 60 s")

    def stop(self):
        if not self.started:
            return
        try:
            run(["searchd", "--config", self.conf, "--stopwait"], timeout=60)
        except BenchError as e:
            log("Sphinx stop: %s" % e)
        self.started = False

    def write_statements(self, queries_tsv):
        path = os.path.join(self.work, "sphinx-queries.sql")
        with open(path, "w", encoding="utf-8") as out:
            for _lang, _kind, q in read_query_rows(queries_tsv):
                out.write("SELECT id, WEIGHT() AS w FROM posts WHERE "
                          "MATCH('%s') LIMIT 10\n" % match_literal(q))
        self.statements = path
        return path

    def bench(self, connections, duration):
        p = run([self.client, "127.0.0.1", str(self.port), str(connections),
                 str(duration), self.statements], timeout=duration * 3 + 60,
                ok_codes=(0, 1))
        try:
            r = json.loads(p.stdout)
        except ValueError:
            raise BenchError("sphinxql_load: no result: %s" % p.stderr)
        r.update({"connections": connections, "duration_s": duration,
                  "client": "bench/lib/sphinxql_load.c (C, threads)"})
        return r

    def probe_all(self, queries_tsv, timeout_s=300):
        """Every query once, one at a time over one connection (the
        statements file follows the TSV's order): hits and latency per
        query kind, as cxsearch's pass measures them."""
        p = run([self.client, "127.0.0.1", str(self.port), "1", "each",
                 self.statements], timeout=timeout_s)
        rows = read_query_rows(queries_tsv)
        samples, errors, hits = [], 0, 0
        for (_lang, kind, _q), line in zip(rows, p.stdout.splitlines()):
            ms, nrows, rc = line.split()
            errors += 1 if rc != "0" else 0
            hits += 1 if int(nrows) > 0 else 0
            samples.append((kind, float(ms), int(nrows) > 0, {}))
        return ({"asked": len(samples), "with_hits": hits,
                 "errors": errors}, by_kind(samples))
