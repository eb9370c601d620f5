"""The HTTP API of cxsearchd, end to end (issues 2, 5 and 8): every
endpoint, parameter and error of docs/api.md against a live daemon on a
loopback port, over a real index built by `cxsearch index` from
tests/fixtures/api/posts.jsonl (13 posts written for this test; facts are
read from the file itself, so counts are computed independently of the
daemon) and, for shards, data/sample/posts.jsonl.

Covers: search parameters (limit, offset, sort, filters, dates, facets,
highlighting, snippet length, fields), POST /search, /suggest,
/documents/{id} (ids with '/', dots), /similar, /health, /stats, /metrics,
static files and path traversal, 404/405/413/415, CORS, keys (401/403,
read key, no write key), writes visible after commit (POST single, array,
JSON Lines, duplicates, PUT, DELETE, all-or-nothing batches), the
bad-input table of issue 8, SIGHUP reload of keys, commits by another
process picked up, the JSON access log without keys, a graceful SIGTERM,
and the pool's readers opened ahead (counted by /metrics).
"""
import collections
import fcntl
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import (CXSEARCH, CXSEARCHD, SHARED_DIR,  # noqa: E402
                         SOURCE_DIR, Checks, Harness, skip)

FIXTURE = os.path.join(SOURCE_DIR, "tests", "fixtures", "api", "posts.jsonl")
SAMPLE = os.path.join(SOURCE_DIR, "data", "sample", "posts.jsonl")
WRITE_KEY = "wk-test-0123456789"
READ_KEY = "rk-test-9876543210"
ALLOWED_ORIGIN = "http://wiki.example.test"

t = Checks()


def load_posts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


POSTS = load_posts(FIXTURE)
BY_ID = {p["id"]: p for p in POSTS}


# ---- HTTP helpers ----

class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.body = None
        self.utf8 = True
        try:
            text = raw.decode("utf-8")  # strict: the daemon must send UTF-8
        except UnicodeDecodeError:
            self.utf8 = False
            text = raw.decode("utf-8", "replace")
        try:
            self.body = json.loads(text)
        except ValueError:
            self.body = text

    def header(self, name):
        return self.headers.get(name.lower())


def request(port, method, target, body=None, headers=None, timeout=30):
    """One request on a fresh connection; target is sent as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            body = body.encode()
        hdrs = dict(headers or {})
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, target, body=body, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, raw)
    finally:
        conn.close()


def target(path, params=None):
    if params:
        return path + "?" + urllib.parse.urlencode(params, doseq=True)
    return path


def raw_exchange(port, data, read_timeout=15):
    """Sends raw bytes, returns the raw answer (status line first)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the daemon may answer and close before we are done
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def is_error(r, status, code=None, what=""):
    ok = t.check(r.status == status,
                 "%s: status %d, expected %d (%s)" %
                 (what, r.status, status, str(r.body)[:200]))
    shape = (isinstance(r.body, dict) and isinstance(r.body.get("error"), dict)
             and isinstance(r.body["error"].get("code"), str)
             and isinstance(r.body["error"].get("message"), str)
             and r.body["error"]["message"] != "")
    t.check(shape, "%s: error body shape: %r" % (what, str(r.body)[:200]))
    if code and shape:
        t.check(r.body["error"]["code"] == code,
                "%s: error code %s, expected %s" %
                (what, r.body["error"]["code"], code))
    return ok and shape


class Api:
    def __init__(self, port, key=None):
        self.port = port
        self.key = key

    def _h(self, headers, key):
        h = dict(headers or {})
        k = key if key is not None else self.key
        if k:
            h["Authorization"] = "Bearer " + k
        return h

    def get(self, path, params=None, headers=None, key=None):
        return request(self.port, "GET", target(path, params),
                       headers=self._h(headers, key))

    def call(self, method, path, body=None, headers=None, key=None,
             params=None):
        return request(self.port, method, target(path, params), body=body,
                       headers=self._h(headers, key))

    def search(self, **params):
        return self.get("/search", params)


def ids(r):
    return [h["id"] for h in r.body.get("hits", [])] \
        if isinstance(r.body, dict) else []


def doc_path(post_id):
    return "/documents/" + urllib.parse.quote(post_id, safe="")




# ---- sections ----

def check_health_and_shape(api):
    r = api.get("/health")
    t.check(r.status == 200 and r.body["status"] == "ok" and
            r.body["documents"] == len(POSTS) and
            [(x["up"], x["documents"]) for x in r.body["shards"]] ==
            [(True, len(POSTS))], "/health: %r" % (r.body,))
    r = api.search(q="клиентский опыт")
    t.check(r.status == 200, "search status %d" % r.status)
    for k in ("query", "total", "total_exact", "took_ms", "offset", "limit",
              "relaxed", "hits"):
        t.check(k in r.body, "search answer has %s" % k)
    t.check(r.body["query"] == "клиентский опыт", "query echoed")
    t.check("cxlogic/485" in ids(r), "клиентский опыт finds cxlogic/485")
    hit = next((h for h in r.body["hits"] if h["id"] == "cxlogic/485"), {})
    for k in ("id", "score", "title", "snippet", "channel", "author", "date",
              "lang", "url", "tags"):
        t.check(k in hit, "hit has %s" % k)
    t.check("text" not in hit, "text not returned by default")
    t.check("<mark>" in hit.get("snippet", ""), "snippet highlighted")
    t.check(hit.get("channel") == "cxlogic" and hit.get("lang") == "ru",
            "hit fields from the post")
    t.check(isinstance(hit.get("tags"), list) and "nps" in hit["tags"],
            "hit tags")
    scores = [h["score"] for h in r.body["hits"]]
    t.check(scores == sorted(scores, reverse=True), "ranked by score")
    t.check(r.header("content-type").startswith("application/json"),
            "JSON content type")


def check_paging(api):
    r = api.search(q="", limit=4)
    t.check(r.status == 200 and len(r.body["hits"]) == 4 and
            r.body["total"] == len(POSTS), "empty q: all posts, limit 4")
    first = ids(r)
    r2 = api.search(q="", limit=2, offset=2)
    t.check(ids(r2) == first[2:4], "offset 2 limit 2 is the next page")
    r = api.search(q="", limit=0)
    t.check(r.status == 200 and r.body["hits"] == [] and
            r.body["total"] == len(POSTS), "limit 0: counts only")
    r = api.search(q="", limit=10 ** 12)
    t.check(r.status == 200 and r.body["limit"] == 100 and
            len(r.body["hits"]) == len(POSTS), "limit 10^12 clamped to 100")
    r = api.search(q="", limit="99999999999999999999999999")
    t.check(r.status == 200 and r.body["limit"] == 100,
            "huge limit clamped, no overflow")
    for bad in ("-1", "abc", "1e3", "", " 5", "5x"):
        is_error(api.search(q="nps", limit=bad), 400, "bad_parameter",
                 "limit=%r" % bad)
    for bad in ("abc", "-1", "10001"):
        is_error(api.search(q="nps", offset=bad), 400, "bad_parameter",
                 "offset=%r" % bad)
    r = api.search(q="nps", offset=10000)
    t.check(r.status == 200 and r.body["hits"] == [], "offset=max is fine")
    r = api.search(q="nps", offset=1, limit=1)
    t.check(r.body.get("offset") == 1 and r.body.get("limit") == 1,
            "offset and limit echoed")


def check_sort(api):
    dates = lambda r: [h["date"][:10] for h in r.body["hits"]]
    r = api.search(q="", sort="-date", limit=100)
    t.check(r.status == 200 and dates(r) == sorted(dates(r), reverse=True),
            "sort=-date newest first: %s" % dates(r)[:4])
    newest = max(POSTS, key=lambda p: p["date"][:10])["id"]
    t.check(ids(r)[:1] == [newest], "newest first is %s" % newest)
    r = api.search(q="", sort="date", limit=100)
    t.check(dates(r) == sorted(dates(r)), "sort=date oldest first")
    r = api.search(q="nps", sort="relevance")
    t.check(r.status == 200, "sort=relevance")
    is_error(api.search(q="nps", sort="newest"), 400, "bad_parameter",
             "sort=newest")


def count_by(posts, key):
    c = collections.Counter()
    for p in posts:
        v = p.get(key)
        for x in (v if isinstance(v, list) else [v]):
            if x is not None:
                c[x] += 1
    return dict(c)


def check_filters(api):
    for ch in ("cxlogic", "esperienza"):
        r = api.search(q="", channel=ch, limit=100)
        want = sorted(p["id"] for p in POSTS if p["channel"] == ch)
        t.check(sorted(ids(r)) == want, "channel=%s: %s" % (ch, ids(r)))
    r = api.search(q="", channel=["cxlogic", "esperienza"], limit=100)
    t.check(len(ids(r)) == sum(1 for p in POSTS if p["channel"] in
                               ("cxlogic", "esperienza")),
            "repeated channel is OR")
    r = api.search(q="", lang="it", limit=100)
    t.check(sorted(ids(r)) == sorted(p["id"] for p in POSTS
                                     if p["lang"] == "it"), "lang=it")
    r = api.search(q="", author="Sam Porter", limit=100)
    t.check(sorted(ids(r)) == sorted(p["id"] for p in POSTS
                                     if p["author"] == "Sam Porter"),
            "author filter: %s" % ids(r))
    r = api.search(q="", tag="nps", limit=100)
    t.check(sorted(ids(r)) == sorted(p["id"] for p in POSTS
                                     if "nps" in p["tags"]), "tag=nps")
    r = api.search(q="", tag=["nps", "cjm"], lang="ru", limit=100)
    want = sorted(p["id"] for p in POSTS if p["lang"] == "ru" and
                  set(p["tags"]) & {"nps", "cjm"})
    t.check(sorted(ids(r)) == want, "tags OR-ed, AND-ed with lang")
    r = api.search(q="", **{"from": "2024-01", "to": "2024-06"}, limit=100)
    want = sorted(p["id"] for p in POSTS
                  if "2024-01" <= p["date"][:7] <= "2024-06")
    t.check(sorted(ids(r)) == want, "from/to months: %s vs %s" %
            (sorted(ids(r)), want))
    r = api.search(q="", **{"from": "2024"}, limit=100)
    t.check(all(h["date"] >= "2024" for h in r.body["hits"]) and
            len(ids(r)) == sum(1 for p in POSTS if p["date"] >= "2024"),
            "from=2024 open end")
    is_error(api.search(q="", **{"from": "yesterday"}), 400, None,
             "from=yesterday")
    r = api.search(q="nps", channel="no-such-channel")
    t.check(r.status == 200 and r.body["hits"] == [], "unknown channel: none")


def check_facets(api):
    r = api.search(q="", limit=0, facets="channel,author,lang,tag,year")
    f = r.body.get("facets", {}) if r.status == 200 else {}
    t.check(f.get("channel") == count_by(POSTS, "channel"),
            "facet channel: %r" % f.get("channel"))
    t.check(f.get("author") == count_by(POSTS, "author"), "facet author")
    t.check(f.get("lang") == count_by(POSTS, "lang"), "facet lang")
    t.check(f.get("tag") == count_by(POSTS, "tags"),
            "facet tag: %r vs %r" % (f.get("tag"), count_by(POSTS, "tags")))
    years = collections.Counter(p["date"][:4] for p in POSTS)
    t.check(f.get("year") == dict(years), "facet year: %r" % f.get("year"))
    counts = list(f.get("channel", {}).values())
    t.check(counts == sorted(counts, reverse=True), "facets by count")
    # Facets count the whole result set, not the page.
    r = api.search(q="", limit=1, lang="ru", facets=["channel"])
    ru = [p for p in POSTS if p["lang"] == "ru"]
    t.check(r.body.get("facets", {}).get("channel") == count_by(ru, "channel"),
            "facets over the whole filtered set, not the page")
    r = api.search(q="nps")
    t.check("facets" not in r.body, "no facets unless asked")
    is_error(api.search(q="", facets="channel,colour"), 400, "bad_parameter",
             "unknown facet")


def check_highlight_and_fields(api):
    r = api.search(q="клиентский опыт", highlight_pre="[[",
                   highlight_post="]]")
    hit = next((h for h in r.body.get("hits", []) if h["id"] ==
                "cxlogic/485"), {})
    t.check("[[" in hit.get("snippet", "") and "<mark>" not in
            hit.get("snippet", ""), "custom highlight tags: %r" %
            hit.get("snippet"))
    is_error(api.search(q="x", highlight_pre="<" * 100), 400,
             "bad_parameter", "highlight_pre too long")
    r = api.search(q="клиентский опыт", snippet_words=5)
    hit = next((h for h in r.body.get("hits", []) if h["id"] ==
                "cxlogic/485"), {})
    words = hit.get("snippet", "").replace("<mark>", "").replace(
        "</mark>", "").split()
    t.check(0 < len(words) <= 10, "snippet_words=5 gives a short snippet: %r"
            % hit.get("snippet"))
    is_error(api.search(q="x", snippet_words=0), 400, "bad_parameter",
             "snippet_words=0")
    r = api.search(q="", snippet_words=10 ** 9)
    t.check(r.status == 200, "snippet_words huge is clamped")
    r = api.search(q="клиентский опыт", fields="id,title")
    t.check(r.status == 200 and r.body["hits"] and
            all(set(h) == {"id", "title"} for h in r.body["hits"]),
            "fields=id,title: %r" % (r.body.get("hits", [{}])[:1],))
    r = api.search(q="клиентский опыт", fields="id,text")
    hit = next((h for h in r.body.get("hits", []) if h["id"] ==
                "cxlogic/485"), {})
    t.check(hit.get("text") == BY_ID["cxlogic/485"]["text"],
            "fields=text returns the whole text")
    r = api.search(q="клиентский опыт", fields="*")
    hit = r.body["hits"][0] if r.body.get("hits") else {}
    t.check("text" in hit and "source" in hit and "snippet" in hit,
            "fields=* gives all")
    is_error(api.search(q="x", fields="id,secret"), 400, "bad_parameter",
             "unknown field")


def check_escaping(api):
    r = api.search(q="script alert")
    hit = next((h for h in r.body.get("hits", []) if h["id"] ==
                "notes/escape"), None)
    t.check(hit is not None, "finds the post with markup")
    if hit:
        both = hit["title"] + hit["snippet"]
        t.check("<script>" not in both and "<b>" not in both,
                "markup never comes back raw: %r" % both)
        t.check("&lt;" in both, "markup comes back escaped")
    r = api.get(doc_path("notes/escape"))
    t.check("<script>alert(1)</script>" in r.body.get("text", ""),
            "/documents returns the raw stored text (JSON, not HTML)")


def check_post_search(api):
    body = {"q": "клиентский опыт", "limit": 3, "channel": ["cxlogic"],
            "facets": ["lang"], "fields": "id,title,snippet"}
    r = api.call("POST", "/search", body)
    t.check(r.status == 200 and "cxlogic/485" in ids(r) and
            all(h["id"].startswith("cxlogic/") for h in r.body["hits"]) and
            r.body.get("facets", {}).get("lang") is not None and
            r.body["limit"] == 3,
            "POST /search with JSON body: %s" % str(r.body)[:200])
    g = api.search(q="nps", sort="-date", limit=5)
    p = api.call("POST", "/search", {"q": "nps", "sort": "-date", "limit": 5})
    t.check(ids(g) == ids(p), "POST and GET give the same hits")
    is_error(api.call("POST", "/search", {"q": "x", "limt": 5}), 400,
             "bad_parameter", "unknown key in POST body")
    is_error(api.call("POST", "/search", {"q": 5}), 400, "bad_parameter",
             "q as a number")
    is_error(api.call("POST", "/search", {"limit": "ten"}), 400,
             "bad_parameter", "limit as a word")
    is_error(api.call("POST", "/search", {"limit": -3}), 400,
             "bad_parameter", "negative limit in JSON")
    is_error(api.call("POST", "/search", {"limit": 1.5}), 400,
             "bad_parameter", "limit as a real")
    is_error(api.call("POST", "/search", [1, 2]), 400, "bad_parameter",
             "body not an object")
    is_error(api.call("POST", "/search", '{"q": "клиент'), 400,
             "bad_parameter", "truncated JSON")
    is_error(api.call("POST", "/search", "[" * 100000), 400,
             "bad_parameter", "deeply nested JSON")
    is_error(api.call("POST", "/search", "q=nps", headers={
        "Content-Type": "application/x-www-form-urlencoded"}), 415,
        "unsupported_media_type", "POST /search as a form")
    r = api.call("POST", "/search", "{}", headers={
        "Content-Type": "application/json; charset=utf-8"})
    t.check(r.status == 200 and r.body["total"] == len(POSTS),
            "empty object, charset parameter accepted")


def check_documents(api):
    for pid in ("cxlogic/485", "notes/v1.2.3", "cxweekly/2024-07"):
        r = api.get(doc_path(pid))
        t.check(r.status == 200 and r.body.get("id") == pid and
                r.body.get("text") == BY_ID[pid]["text"],
                "GET /documents/%s (encoded)" % pid)
    r = api.get("/documents/cxlogic/485")
    t.check(r.status == 200 and r.body.get("id") == "cxlogic/485",
            "GET /documents/cxlogic/485 with a plain slash")
    is_error(api.get("/documents/nope/1"), 404, "not_found", "unknown id")
    is_error(api.get("/documents/a%00b"), 400, None, "NUL in id")
    is_error(api.get("/documents/%zz"), 400, None, "bad escape in id")
    r = api.get("/documents/cxlogic/485/similar")
    t.check(r.status == 200 and isinstance(r.body.get("hits"), list) and
            "cxlogic/485" not in ids(r),
            "similar excludes itself: %s" % ids(r))
    r = api.get("/documents/cxlogic/485/similar", {"limit": 2})
    t.check(r.status == 200 and len(r.body["hits"]) <= 2, "similar limit")
    is_error(api.get("/documents/cxlogic/485/similar", {"limit": "x"}), 400,
             "bad_parameter", "similar limit=x")
    is_error(api.get("/documents/nope/similar"), 404, "not_found",
             "similar of an unknown id")


def check_suggest_stats_metrics(api):
    r = api.get("/suggest", {"q": "клиентский оп"})
    t.check(r.status == 200 and isinstance(r.body.get("suggestions"), list)
            and isinstance(r.body.get("words"), list) and
            isinstance(r.body.get("titles"), list), "/suggest shape")
    t.check(all(s.startswith("клиентский ") for s in
                r.body.get("suggestions", [])), "suggestions keep the start")
    t.check(any(w.startswith("оп") for w in r.body.get("words", [])),
            "completions of 'оп': %r" % r.body.get("words"))
    r = api.get("/suggest", {"q": "esperien"})
    t.check(any(w.startswith("esperien") for w in r.body.get("words", [])),
            "completions of 'esperien': %r" % r.body.get("words"))
    r = api.get("/suggest", {"q": ""})
    t.check(r.status == 200, "/suggest with empty q")
    is_error(api.get("/suggest", {"q": "a", "limit": "-2"}), 400,
             "bad_parameter", "/suggest limit=-2")
    r = api.get("/stats")
    t.check(r.status == 200 and r.body.get("posts") == len(POSTS) and
            r.body.get("langs") == count_by(POSTS, "lang") and
            r.body.get("channels") == count_by(POSTS, "channel") and
            r.body.get("disk_bytes", 0) > 0 and "revision" in r.body,
            "/stats: %s" % str(r.body)[:300])
    r = api.get("/metrics")
    text = r.body if isinstance(r.body, str) else ""
    t.check(r.status == 200 and r.header("content-type").startswith(
        "text/plain"), "/metrics is text")
    for needle in ('cxsearch_requests_total{route="search",status="200"}',
                   'cxsearch_requests_total{route="search",status="400"}',
                   'cxsearch_request_duration_seconds_bucket{route="search",'
                   'le="+Inf"}', "cxsearch_posts %d" % len(POSTS),
                   "cxsearch_index_revision ", "cxsearch_uptime_seconds ",
                   'cxsearch_posts_written_total{op="added"}'):
        t.check(needle in text, "/metrics has %s" % needle)


def check_routing_errors(api):
    r = api.get("/nope")
    is_error(r, 404, "not_found", "unknown path")
    r = api.call("DELETE", "/search")
    is_error(r, 405, "method_not_allowed", "DELETE /search")
    allow = r.header("allow") or ""
    t.check("GET" in allow and "POST" in allow, "Allow header: %s" % allow)
    is_error(api.call("PUT", "/health", "{}"), 405, "method_not_allowed",
             "PUT /health")
    is_error(api.call("POST", "/documents/x/similar", "{}"), 405, None,
             "POST similar")
    is_error(api.call("PATCH", "/documents/x", "{}"), 405, None,
             "PATCH /documents/x")
    is_error(api.call("POST", "/nope", "{}"), 404, None, "POST unknown path")
    r = request(api.port, "HEAD", "/health")
    t.check(r.status == 200 and r.raw == b"", "HEAD /health")
    # CORS
    r = api.call("OPTIONS", "/search", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"})
    t.check(r.status == 204 and r.header("access-control-allow-origin") ==
            ALLOWED_ORIGIN and "POST" in (r.header(
                "access-control-allow-methods") or "") and "Authorization" in
            (r.header("access-control-allow-headers") or ""),
            "preflight from an allowed origin")
    is_error(api.call("OPTIONS", "/search", headers={
        "Origin": "http://evil.example"}), 403, "origin_not_allowed",
        "preflight from another origin")
    r = api.get("/search", {"q": "nps"}, headers={"Origin": ALLOWED_ORIGIN})
    t.check(r.header("access-control-allow-origin") == ALLOWED_ORIGIN and
            "Origin" in (r.header("vary") or ""), "CORS on GET")
    r = api.get("/search", {"q": "nps"}, headers={
        "Origin": "http://evil.example"})
    t.check(r.status == 200 and r.header("access-control-allow-origin")
            is None, "no CORS header for other origins")
    is_error(api.call("OPTIONS", "/nope"), 404, None, "OPTIONS unknown")


def check_static(api):
    web = os.path.join(SOURCE_DIR, "web")
    if os.path.exists(os.path.join(web, "index.html")):
        r = api.get("/")
        t.check(r.status == 200 and r.header("content-type").startswith(
            "text/html"), "GET / serves the page")
        with open(os.path.join(web, "index.html"), "rb") as f:
            t.check(r.raw == f.read(), "GET / is web/index.html")
    if os.path.exists(os.path.join(web, "widget.js")):
        r = api.get("/widget.js")
        t.check(r.status == 200 and "javascript" in r.header("content-type"),
                "GET /widget.js")
        # Assembled per request, yet revalidated like every static file.
        t.check(r.header("cache-control") == "no-cache",
                "GET /widget.js: Cache-Control %s" % r.header("cache-control"))
    if os.path.exists(os.path.join(web, "index.html")):
        t.check(api.get("/").header("cache-control") == "no-cache",
                "GET /: Cache-Control no-cache")
    for bad in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                "/..%2f..%2fetc%2fpasswd", "/%2E%2E/cxsearch.conf",
                "/web/../../etc/passwd", "/.git/config", "/%2e/index.html",
                "/index.html%00.js", "/..\\..\\etc\\passwd",
                "/%2e%2e%5c%2e%2e%5cetc%5cpasswd", "//etc/passwd",
                "/" + "%2e%2e/" * 40 + "etc/passwd"):
        r = request(api.port, "GET", bad)
        t.check(r.status in (400, 404) and b"root:" not in r.raw,
                "traversal %s: %d" % (bad, r.status))
    is_error(request(api.port, "GET", "/%zz"), 400, None, "bad escape")


def check_bad_input(api):
    # Invalid UTF-8 and NUL bytes in q.
    for q in ("%FF%FEnps", "nps%00%00", "%C3%28", "%ED%A0%80", "%F4%90%80%80"):
        r = request(api.port, "GET", "/search?q=" + q)
        t.check(r.status == 200 and r.utf8 and isinstance(r.body, dict),
                "q=%s: status %d, valid UTF-8 JSON" % (q, r.status))
    r = request(api.port, "GET", "/search?q=%FF%FEnps")
    t.check("\ufffd" in r.body.get("query", ""), "bad bytes echoed as U+FFFD")
    r = request(api.port, "GET", "/search?q=" + urllib.parse.quote(
        "клиентский") + "%00" + urllib.parse.quote("опыт"))
    t.check(r.status == 200 and r.body.get("query") ==
            "клиентский\u0000опыт", "NUL kept in the echoed query")
    # A 1 MB query string.
    big = "/search?q=" + "a" * (1 << 20)
    raw = raw_exchange(api.port, ("GET %s HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n" % big).encode())
    st = status_of(raw)
    t.check(400 <= st < 500, "1 MB query string: %d" % st)
    # 1 MB q in a POST body and a 10,000-word query: over max_query_bytes.
    r = api.call("POST", "/search", {"q": "опыт " * 200000})
    is_error(r, 400, "bad_parameter", "1 MB q in POST")
    t.check("max_query_bytes" in r.body.get("error", {}).get("message", ""),
            "message names max_query_bytes")
    r = api.call("POST", "/search", {"q": " ".join(["nps"] * 10000)})
    is_error(r, 400, "bad_parameter", "10,000-word query")
    r = api.search(q=" ".join(["a"] * 10000))
    is_error(r, 400, "bad_parameter", "10,000-word query in the URL")
    # Forgiving readings.
    for q in ("(" * 1000 + "nps" + ")" * 1000, "(" * 1000, ")" * 1000,
              '"клиентский опыт', 'a"b"c"', '"', "OR", "AND", "-", "- -",
              "nps OR", "OR nps", "-nps", "((nps", "channel:", "tag:",
              "date:..", "date:2024-13..zz", "*", "**", "\"\"", "nps*"):
        r = api.search(q=q)
        t.check(r.status == 200 and isinstance(r.body.get("hits"), list),
                "forgiving q=%r: %d %s" % (q[:30], r.status,
                                           str(r.body)[:120]))
    r = api.search(q='"клиентский опыт')
    t.check("cxlogic/485" in ids(r), "unbalanced quote still finds")
    r = api.search(q="nps", foo="bar", _="123")
    t.check(r.status == 200 and r.body["hits"], "unknown params ignored")
    r = request(api.port, "GET", "/search?" + "&".join(
        "p%d=1" % i for i in range(300)))
    is_error(r, 400, "too_many_parameters", "300 parameters")
    r = request(api.port, "GET", "/search?q=nps&&&=&a&%zz=%zz")
    t.check(r.status == 200, "odd query strings are read forgivingly")


def check_bodies(api):
    w = Api(api.port, WRITE_KEY)
    # 100 MB declared: refused before the body is read.
    t0 = time.time()
    raw = raw_exchange(api.port, (
        "POST /documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n"
        % (WRITE_KEY, 100 << 20)).encode() + b'{"text": "x"}\n')
    t.check(status_of(raw) == 413 and b"body_too_large" in raw,
            "100 MB body: %r" % raw[:60])
    t.check(time.time() - t0 < 10, "413 without reading the body")
    # Chunked, no length: read up to the limit, then 413.
    chunk = b"x" * 65536
    parts = [b"POST /search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
             b"\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"]
    for _ in range(2 * 16 + 1):  # 2 MiB + 64 KiB > max_body_bytes = 2m
        parts.append(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    parts.append(b"0\r\n\r\n")
    raw = raw_exchange(api.port, b"".join(parts))
    t.check(status_of(raw) == 413, "chunked body over the limit: %r" %
            raw[:40])
    # Wrong Content-Type.
    for ct in ("text/plain", "application/xml", "multipart/form-data",
               "application/jsonx"):
        is_error(w.call("POST", "/documents", '{"text": "x"}',
                        headers={"Content-Type": ct}), 415,
                 "unsupported_media_type", "Content-Type %s" % ct)
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    conn.putrequest("POST", "/documents")
    conn.putheader("Authorization", "Bearer " + WRITE_KEY)
    conn.putheader("Content-Length", "13")
    conn.endheaders(b'{"text": "x"}')
    t.check(conn.getresponse().status == 415, "no Content-Type: 415")
    conn.close()
    # Truncated, deeply nested, not objects, empty.
    for body, what in (('{"id": "t/1", "text": "abc', "truncated"),
                       ("[" * 50000, "deeply nested"),
                       ('"just a string"', "a string"),
                       ("[1, 2]", "array of numbers"),
                       ("", "empty"), ("   \n", "blank"),
                       ('{"id": "t/1"}', "no text"),
                       ('{"text": ""}', "empty text"),
                       ('{"text": "x", "date": 5}', "date not a string")):
        r = w.call("POST", "/documents", body)
        is_error(r, 400, None, "POST /documents %s" % what)
    r = w.call("POST", "/documents", ("{\"text\": \"x\"}\n" * 3) + "{oops\n",
               headers={"Content-Type": "application/x-ndjson"})
    is_error(r, 400, "bad_json", "bad JSON line")
    t.check("line 4" in r.body.get("error", {}).get("message", ""),
            "message names line 4: %s" % r.body)


def check_writes(api, db):
    anon = Api(api.port)
    w = Api(api.port, WRITE_KEY)
    post = {"id": "api/one", "channel": "apitest", "lang": "it",
            "text": "Prova di scrittura\nLa zebraquokka entra nell'indice."}
    is_error(anon.call("POST", "/documents", post), 401, "missing_key",
             "write without key")
    t.check(anon.call("POST", "/documents", post).header(
        "www-authenticate") == "Bearer", "401 carries WWW-Authenticate")
    is_error(Api(api.port, "wrong-key-123").call("POST", "/documents", post),
             403, "invalid_key", "write with a wrong key")
    is_error(Api(api.port, WRITE_KEY[:-1]).call("POST", "/documents", post),
             403, "invalid_key", "write with a key prefix")
    is_error(anon.call("POST", "/documents", post, headers={
        "Authorization": "Basic " + WRITE_KEY}), 401, "missing_key",
        "Basic auth is not a bearer key")
    t.check(ids(api.search(q="zebraquokka")) == [], "not there before")
    # Another process holds the write lock (as `cxsearch index` would):
    # 503 locked, searches go on; once it lets go, the write works.
    lock = os.path.join(db, "flintlock")
    if os.path.exists(lock):
        with open(lock, "r+") as f:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            r = w.call("POST", "/documents", post)
            is_error(r, 503, "locked", "write while another process holds "
                     "the index")
            t.check(r.header("retry-after") is not None, "503 Retry-After")
            t.check(api.search(q="nps").status == 200,
                    "searches go on while the index is locked")
            fcntl.lockf(f, fcntl.LOCK_UN)
    r = w.call("POST", "/documents", post)
    t.check(r.status == 200 and r.body.get("added") == 1 and
            r.body.get("ids") == ["api/one"], "POST one post: %s" % r.body)
    t.check(ids(api.search(q="zebraquokka")) == ["api/one"],
            "visible once the commit returned")
    r = w.call("POST", "/documents", post)
    t.check(r.status == 200 and r.body.get("unchanged") == 1,
            "same post again: unchanged (%s)" % r.body)
    # JSON array and JSON Lines, with a duplicate id (the last wins).
    arr = [{"id": "api/two", "text": "Primo testo gnuzebra"},
           {"id": "api/three", "text": "Terzo testo"},
           {"id": "api/two", "text": "Secondo testo okapizebra"}]
    r = w.call("POST", "/documents", arr)
    t.check(r.status == 200 and r.body.get("posts") == 3 and
            r.body.get("duplicates") == 1 and r.body.get("added") == 2,
            "array batch with a duplicate: %s" % r.body)
    t.check(ids(api.search(q="okapizebra")) == ["api/two"] and
            ids(api.search(q="gnuzebra")) == [], "duplicate: the last wins")
    lines = "\n".join(json.dumps({"id": "api/l%d" % i, "channel": "apitest",
                                  "text": "Riga %d lemurzebra" % i})
                      for i in range(50)) + "\n\n"
    r = w.call("POST", "/documents", lines,
               headers={"Content-Type": "application/x-ndjson"})
    t.check(r.status == 200 and r.body.get("added") == 50, "JSON Lines 50")
    r = api.search(q="lemurzebra", limit=100)
    t.check(len(ids(r)) == 50, "all 50 visible")
    # All or nothing: a bad line 3 writes nothing.
    bad = "\n".join([json.dumps({"id": "api/ok1", "text": "tapirzebra"}),
                     json.dumps({"id": "api/ok2", "text": "tapirzebra"}),
                     json.dumps({"id": "api/bad", "text": 42})])
    r = w.call("POST", "/documents", bad,
               headers={"Content-Type": "application/x-ndjson"})
    is_error(r, 400, "bad_post", "bad post on line 3")
    t.check("line 3" in r.body.get("error", {}).get("message", ""),
            "names line 3: %s" % r.body)
    t.check(ids(api.search(q="tapirzebra")) == [], "nothing written")
    # Ids with slashes, dots, 10 KB.
    odd = "a/b.c/../d e?f#g"
    r = w.call("PUT", doc_path(odd), {"text": "Strano identificativo"})
    t.check(r.status == 201 and r.body.get("id") == odd and
            r.body.get("result") == "added", "PUT odd id: %s" % r.body)
    r = api.get(doc_path(odd))
    t.check(r.status == 200 and r.body.get("id") == odd, "GET odd id")
    r = w.call("POST", "/documents", {"id": "x" * 10240, "text": "lungo"})
    is_error(r, 400, "bad_post", "10 KB id in a body")
    r = w.call("PUT", doc_path("y" * 10240), {"text": "lungo"})
    is_error(r, 400, None, "10 KB id in the path")
    r = w.call("PUT", "/documents/api/one", {"id": "api/other", "text": "x"})
    is_error(r, 400, "id_mismatch", "PUT with another id in the body")
    r = w.call("PUT", "/documents/api/one", {
        "id": "api/one", "channel": "apitest",
        "text": "Prova aggiornata\nOra parla di capibarazebra."})
    t.check(r.status == 200 and r.body.get("result") == "updated",
            "PUT updates: %s" % r.body)
    t.check(ids(api.search(q="capibarazebra")) == ["api/one"] and
            ids(api.search(q="zebraquokka")) == [], "update visible")
    is_error(anon.call("DELETE", "/documents/api/one"), 401, None,
             "DELETE without key")
    r = w.call("DELETE", "/documents/api/one")
    t.check(r.status == 200 and r.body.get("deleted") is True, "DELETE")
    is_error(api.get("/documents/api/one"), 404, "not_found",
             "deleted post is gone")
    t.check(ids(api.search(q="capibarazebra")) == [], "delete visible")
    is_error(w.call("DELETE", "/documents/api/one"), 404, "not_found",
             "DELETE twice")
    # The daemon now holds the write lock: the indexer says so clearly.
    p = __import__("subprocess").run(
        [CXSEARCH, "index", "--db", db, FIXTURE], capture_output=True,
        text=True, timeout=120)
    msg = (p.stderr + p.stdout).lower()
    t.check(p.returncode != 0 and ("lock" in msg or "another process" in msg),
            "cxsearch index while the daemon writes: %d %s" %
            (p.returncode, p.stderr.strip()[:200]))
    r = api.get("/health")
    t.check(r.status == 200 and r.body.get("documents") ==
            len(POSTS) + 2 + 50 + 1, "count after writes: %s" % r.body)


def check_concurrency(api):
    errors = []

    def worker(n):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", api.port,
                                              timeout=30)
            for i in range(20):  # keep-alive: one connection, many requests
                conn.request("GET", target("/search", {
                    "q": ["nps", "клиентский опыт", "servizio", ""][i % 4],
                    "facets": "channel"}))
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
            conn.close()
        except Exception as e:  # noqa: BLE001 - report any failure
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.check(errors == [], "160 concurrent keep-alive searches: %r" %
            errors[:5])
    check_keep_alive(api)


def check_keep_alive(api):
    """Requests without a body, one after another on one socket, each
    answered on it: http.client would quietly reconnect, so the socket is
    read by hand."""
    paths = [target("/search", {"q": "nps"}), "/health",
             target("/search", {"q": "клиентский опыт", "limit": "1"}),
             "/no-such-route", target("/suggest", {"q": "опы"})]
    answered = []
    with socket.create_connection(("127.0.0.1", api.port), timeout=30) as so:
        f = so.makefile("rb")
        for p in paths:
            try:
                so.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                            p).encode())
                status = f.readline()
            except OSError:
                status = b""
            if not status:
                break  # the server closed the connection
            head = {}
            for line in iter(f.readline, b"\r\n"):
                if not line:
                    break
                k, _, v = line.decode("latin-1").partition(":")
                head[k.strip().lower()] = v.strip()
            f.read(int(head.get("content-length", "0")))
            answered.append((status.split(b" ")[1:2],
                             head.get("connection", "")))
    t.check(len(answered) == len(paths) and
            all(c.lower() != "close" for _, c in answered),
            "keep-alive: %d requests on one connection: %r" %
            (len(paths), answered))


def check_access_log(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    t.check(len(lines) > 100, "access log has a line per request")
    t.check(all({"time", "method", "route", "status", "latency_ms"} <=
                set(x) for x in lines), "access log fields")
    t.check(any(x["route"] == "search" and x["status"] == 200 and
                "hits" in x for x in lines), "search lines carry hits")
    t.check(any(x["route"] == "documents_post" and x["status"] == 401
                for x in lines), "refused writes are logged")
    t.check(WRITE_KEY not in text and READ_KEY not in text,
            "no keys in the access log")
    t.check("zebraquokka" not in text, "no bodies or queries in the log")


def check_read_key_mode(h):
    """Read key set, no write key: reads need a key, writes are off."""
    syn = os.path.join(h.tmp, "syn.txt")
    with open(syn, "w", encoding="utf-8") as f:
        f.write("# empty at first\n")
    conf = "read_key = %s\naccess_log = off\nsynonyms = %s\n" % (READ_KEY,
                                                                  syn)
    h.start_daemon(config_body=conf, env={"CXSEARCH_WRITE_KEY": ""})
    port = h.port
    anon, rk = Api(port), Api(port, READ_KEY)
    t.check(anon.get("/health").status == 200, "/health open with read key")
    is_error(anon.search(q="nps"), 401, "missing_key", "search without key")
    is_error(Api(port, "nope-nope-nope").search(q="nps"), 403,
             "invalid_key", "search with a wrong key")
    t.check(rk.search(q="nps").status == 200, "search with the read key")
    for path in ("/documents/cxlogic/485", "/stats", "/metrics",
                 "/suggest", "/documents/cxlogic/485/similar"):
        is_error(anon.get(path), 401, "missing_key", "%s without key" % path)
        t.check(rk.get(path).status == 200, "%s with the read key" % path)
    r = rk.call("POST", "/documents", {"text": "x"})
    is_error(r, 403, "writes_disabled", "writes off without a write key")
    is_error(anon.call("DELETE", "/documents/cxlogic/485"), 403,
             "writes_disabled", "DELETE off without a write key")
    # A commit by another process shows up without a restart.
    extra = os.path.join(h.tmp, "extra.jsonl")
    with open(extra, "w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "extra/1", "channel": "extra",
                            "text": "Nota esterna axolotlzebra"}) + "\n")
    h.index(extra)
    deadline = time.time() + 10
    found = False
    while time.time() < deadline and not found:
        found = ids(rk.search(q="axolotlzebra")) == ["extra/1"]
        time.sleep(0.2)
    t.check(found, "a commit by cxsearch index is picked up")
    # Synonyms: edit the file, SIGHUP, no re-index.
    t.check("cxweekly/2024-07" not in ids(rk.search(q="отток")),
            "no synonym yet")
    with open(syn, "w", encoding="utf-8") as f:
        f.write("отток, churn\n")
    h.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    found = False
    while time.time() < deadline and not found:
        found = "cxweekly/2024-07" in ids(rk.search(q="отток"))
        time.sleep(0.2)
    t.check(found, "SIGHUP: a new synonym takes effect without re-indexing")
    h.stop_checked(t, "read-key daemon")


def check_reload_and_stop(h, conf_body):
    """SIGHUP swaps keys; SIGTERM stops cleanly."""
    port = h.port
    new_key = "wk-reloaded-000111"
    h.write_config(conf_body.replace("write_key = " + WRITE_KEY,
                                     "write_key = " + new_key))
    h.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    ok = False
    while time.time() < deadline and not ok:
        ok = Api(port, new_key).call("POST", "/documents", {
            "id": "api/reload", "text": "dopo il reload"}).status == 200
        time.sleep(0.1)
    t.check(ok, "SIGHUP: the new write key works")
    is_error(Api(port, WRITE_KEY).call("POST", "/documents", {"text": "x"}),
             403, "invalid_key", "SIGHUP: the old write key is refused")
    h.write_config("unknown_key = 1\n")
    h.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    t.check(Api(port).get("/health").status == 200 and
            h.proc.poll() is None, "a bad config on SIGHUP keeps serving")
    h.proc.send_signal(signal.SIGTERM)
    try:
        rc = h.proc.wait(15)
    except Exception:  # noqa: BLE001
        rc = None
    t.check(rc == 0, "SIGTERM: clean exit (%r)" % rc)
    log = h.daemon_log()
    t.check("Sanitizer" not in log and "runtime error" not in log,
            "main daemon: no sanitizer report: %s" % log[-2000:])
    t.check("reload failed" in log and "unknown key" in log,
            "the bad reload is reported")
    t.check("stopped" in log, "daemon says it stopped")


def check_config_errors(h):
    conf = h.write_config("listen = 127.0.0.1:1\nmax_limit = lots\n")
    p = __import__("subprocess").run([CXSEARCHD, "--config", conf, "--db",
                                      h.db], capture_output=True, text=True,
                                     timeout=30)
    t.check(p.returncode != 0 and "cxsearch.conf:2" in p.stderr and
            "max_limit" in p.stderr, "bad value names file:line: %s" %
            p.stderr.strip())
    conf = h.write_config("colour = blue\n")
    p = __import__("subprocess").run([CXSEARCHD, "--config", conf, "--db",
                                      h.db], capture_output=True, text=True,
                                     timeout=30)
    t.check(p.returncode != 0 and "unknown key 'colour'" in p.stderr,
            "unknown key refused: %s" % p.stderr.strip())
    p = __import__("subprocess").run([CXSEARCHD, "--help"],
                                     capture_output=True, text=True)
    t.check(p.returncode == 0 and "--listen" in p.stdout, "--help")
    p = __import__("subprocess").run([CXSEARCHD, "--version"],
                                     capture_output=True, text=True)
    t.check(p.returncode == 0 and p.stdout.startswith("cxsearchd "),
            "--version")


def check_shards(h):
    """Two databases searched as one: the fixture and the sample corpus."""
    if not os.path.exists(SAMPLE):
        return
    sample_db = os.path.join(h.tmp, "sample-index")
    h.index(SAMPLE, db=sample_db)
    sample = load_posts(SAMPLE)
    h.start_daemon(config_body="access_log = off\n", dbs=[h.db, sample_db],
                   env={"CXSEARCH_WRITE_KEY": ""})
    api = Api(h.port)
    r = api.search(q="", limit=0, facets="channel,lang,year")
    both = POSTS + sample
    t.check(r.status == 200 and r.body["total"] == len(both),
            "shards: total %s" % r.body.get("total"))
    f = r.body.get("facets", {})
    t.check(f.get("channel") == count_by(both, "channel"), "shards: channels")
    t.check(f.get("lang") == count_by(both, "lang"), "shards: langs")
    t.check(f.get("year") == dict(collections.Counter(p["date"][:4]
                                                      for p in both)),
            "shards: years")
    sid = sample[0]["id"]
    r = api.get(doc_path(sid))
    t.check(r.status == 200 and r.body.get("id") == sid,
            "shards: a post of the second shard")
    h.stop_checked(t, "shards daemon")


def check_limits(h):
    """Rate limit per address (429) and a slow client dropped."""
    h.start_daemon(config_body="rate_limit = 2\nrate_burst = 5\n"
                   "connection_timeout = 2\naccess_log = off\n",
                   env={"CXSEARCH_WRITE_KEY": ""})
    api = Api(h.port)
    statuses = [api.get("/search", {"q": "nps"}).status for _ in range(12)]
    t.check(statuses.count(429) >= 5 and statuses[0] == 200,
            "rate limit: %s" % statuses)
    r = api.get("/search", {"q": "nps"})
    if r.status == 429:
        is_error(r, 429, "rate_limited", "rate limited answer")
        t.check(r.header("retry-after") == "1", "429 has Retry-After")
    time.sleep(1.6)
    t.check(api.get("/search", {"q": "nps"}).status == 200,
            "tokens come back with time")
    # A slow-loris client: headers never finished.
    s = socket.create_connection(("127.0.0.1", h.port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    t0 = time.time()
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    s.close()
    t.check(data in (b"",) or data.startswith(b"HTTP/1.1 4"),
            "slow client dropped: %r" % data[:40])
    t.check(time.time() - t0 < 8, "dropped after connection_timeout")
    h.stop_checked(t, "limits daemon")


def reader_opens(api):
    text = api.get("/metrics").body
    for line in (text if isinstance(text, str) else "").splitlines():
        if line.startswith("cxsearch_reader_opens_total "):
            return int(line.split()[1])
    return -1


def check_preopened_readers(h):
    """The readers of the pool are opened ahead, in the background, once
    the daemon listens, until every pool thread has one or finds one
    waiting: the daemon says so in its log (waited for, with no request
    made meanwhile), and requests on new connections, so on other threads
    too, then take a waiting reader and open none (/metrics counts opens).
    """
    nthreads = 3
    h.start_daemon(config_body="[server]\nthreads = %d\n[files]\n"
                   "access_log = off\n" % nthreads,
                   env={"CXSEARCH_WRITE_KEY": ""})
    t.check(h.wait_readers_opened(), "daemon log says readers were "
            "opened ahead: %s" % h.daemon_log()[-500:])
    api = Api(h.port)
    opens = reader_opens(api)
    t.check(opens >= nthreads, "a reader per thread: %d opens" % opens)
    start = threading.Barrier(2)
    statuses = []

    def search(q):
        start.wait()
        statuses.append(api.search(q=q).status)

    workers = [threading.Thread(target=search, args=(q,))
               for q in ("nps", "клиентский опыт")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    t.check(statuses == [200, 200], "searches: %s" % statuses)
    after = reader_opens(api)
    t.check(after == opens, "concurrent searches open no reader "
            "(%d, then %d)" % (opens, after))
    h.stop_checked(t, "pre-open daemon")


def check_seeds(h):
    """The seed posts of ../shared (real CX writing, split into posts by
    the importer): each post is found by a word only it contains,
    highlighted, fetched whole, and has similar posts. Skipped when
    ../shared is absent."""
    seeds = os.path.join(SHARED_DIR, "seeds")
    if not os.path.isdir(seeds):
        print("note: %s absent, seed checks skipped" % seeds)
        return
    db = os.path.join(h.tmp, "seeds-index")
    h.index(seeds, db=db)
    h.start_daemon(config_body="access_log = off\n", dbs=[db],
                   env={"CXSEARCH_WRITE_KEY": ""})
    api = Api(h.port)
    n = api.get("/health").body.get("documents", 0)
    t.check(n >= len(os.listdir(seeds)), "seeds: %d posts" % n)
    r = api.search(q="", limit=100, fields="id,text", facets="lang")
    posts = {hh["id"]: hh.get("text") or "" for hh in r.body.get("hits", [])}
    t.check(len(posts) == n, "seeds: every post listed")
    t.check(sum(r.body.get("facets", {}).get("lang", {}).values()) == n,
            "seeds: lang facet counts every post")
    words = {}
    for pid, text in posts.items():
        for w in text.lower().split():
            w = w.strip(".,:;!?()\"«»–—-")
            if len(w) >= 11 and w.isalpha():
                words.setdefault(w, set()).add(pid)
    checked = 0
    for pid in sorted(posts)[:10]:
        own = sorted(w for w, ps in words.items() if ps == {pid})[:1]
        if not own:
            continue
        checked += 1
        r = api.search(q=own[0])
        hit = next((x for x in r.body.get("hits", []) if x["id"] == pid), {})
        t.check("<mark>" in hit.get("snippet", ""),
                "seeds: %r finds %s highlighted" % (own[0], pid))
        d = api.get(doc_path(pid))
        t.check(d.status == 200 and d.body.get("text") == posts[pid],
                "seeds: GET %s whole" % pid)
        sim = api.get(doc_path(pid) + "/similar")
        t.check(sim.status == 200 and pid not in ids(sim),
                "seeds: similar to %s" % pid)
    t.check(checked > 0, "seeds: some posts checked")
    h.stop_checked(t, "seeds daemon")


def main():
    for prog in (CXSEARCH, CXSEARCHD):
        if not os.path.exists(prog):
            skip("%s is not built" % prog)
    with Harness() as h:
        h.index(FIXTURE)
        check_config_errors(h)
        access = os.path.join(h.tmp, "access.log")
        conf = ("[limits]\nmax_body_bytes = 2m\n"
                "[security]\ncors_origins = %s, http://other.test\n"
                "write_key = %s\n[files]\naccess_log = %s\n"
                % (ALLOWED_ORIGIN, WRITE_KEY, access))
        h.start_daemon(config_body=conf, env={"CXSEARCH_WRITE_KEY": "",
                                              "CXSEARCH_READ_KEY": ""})
        api = Api(h.port)
        check_health_and_shape(api)
        check_paging(api)
        check_sort(api)
        check_filters(api)
        check_facets(api)
        check_highlight_and_fields(api)
        check_escaping(api)
        check_post_search(api)
        check_documents(api)
        check_suggest_stats_metrics(api)
        check_routing_errors(api)
        check_static(api)
        check_bad_input(api)
        check_bodies(api)
        check_concurrency(api)
        check_writes(api, h.db)
        t.check(api.get("/health").status == 200, "still alive after all")
        check_reload_and_stop(h, conf)
        check_access_log(access)
    with Harness() as h:
        h.index(FIXTURE)
        check_read_key_mode(h)
    with Harness() as h:
        h.index(FIXTURE)
        check_shards(h)
        check_limits(h)
        check_preopened_readers(h)
        check_seeds(h)
    t.done()


if __name__ == "__main__":
    main()
