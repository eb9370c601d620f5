"""Scale-out on Xapian's remote backend (issue 15, docs/scale-out.md), with
real processes on loopback: three xapian-tcpsrv serving shards built by
`cxsearch index --shards 3`, and a cxsearchd over them, against a
cxsearchd over one local index of the same posts.

- The same answers: ids and order of the top hits (posts of equal score
  may come in another order: Xapian breaks ties by document id, which
  differs between one database and three), totals, facet counts,
  snippets, paging, sorting, filters, similar posts, completions, GET.
- /health, /stats, /metrics per shard; shards named prog:xapian-progsrv.
- Writes routed: a new post lands in the shard its id hashes to; an update
  and a delete find a post where it is, even in a shard its id does not
  hash to.
- A shard killed, and a shard hung (SIGSTOP): with on_shard_failure = fail
  a 503 naming the shard, with partial a 200 marked partial listing it;
  never a hang (the HTTP client would time out), never a 500; the shard
  back, answers are whole again without a restart.

Corpus: data/sample plus the first CXS_SHARDS_REAL (2000) posts of
../shared/bench/real (left out, with a message, when ../shared is absent).
"""
import json
import lzma
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import (CXSEARCHD, SHARED_DIR, SOURCE_DIR, Checks,  # noqa
                         Harness, free_port)
from cxs_cluster import fnv1a_shard, need_tools, tcpsrv  # noqa: E402

REAL_POSTS = int(os.environ.get("CXS_SHARDS_REAL", "2000"))
N = 3
KEY = "shard-test-key-1"

QUERIES = [
    {"q": "клиентский опыт"}, {"q": "customer"}, {"q": "NPS"},
    {"q": "servizio clienti"}, {"q": '"customer effort"'},
    {"q": "опыт", "lang": "ru"}, {"q": "clienti", "sort": "-date"},
    {"q": "", "sort": "date", "limit": 20},
    {"q": "", "sort": "-date", "offset": 7, "limit": 9},
    {"q": "опрос", "offset": 3, "limit": 4},
    {"q": "customer", "channel": "cx_metrics_digest"},
    {"q": "клиент", "from": "2023", "to": "2025-06"},
    {"q": "учёные"}, {"q": "исследование космос"}, {"q": "Россия"},
    {"q": "искусственный интеллект", "limit": 20},
    {"q": "данные", "lang": "ru", "sort": "date", "limit": 15},
]


def corpus(tmp):
    """JSON Lines of the sample plus a real slice; returns its path."""
    path = os.path.join(tmp, "corpus.jsonl")
    with open(path, "w", encoding="utf-8") as out:
        with open(os.path.join(SOURCE_DIR, "data/sample/posts.jsonl"),
                  encoding="utf-8") as f:
            out.write(f.read())
        real = os.path.join(SHARED_DIR, "bench/real/real-posts.jsonl.xz")
        if not os.path.exists(real):
            print("NOTE: %s absent: the real slice is left out, the sample "
                  "alone is sharded" % real)
            return path
        with lzma.open(real, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= REAL_POSTS:
                    break
                out.write(line)
    return path


def ties_grouped(hits):
    """Hits as a list of sets of ids of equal score (rounded)."""
    groups, last = [], None
    for h in hits:
        s = round(h.get("score", 0), 6)
        if s != last:
            groups.append(set())
            last = s
        groups[-1].add(h["id"])
    return groups


def same_hits(a, b):
    """Same ids in the same order, but for posts of equal score, which
    Xapian orders by document id (full pages only compare their common
    score groups: a tie may straddle the page's end)."""
    ga, gb = ties_grouped(a), ties_grouped(b)
    if len(a) != len(b):
        return False
    if ga[:-1] != gb[:-1] if ga and gb else ga != gb:
        return False
    return True


def strip(hits):
    return {h["id"]: (h.get("snippet"), h.get("title")) for h in hits}


def compare_search(t, one, sh, params):
    p = dict(params, facets="*")
    s1, b1 = one.get("/search", **p)
    s2, b2 = sh.get("/search", **p)
    what = "search %r" % (params,)
    if not t.check(s1 == 200 and s2 == 200, "%s: %s %s %s" % (what, s1, s2,
                                                              str(b2)[:300])):
        return
    t.check(b1["total"] == b2["total"], "%s: totals %s vs %s" %
            (what, b1["total"], b2["total"]))
    t.check(b1["facets"] == b2["facets"], "%s: facets %s vs %s" %
            (what, b1["facets"], b2["facets"]))
    t.check(same_hits(b1["hits"], b2["hits"]), "%s: hits %s vs %s" %
            (what, [h["id"] for h in b1["hits"]],
             [h["id"] for h in b2["hits"]]))
    common = set(strip(b1["hits"])) & set(strip(b2["hits"]))
    t.check(all(strip(b1["hits"])[i] == strip(b2["hits"])[i]
                for i in common), "%s: same snippets and titles" % what)
    t.check("partial" not in b2, "%s: not partial" % what)


def compare_reads(t, one, sh):
    for q in QUERIES:
        compare_search(t, one, sh, q)
    _, b1 = one.get("/search", q="клиентский опыт", limit=5)
    for h in b1["hits"][:3]:
        s1, d1 = one.get("/documents/" + h["id"])
        s2, d2 = sh.get("/documents/" + h["id"])
        t.check(s1 == s2 == 200 and d1 == d2, "GET %s: same post" % h["id"])
        s1, m1 = one.get("/documents/%s/similar" % h["id"], limit=5)
        s2, m2 = sh.get("/documents/%s/similar" % h["id"], limit=5)
        t.check(s1 == s2 == 200 and same_hits(m1["hits"], m2["hits"]),
                "similar to %s: %s vs %s" % (h["id"],
                                             [x["id"] for x in m1["hits"]],
                                             [x["id"] for x in m2["hits"]]))
    t.check(sh.get("/documents/no-such-post")[0] == 404, "GET absent: 404")
    # Typos: the forgiving search and, with exact=1, "did you mean" read
    # them from the index's words (all shards, remote ones included).
    for q in ("custmer", "servzio", "experiance"):
        compare_search(t, one, sh, {"q": q})
        s1, b1 = one.get("/search", q=q)
        s2, b2 = sh.get("/search", q=q)
        t.check(s1 == s2 == 200 and b1.get("rewrites") and
                b1.get("rewrites") == b2.get("rewrites"),
                "typo %s read the same: %s vs %s" % (q, b1.get("rewrites"),
                                                     b2.get("rewrites")))
        s1, b1 = one.get("/search", q=q, exact=1)
        s2, b2 = sh.get("/search", q=q, exact=1)
        t.check(s1 == s2 == 200 and b2.get("suggestion") and
                b1.get("suggestion") in (None, b2.get("suggestion")),
                "did you mean %s: %s vs %s" % (q, b1.get("suggestion"),
                                               b2.get("suggestion")))
    for q in ("клиен", "custo", "serviz"):
        s1, g1 = one.get("/suggest", q=q)
        s2, g2 = sh.get("/suggest", q=q)
        t.check(s1 == s2 == 200 and g1["words"] == g2["words"],
                "suggest %s: %s vs %s" % (q, g1.get("words"), g2.get("words")))


def check_prog(t, local, shard_dbs):
    """prog:COMMAND shards: xapian-progsrv on a pipe (what ssh://HOST/PATH
    runs on the far side, without the ssh)."""
    with Harness() as p:
        p.start_daemon("[files]\naccess_log = off\n",
                       dbs=["prog:xapian-progsrv " + d for d in shard_dbs])
        for q in QUERIES[:6]:
            compare_search(t, local, p, q)
        s, h = p.get("/health")
        t.check(s == 200 and all(x["up"] for x in h["shards"]),
                "prog: shards up: %s" % (h,))
        p.stop_checked(t, "daemon over prog: shards")


def daemon_exit(h, conf_body, dbs):
    """Starts cxsearchd expecting it to refuse; returns its stderr."""
    conf = h.write_config(conf_body)
    args = [CXSEARCHD, "--config", conf, "--listen", "127.0.0.1:0"]
    for d in dbs:
        args += ["--db", d]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None
    return p.stderr if p.returncode != 0 else None


def check_config(t, h, srv, shard_dbs):
    err = daemon_exit(h, "on_shard_failure = maybe\n", shard_dbs)
    t.check(err and "on_shard_failure" in err and "partial" in err,
            "a bad on_shard_failure is refused: %s" % err)
    for bad in ("tcp://127.0.0.1", "tcp://127.0.0.1:99999", "ssh://host",
                "prog:"):
        err = daemon_exit(h, "", [bad])
        t.check(err and bad.split(":")[0] in err, "%s refused: %s" %
                (bad, err))
    # A shard down at start: the daemon starts, says so, answers 503.
    dead = "tcp://127.0.0.1:%d" % free_port()
    conf = "[files]\naccess_log = off\ndb = %s\ndb = tcp://127.0.0.1:%d\n" % (
        dead, srv[0].port)
    with Harness() as d:
        d.port = free_port()
        path = d.write_config(conf)
        with open(d.log_path, "w") as log:
            proc = subprocess.Popen([CXSEARCHD, "--config", path, "--listen",
                                     "127.0.0.1:%d" % d.port], stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            deadline, s, b = time.time() + 30, None, None
            while time.time() < deadline and s is None:
                try:
                    s, b = d.get("/health")
                except OSError:
                    time.sleep(0.1)
            t.check(s == 503 and b["status"] == "unavailable" and
                    [x["up"] for x in b["shards"]] == [False, True],
                    "a shard down at start: /health 503 (%s %s)" % (s, b))
            t.check(d.get("/search", q="customer")[0] == 503,
                    "searches 503 while it is down")
            t.check("shard %s is down" % dead in d.daemon_log(),
                    "the log says which shard is down at start")
        finally:
            proc.terminate()
            proc.wait(10)


def check_health(t, one, sh, shard_dbs):
    _, st1 = one.get("/stats")
    s, h = sh.get("/health")
    t.check(s == 200 and h["status"] == "ok", "/health ok: %s" % (h,))
    t.check(h["documents"] == st1["posts"], "/health documents %s == %s" %
            (h.get("documents"), st1["posts"]))
    t.check(len(h["shards"]) == N and all(x["up"] and x["remote"] and
                                          x["latency_ms"] >= 0
                                          for x in h["shards"]),
            "/health: every shard up with its latency")
    counts = [x["documents"] for x in h["shards"]]
    t.check(sum(counts) == st1["posts"] and min(counts) > 0,
            "shards share the posts: %s" % counts)
    s, st2 = sh.get("/stats")
    t.check(s == 200 and st2["posts"] == st1["posts"] and
            st2["langs"] == st1["langs"] and
            st2["channels"] == st1["channels"] and st2["shards"] == N,
            "/stats: same posts, languages, channels")
    s, m, _ = sh.request("GET", "/metrics")
    t.check(s == 200 and m.count("cxsearch_shard_up{") == N and
            'cxsearch_shard_documents{shard="tcp://127.0.0.1:' in m,
            "/metrics has a line per shard")


def dump_ids(h, db):
    out = h.cli("dump", "--db", db).stdout
    return {json.loads(line)["id"] for line in out.splitlines() if line}


def post(pid, text, title="Routed post"):
    return {"id": pid, "title": title, "text": text,
            "channel": "routing_test", "date": "2026-01-02", "lang": "en"}


def check_writes(t, h, sh, shard_dbs, misplaced):
    auth = {"Authorization": "Bearer " + KEY,
            "Content-Type": "application/json"}
    ids = ["route/%d" % i for i in range(12)]
    s, b, _ = h.request("POST", "/documents",
                        body=[post(i, "zanzibar marmalade %s" % i)
                              for i in ids], headers=auth)
    t.check(s == 200 and b["added"] == len(ids), "POST 12 posts: %s" % (b,))
    s, b = sh.get("/search", q="zanzibar marmalade", limit=50)
    t.check(s == 200 and b["total"] == len(ids), "the daemon sees them all")
    held = [dump_ids(h, d) for d in shard_dbs]
    t.check(all(i in held[fnv1a_shard(i, N)] for i in ids),
            "each new post is in the shard its id hashes to")
    t.check(len({fnv1a_shard(i, N) for i in ids}) == N,
            "the posts spread over every shard")
    # An update and a delete find the post where it is.
    s, b, _ = h.request("PUT", "/documents/" + misplaced,
                        body=post(misplaced, "quetzal updated text"),
                        headers=auth)
    t.check(s == 200 and b.get("result") == "updated",
            "PUT a post living off its hash shard: updated (%s %s)" % (s, b))
    held = [dump_ids(h, d) for d in shard_dbs]
    t.check(misplaced in held[0] and
            not any(misplaced in x for x in held[1:]),
            "the update stayed in the shard holding the post")
    s, b = sh.get("/search", q="quetzal")
    t.check(s == 200 and [x["id"] for x in b["hits"]] == [misplaced],
            "the updated text is found, once")
    s, _, _ = h.request("DELETE", "/documents/" + misplaced, headers=auth)
    t.check(s == 200, "DELETE the misplaced post")
    t.check(not any(misplaced in dump_ids(h, d) for d in shard_dbs),
            "deleted from its shard")
    s, _, _ = h.request("DELETE", "/documents/" + ids[0], headers=auth)
    t.check(s == 200 and ids[0] not in dump_ids(
        h, shard_dbs[fnv1a_shard(ids[0], N)]), "DELETE a routed post")
    s, _, _ = h.request("DELETE", "/documents/never-was", headers=auth)
    t.check(s == 404, "DELETE an absent post: 404")


def wait_whole(h, secs=30):
    """Until 20 answers in a row are whole: each pool thread has its own
    reader, which reconnects at its own next check."""
    deadline, whole = time.time() + secs, 0
    while time.time() < deadline and whole < 20:
        s, b = h.get("/search", q="customer")
        whole = whole + 1 if s == 200 and "partial" not in b else 0
        time.sleep(0.05)
    return whole >= 20


def check_failures(t, h, srv, shard_dbs, mode):
    """One shard killed then hung, per on_shard_failure = mode."""
    _, whole = h.get("/search", q="customer", facets="channel")
    down = srv[1]
    name = "tcp://127.0.0.1:%d" % down.port
    for how in ("killed", "hung"):
        if how == "killed":
            down.stop()
        else:
            down.signal(signal.SIGSTOP)
        # The HTTP client gives up after 30 s: an answer is not a hang.
        s, b = h.get("/search", q="customer", facets="channel")
        if mode == "fail":
            t.check(s == 503 and name in json.dumps(b),
                    "%s shard, fail: 503 naming it (%s %s)" % (how, s, b))
        else:
            t.check(s == 200 and b.get("partial") is True and
                    b.get("missing_shards") == [name] and
                    b["total"] < whole["total"],
                    "%s shard, partial: 200 marked partial (%s %s)" %
                    (how, s, str(b)[:300]))
        s, hb = h.get("/health")
        t.check(s == (200 if mode == "partial" else 503) and
                hb["status"] == ("degraded" if mode == "partial"
                                 else "unavailable") and
                [x["up"] for x in hb["shards"]] == [True, False, True],
                "%s shard, %s: /health %s %s" % (how, mode, s, hb))
        s2, _ = h.get("/documents/" + "no-such-post")
        t.check(s2 == 503, "%s shard: GET of an absent post is 503, as it "
                "may be on the dead shard (%s)" % (how, s2))
        s3, _ = h.get("/stats")
        t.check(s3 in (200, 503), "%s shard: /stats %s, never a 500" %
                (how, s3))
        if how == "killed":
            down.start()
        else:
            down.signal(signal.SIGCONT)
        t.check(wait_whole(h), "%s shard back: whole answers again, "
                "without a restart" % how)
        s, b = h.get("/search", q="customer", facets="channel")
        t.check(s == 200 and b["total"] == whole["total"] and
                b["facets"] == whole["facets"], "%s shard back: same "
                "totals and facets as before" % how)


def build(h, src, tmp):
    one = os.path.join(tmp, "one")
    h.cli("index", "--db", one, "--quiet", src)
    shards = os.path.join(tmp, "shards")
    h.cli("index", "--db", shards, "--shards", str(N), "--quiet", src)
    shard_dbs = [os.path.join(shards, "shard-%d" % i) for i in range(N)]
    # A post in shard 0 whose id hashes elsewhere: writes must look it up.
    misplaced = next("misplaced/%d" % i for i in range(100)
                     if fnv1a_shard("misplaced/%d" % i, N) != 0)
    extra = os.path.join(tmp, "extra.jsonl")
    with open(extra, "w", encoding="utf-8") as f:
        f.write(json.dumps(post(misplaced, "quetzal original text")) + "\n")
    h.cli("index", "--db", shard_dbs[0], "--quiet", extra)
    h.cli("index", "--db", one, "--quiet", extra)
    return one, shard_dbs, misplaced


def main():
    need_tools("xapian-tcpsrv", "xapian-progsrv")
    t = Checks()
    with Harness() as h, Harness() as local:
        src = corpus(h.tmp)
        one, shard_dbs, misplaced = build(h, src, h.tmp)
        srv = [tcpsrv(d, os.path.join(h.tmp, "tcpsrv-%d.log" % i)).start()
               for i, d in enumerate(shard_dbs)]
        try:
            remote = ["tcp://127.0.0.1:%d" % s.port for s in srv]
            conf = ("[search]\nreopen_interval_ms = 200\n"
                    "shard_connect_timeout_ms = 1000\n"
                    "shard_timeout_ms = 2000\nshard_retry_ms = 300\n"
                    "on_shard_failure = %s\n[security]\nwrite_key = " + KEY +
                    "\n[files]\naccess_log = off\n")
            local.start_daemon(conf % "fail", dbs=[one])
            h.start_daemon(conf % "fail", dbs=remote)
            compare_reads(t, local, h)
            check_health(t, local, h, shard_dbs)
            check_prog(t, local, shard_dbs)
            check_config(t, h, srv, shard_dbs)
            check_failures(t, h, srv, shard_dbs, "fail")
            h.stop_checked(t, "daemon (fail)")
            h.start_daemon(conf % "partial", dbs=remote)
            check_failures(t, h, srv, shard_dbs, "partial")
            compare_reads(t, local, h)
            check_writes(t, h, h, shard_dbs, misplaced)
            h.stop_checked(t, "daemon (partial)")
        finally:
            for s in srv:
                s.stop()
    t.done()


if __name__ == "__main__":
    main()
