"""Following live sources (issue 16): `cxsearch follow` against a local
HTTP server (tests/e2e/live_server.py, 127.0.0.1 only) that serves the real
saved pages of ../shared/live as t.me and feed hosts would, synthetic
channels paged with ?before= in the same structure, and faulty servers.
Nothing reaches the internet. Skips when ../shared is absent."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import CXSEARCH, SHARED_DIR, Checks, Harness, skip  # noqa
from live_server import Channel, LiveServer  # noqa: E402

LIVE = os.path.join(SHARED_DIR, "live")
FAST = ["--pause", "0", "--backoff", "0.1", "--max-wait", "5",
        "--timeout", "10"]


def follow(h, *args, db=None):
    return subprocess.run([CXSEARCH, "follow", "--db", db or h.db] + FAST +
                          list(args), capture_output=True, text=True,
                          timeout=300)


def dump(h, db=None):
    out = subprocess.run([CXSEARCH, "dump", "--db", db or h.db],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def by_id(posts):
    return {p["id"]: p for p in posts}


def line_for(out, url):
    for line in out.splitlines():
        if line.startswith(url + ":"):
            return line
    return ""


def test_real_pages(t, h, s):
    """The real pages and feeds: every post, ids as an export's, fields."""
    tg = ["cit_gov", "topwar_official", "infoscape_test", "lexfridman"]
    feeds = ["substack-interconnects-en.xml", "tg2rss-nerlfield-uk-ru.xml",
             "blogger-atom-utdelningsseglaren-sv.xml"]
    urls = [s.url("/s/" + n) for n in tg] + [s.url("/feed/" + f)
                                             for f in feeds]
    p = follow(h, "--backfill", "100", *urls)
    t.check(p.returncode == 0, "real sources follow cleanly: %d %s" %
            (p.returncode, p.stderr[-500:]))
    for u in urls:
        t.check(line_for(p.stdout, u) != "", "a line for " + u)
    t.check("20 new" in line_for(p.stdout, s.url("/s/cit_gov")),
            "cit_gov: 20 posts: " + line_for(p.stdout, s.url("/s/cit_gov")))
    # ?before= past the saved page answers 404: the history's start.
    t.check("channel start reached" in line_for(p.stdout,
                                                 s.url("/s/lexfridman")),
            "404 at the end of history is its start, not an error")
    posts = by_id(dump(h))
    counts = {n: sum(1 for i in posts if i.startswith(n + "/")) for n in tg}
    t.check(counts == {"cit_gov": 20, "topwar_official": 12,
                       "infoscape_test": 5, "lexfridman": 19},
            "posts per channel: %s" % counts)
    t.check(len(posts) == 56 + 20 + 113 + 25,
            "all feed items too (%d posts)" % len(posts))
    q = posts.get("cit_gov/1496", {})
    t.check(q.get("poll", {}).get("kind") == "Anonymous Quiz" and
            "\n- " in q.get("text", ""), "a quiz poll is its question and "
            "options")
    t.check(posts.get("cit_gov/1490", {}).get("edited") is True,
            "the edited mark is kept")
    t.check(posts.get("infoscape_test/7", {}).get("reply_to") == 2,
            "reply-to is kept")
    t.check(posts.get("topwar_official/70996", {}).get("forwarded_from") ==
            "Военкор Ярем", "forwarded-from is kept")
    t.check(posts.get("cit_gov/1484", {}).get("url") ==
            "https://t.me/cit_gov/1484", "urls name t.me, not the test host")
    # A link preview's description is findable.
    r = subprocess.run([CXSEARCH, "search", "--db", h.db, "--json",
                        "Найдётся всё"], capture_output=True, text=True)
    ids = [x["id"] for x in json.loads(r.stdout).get("hits", [])]
    t.check("infoscape_test/4" in ids, "link preview text is searchable: %s"
            % ids[:5])
    # Languages come from the text: the bridge declares "en".
    bridge = [x.get("lang") for x in posts.values()
              if x.get("channel") in ("oooneuro", "aiukraine_wetrust")]
    t.check(len(bridge) > 20 and bridge.count("en") * 2 < len(bridge),
            "a feed's declared language (en) is not trusted: %d of %d "
            "detected as en" % (bridge.count("en"), len(bridge)))
    t.check(posts.get("cit_gov/1485", {}).get("lang") == "ru",
            "Russian posts are detected as such")
    # The client named itself, asked for gzip and revalidated the feeds.
    reqs = s.requests("/feed/substack")
    ua = reqs[0]["headers"].get("User-Agent", "")
    t.check(ua.startswith("cxsearch/"), "User-Agent names cxsearch: " + ua)
    t.check("gzip" in reqs[0]["headers"].get("Accept-Encoding", ""),
            "gzip is asked for")
    p = follow(h, *urls)
    t.check(p.returncode == 0, "second pass exits 0")
    for f in feeds:
        t.check("not modified (304)" in line_for(p.stdout, s.url("/feed/" + f)),
                "ETag sent, 304 understood for " + f)
    reqs = s.requests("/feed/substack")
    t.check(len(reqs) == 2 and "If-None-Match" in reqs[1]["headers"],
            "the second request is conditional")
    t.check("0 new" in line_for(p.stdout, s.url("/s/cit_gov")) and
            "20 unchanged" in line_for(p.stdout, s.url("/s/cit_gov")),
            "an all-known page adds nothing: " +
            line_for(p.stdout, s.url("/s/cit_gov")))
    t.check(len(dump(h)) == len(posts), "nothing duplicated by a second pass")


def test_paging(t, h, s):
    """?before= paging, backfill budget, gaps, edits."""
    ch = s.state.channels["cxpaging"] = Channel("cxpaging", 95)
    url = s.url("/s/cxpaging")
    p = follow(h, "--backfill", "50", url)
    t.check(p.returncode == 0, "paging channel followed: " + p.stderr)
    ids = sorted(int(x["id"].split("/")[1]) for x in dump(h)
                 if x["id"].startswith("cxpaging/"))
    want = [i for i in ch.ids_with_text() if i >= 36]
    t.check(ids == want, "three pages back: ids 36..95 with text (%d..%d, "
            "%d)" % (ids[0], ids[-1], len(ids)) if ids else "no posts")
    befores = [r["path"] for r in s.requests("/s/cxpaging")]
    t.check(befores == ["/s/cxpaging", "/s/cxpaging?before=76",
                        "/s/cxpaging?before=56"],
            "older pages from the same base address: %s" % befores)
    # A later pass with a larger budget goes on from where it stopped.
    p = follow(h, "--backfill", "1000", url)
    got = sorted(int(x["id"].split("/")[1]) for x in dump(h)
                 if x["id"].startswith("cxpaging/"))
    t.check(got == ch.ids_with_text(), "backfill continued to the start")
    t.check("channel start reached" in p.stdout, "start reported: " +
            p.stdout)
    # Many new posts since the last pass: the gap is filled.
    ch.add(45)
    p = follow(h, url)
    got = sorted(int(x["id"].split("/")[1]) for x in dump(h)
                 if x["id"].startswith("cxpaging/"))
    t.check(got == ch.ids_with_text(), "a gap of 45 posts is filled "
            "(%d of %d)" % (len(got), len(ch.ids_with_text())))
    # An edit on the newest page replaces the stored post.
    ch.edit(138, "Исправленная заметка про опрос CES после доставки")
    p = follow(h, url)
    t.check("1 updated" in line_for(p.stdout, url), "edit counted: " +
            line_for(p.stdout, url))
    post = by_id(dump(h)).get("cxpaging/138", {})
    t.check(post.get("text", "").startswith("Исправленная") and
            post.get("edited") is True, "the edited text is stored")
    r = subprocess.run([CXSEARCH, "search", "--db", h.db, "--json",
                        "Исправленная заметка"], capture_output=True,
                       text=True)
    t.check([x["id"] for x in json.loads(r.stdout)["hits"]][:1] ==
            ["cxpaging/138"], "and found by its new words")


def test_same_ids_as_export(t, h, s):
    """A channel imported from its Telegram export with --channel NAME and
    then followed: the same ids, nothing stored twice."""
    src = os.path.join(os.environ.get("CXS_SOURCE_DIR", ""), "tests",
                       "fixtures", "import", "tg_single.json")
    if not os.path.exists(src):
        t.check(False, "fixture missing: " + src)
        return
    db = os.path.join(h.tmp, "exportdb")
    subprocess.run([CXSEARCH, "index", "--db", db, "--channel", "cxexport",
                    src], capture_output=True, check=True)
    exported = {x["id"] for x in dump(h, db)}
    ch = s.state.channels["cxexport"] = Channel("cxexport", 25)
    p = follow(h, "--backfill", "100", s.url("/s/cxexport"), db=db)
    t.check(p.returncode == 0, "the exported channel followed: " + p.stderr)
    ids = [x["id"] for x in dump(h, db)]
    followed = {"cxexport/%d" % i for i in ch.ids_with_text()}
    t.check(exported and all(i.startswith("cxexport/") for i in exported),
            "the export's ids are NAME/ID: %s" % sorted(exported)[:3])
    t.check(len(ids) == len(set(ids)) and set(ids) == exported | followed,
            "one post per id, export and channel together (%d stored, %d "
            "expected)" % (len(ids), len(exported | followed)))


def test_kill_during_backfill(t, h, s):
    """kill -9 in the middle of a backfill, then a second run: every post
    exactly once, none missing."""
    ch = s.state.channels["cxkill"] = Channel("cxkill", 200)
    db = os.path.join(h.tmp, "killdb")
    url = s.url("/s/cxkill")
    import threading
    arrived, release = threading.Event(), threading.Event()
    s.state.hold["/s/cxkill?before=121"] = (arrived, release)
    proc = subprocess.Popen([CXSEARCH, "follow", "--db", db] + FAST +
                            ["--backfill", "1000", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.check(arrived.wait(60), "the follower reached the fourth page")
    stored = [x["id"] for x in dump(h, db) if x["id"].startswith("cxkill/")]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    release.set()
    del s.state.hold["/s/cxkill?before=121"]
    t.check(len(stored) > 0, "pages before the kill were committed (%d "
            "posts)" % len(stored))
    p = follow(h, "--backfill", "1000", url, db=db)
    t.check(p.returncode == 0, "the second run completes: " + p.stderr)
    ids = [x["id"] for x in dump(h, db)]
    want = ["cxkill/%d" % i for i in ch.ids_with_text()]
    t.check(sorted(ids) == sorted(want), "every post exactly once after a "
            "kill -9 (%d stored, %d expected)" % (len(ids), len(want)))
    texts = [x["text"] for x in dump(h, db)]
    t.check(len(texts) == len(set(texts)), "no text stored twice")


def test_faults(t, h, s):
    """Bad servers and bad pages: a clear error each, exit 3 naming them,
    the other sources go on, nothing already indexed is lost."""
    db = os.path.join(h.tmp, "faultdb")
    good = s.url("/feed/blogger-atom-utdelningsseglaren-sv.xml")
    p = follow(h, good, db=db)
    before = len(dump(h, db))
    t.check(p.returncode == 0 and before == 25, "a good source first")
    bad = {
        "/err/htmlerror": "HTML page titled \"Feed temporarily unavailable\"",
        "/err/notxml": "neither a feed nor a Telegram channel page",
        "/err/big": "limit",
        "/err/loop": "redirect loop",
        "/err/slow": "timed out",
        "/err/404": "HTTP 404",
        "/err/500": "HTTP 500",
        "/err/429-long": "HTTP 429",
        "/err/malformed": "without a channel history",
    }
    cp = s.url("/feed/cp1251")
    s.state.channels["cxfault"] = Channel("cxfault", 30)
    tg = s.url("/s/cxfault")
    urls = [s.url(u) for u in bad] + [good, cp, tg]
    p = subprocess.run([CXSEARCH, "follow", "--db", db, "--pause", "0",
                        "--backfill", "100", "--backoff", "0.1", "--max-wait", "5", "--retries",
                        "1", "--timeout", "3", "--connect-timeout", "2"] +
                       urls, capture_output=True, text=True, timeout=300)
    t.check(p.returncode == 3, "exit 3 when a source failed (got %d)" %
            p.returncode)
    for path, msg in bad.items():
        u = s.url(path)
        line = line_for(p.stdout, u)
        t.check("FAILED" in line and msg in line, "%s: %s" % (path, line))
        t.check(("source failed: " + u) in p.stderr, path + " named on stderr")
    posts = by_id(dump(h, db))
    t.check(len([i for i in posts if i.startswith("cxfault/")]) ==
            len(s.state.channels["cxfault"].ids_with_text()),
            "a good channel after the bad sources is followed")
    old = posts.get("https://old.example.ru/1", {})
    t.check(old.get("title") == "Качество обслуживания" and
            old.get("lang") == "ru", "a windows-1251 feed is read: %s" %
            old.get("title"))
    t.check(len([i for i, x in posts.items()
                 if x.get("channel") == "Utdelningsseglaren"]) == before,
            "what was indexed before is still there")
    # 429 with a short Retry-After and a 500 once: waited out, then read.
    p = follow(h, s.url("/err/429-once"), s.url("/err/500-once"), db=db)
    t.check(p.returncode == 0, "429 Retry-After and 500 retried: " +
            p.stdout + p.stderr)
    t.check(len(s.requests("/err/429-once")) == 2 and
            len(s.requests("/err/500-once")) == 2, "one retry each")
    t.check(len([r for r in s.requests("/err/500")
                 if r["path"] == "/err/500"]) == 2,
            "--retries 1: two requests to a server that keeps failing")
    # The pause per host: two sources on one host are spaced out.
    s.state.channels["cxpause"] = Channel("cxpause", 10)
    n0 = len(s.state.requests)
    subprocess.run([CXSEARCH, "follow", "--db", db, "--pause", "0.5",
                    s.url("/s/cxpause"), s.url("/feed/cp1251")],
                   capture_output=True, timeout=60)
    times = [r["time"] for r in s.state.requests[n0:]]
    t.check(len(times) == 2 and times[1] - times[0] >= 0.45,
            "at least the pause between two requests to one host")


def wait_for(fn, what, t, limit=60):
    """Waits (not a timed assertion: a bound on waiting) for fn() true."""
    deadline = time.time() + limit
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    t.check(False, "waited %ds for %s" % (limit, what))
    return None


def test_daemon(t, h, s):
    """[sources] in cxsearchd's config: polled on a schedule through the
    API's writer, /sources and /metrics, SIGHUP adds a source."""
    s.state.channels["cxdaemon"] = Channel("cxdaemon", 30)
    ch = s.url("/s/cxdaemon")
    feed = s.url("/feed/blogger-atom-utdelningsseglaren-sv.xml")
    bad = s.url("/err/htmlerror")
    db = os.path.join(h.tmp, "daemondb")
    conf = ("[security]\nread_key = reader-key-123\nwrite_key = "
            "writer-key-123\n[sources]\nsource = %s\nsource = %s 3600\n"
            "source = %s\nsource_interval = 2\nsource_jitter = 0.1\n"
            "source_backfill = 100\nsource_host_pause = 0\n"
            "source_retries = 0\nsource_timeout = 5\n" % (ch, feed, bad))
    h.start_daemon(conf, dbs=[db])
    auth = {"Authorization": "Bearer reader-key-123"}
    st, _, _ = h.request("GET", "/sources")
    t.check(st == 401, "/sources needs the read key (got %d)" % st)

    def sources():
        st, body, _ = h.request("GET", "/sources", headers=auth)
        return {x["url"]: x for x in body["sources"]} if st == 200 else {}

    def polled():
        src = sources()
        return src if all(x["polls"] >= 1 for x in src.values()) and \
            len(src) == 3 else None
    src = wait_for(polled, "three sources polled", t) or {}
    c = src.get(ch, {})
    t.check(c.get("kind") == "telegram" and c.get("channel") == "cxdaemon"
            and c.get("last_success") and c.get("posts_added") == len(
                s.state.channels["cxdaemon"].ids_with_text()),
            "the channel is followed: %s" % c)
    f = src.get(feed, {})
    t.check(f.get("kind") == "feed" and f.get("posts_added") == 25 and
            f.get("interval_seconds") == 3600, "the feed too: %s" % f)
    b = src.get(bad, {})
    t.check(b.get("errors", 0) >= 1 and "HTML page titled" in
            (b.get("last_error") or ""), "the bad source's error: %s" % b)
    t.check(all(x.get("next_poll") for x in src.values()), "next poll shown")
    log = h.daemon_log()
    t.check("source %s failed" % bad in log, "the failure is logged")
    st, body, _ = h.request("GET", "/search", {"q": "Заметка"}, headers=auth)
    t.check(st == 200 and body.get("total", 0) > 0,
            "posts followed by the daemon are searchable")
    # An edit and new posts show up on a later poll, by themselves.
    s.state.channels["cxdaemon"].add(3)
    s.state.channels["cxdaemon"].edit(30, "Правка в демоне: новый текст")

    def edited():
        st, body, _ = h.request("GET", "/documents/cxdaemon/30",
                                headers=auth)
        return st == 200 and body.get("text", "").startswith("Правка")
    wait_for(edited, "the edit to arrive", t)
    st, text, _ = h.request("GET", "/metrics", headers=auth)
    t.check(('cxsearch_source_polls_total{source="%s"}' % ch) in text and
            ('cxsearch_source_errors_total{source="%s"}' % bad) in text,
            "per-source counters in /metrics")
    # SIGHUP: a source added to the file is followed without a restart.
    h.write_config(conf + "source = %s\n" % s.url("/feed/cp1251"))
    h.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: sources().get(s.url("/feed/cp1251"), {}).get("polls"),
             "the added source to be polled", t)
    st, body, _ = h.request("GET", "/documents/https%3A%2F%2Fold.example.ru"
                            "%2F1", headers=auth)
    t.check(st == 200, "its post is in the index (%d)" % st)
    h.stop_checked(t, "daemon following sources")


def main():
    if not os.path.isdir(os.path.join(LIVE, "tme-s")):
        skip("%s not found: the real saved pages are needed" % LIVE)
    t = Checks()
    with Harness() as h, LiveServer(LIVE) as s:
        for fn in (test_real_pages, test_paging, test_same_ids_as_export,
                   test_kill_during_backfill, test_faults, test_daemon):
            print("--", fn.__name__, flush=True)
            fn(t, h, s)
    t.done()


if __name__ == "__main__":
    main()
