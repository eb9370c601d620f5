"""The first slice end to end (issues 2 and 3): index the bundled sample
corpus into a temporary index, start cxsearchd on a free loopback port and
check real queries over HTTP: ranked hits, word forms found and highlighted
through the analyzer, /documents, /health, errors, and the dump | index
round trip. Facts about the corpus are in data/SAMPLE.md."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import SOURCE_DIR, Checks, Harness  # noqa: E402

SAMPLE = os.path.join(SOURCE_DIR, "data", "sample")
MARK = re.compile(r"<mark>(.*?)</mark>")


def hit_ids(body):
    return [h["id"] for h in body.get("hits", [])]


def marked(body, post_id):
    """The highlighted words of one hit's snippet and title."""
    for h in body.get("hits", []):
        if h["id"] == post_id:
            return MARK.findall(h.get("snippet", "") + " " + h.get("title", ""))
    return []


def check_found(t, h, query, post_id, want_marked):
    """query finds post_id and its snippet marks want_marked."""
    s, body = h.get("/search", q=query, limit=50)
    t.check(s == 200, "%s: status %d" % (query, s))
    t.check(post_id in hit_ids(body),
            "%r finds %s (got %s)" % (query, post_id, hit_ids(body)))
    words = [w.lower() for w in marked(body, post_id)]
    t.check(want_marked.lower() in words,
            "%r highlights %r in %s (marked %s)" %
            (query, want_marked, post_id, words))


def test_ranked_search(t, h):
    s, body = h.get("/search", q="клиентский опыт")
    t.check(s == 200, "search status %d" % s)
    for key in ("query", "total", "took_ms", "hits"):
        t.check(key in body, "response has %s" % key)
    ids = hit_ids(body)
    for pid in ("cx_notes_ru/101", "cx_notes_ru/102", "cx_notes_ru/103"):
        t.check(pid in ids, "клиентский опыт finds %s (got %s)" % (pid, ids))
    scores = [x["score"] for x in body["hits"]]
    t.check(scores == sorted(scores, reverse=True), "hits ranked by score")
    hit = body["hits"][0]
    for key in ("id", "score", "title", "snippet", "channel", "author",
                "date", "lang", "url", "tags"):
        t.check(key in hit, "hit has %s" % key)
    t.check("клиентского" in [w.lower() for w in marked(body, "cx_notes_ru/102")],
            "the inflected form is highlighted in cx_notes_ru/102")
    s, body = h.get("/search", q="клиентский опыт", limit=1)
    t.check(len(body["hits"]) == 1, "limit=1 gives one hit")


def test_analysis_over_http(t, h):
    # Russian inflection through dictionary lemmas (Snowball alone fails).
    check_found(t, h, "клиентский опыт", "cx_notes_ru/102", "опыта")
    check_found(t, h, "опыт", "cx_notes_ru/103", "опыту")
    # Italian elision, straight and curly apostrophes.
    check_found(t, h, "informazione", "servizio_clienti_it/201",
                "informazione")
    check_found(t, h, "dell’informazione", "servizio_clienti_it/201",
                "informazione")
    check_found(t, h, "esperienza", "servizio_clienti_it/202", "esperienza")
    check_found(t, h, "dell'esperienza", "servizio_clienti_it/202",
                "esperienza")
    # ё folding, both ways.
    check_found(t, h, "удовлетворенность", "cx_notes_ru/104",
                "удовлетворённость")
    check_found(t, h, "удовлетворённость", "klientskiy_put/7",
                "удовлетворенность")
    # Accent-insensitive fallback.
    check_found(t, h, "perche", "servizio_clienti_it/204", "perché")
    # Cyrillic look-alike acronym: Latin CX finds Cyrillic СХ.
    check_found(t, h, "CX", "klientskiy_put/9", "СХ")
    # Hyphenated compounds: the whole and the parts.
    check_found(t, h, "исследователь", "klientskiy_put/10", "исследователь")
    check_found(t, h, "CX-исследователь", "klientskiy_put/10",
                "исследователь")
    check_found(t, h, "NPS/CSI", "cx_notes_ru/105", "NPS")
    check_found(t, h, "commerce", "cx_metrics_digest/53", "commerce")


def test_documents_and_health(t, h):
    s, body = h.get("/documents/cx_notes_ru/102")
    t.check(s == 200, "GET /documents/{id} status %d" % s)
    t.check(isinstance(body, dict) and "клиентского опыта" in body.get("text", ""),
            "document has its whole text")
    s, body = h.get("/documents/no_such/1")
    t.check(s == 404 and "error" in body, "unknown id is a 404 JSON error")
    s, body = h.get("/health")
    t.check(s == 200 and body.get("status") == "ok", "health ok")
    t.check(body.get("documents") == 43, "43 documents (got %s)" %
            body.get("documents"))


def test_errors(t, h):
    s, body = h.get("/no/such/path")
    t.check(s == 404 and body["error"]["code"] and body["error"]["message"],
            "unknown path: 404 with code and message")
    s, body, _ = h.request("DELETE", "/health")
    t.check(s == 405 and "error" in body, "wrong method: 405 (got %d)" % s)
    for params in ({"q": "nps", "limit": "abc"}, {"q": "nps", "limit": "-1"},
                   {"q": "nps", "offset": "abc"}):
        s, body = h.get("/search", **params)
        t.check(s == 400 and "error" in body, "%s: 400 (got %d)" % (params, s))
    s, body = h.get("/search", q="nps", limit="1000")
    t.check(s in (200, 400), "limit over max is clamped or refused")
    if s == 200:
        t.check(len(body["hits"]) <= 100, "at most 100 hits")
    s, body = h.get("/search", q="cx_metrics_digest security script")
    s, body = h.get("/search", q="alert escape")
    t.check(s == 200 and any(x["id"] == "cx_metrics_digest/52"
                             for x in body["hits"]), "finds the <script> post")
    for x in body["hits"]:
        t.check("<script" not in x["snippet"] and "<img" not in x["snippet"],
                "snippet is HTML-escaped")


def test_round_trip(t, h):
    dump_a = h.cli("dump", "--db", h.db).stdout
    t.check(dump_a.count("\n") == 43, "dump writes 43 lines")
    db_b = os.path.join(h.tmp, "index-b")
    p = h.cli("index", "--db", db_b, "-", stdin=dump_a)
    t.check(p.returncode == 0, "index from stdin succeeds: " + p.stderr)
    dump_b = h.cli("dump", "--db", db_b).stdout
    t.check(dump_a == dump_b, "dump | index | dump is identical")
    again = h.cli("index", "--db", db_b, "-", stdin=dump_a)
    t.check("43 unchanged" in again.stderr,
            "re-import changes nothing: " + again.stderr.strip())


def main():
    t = Checks()
    with Harness() as h:
        p = h.index(SAMPLE)
        t.check(p.returncode == 0, "indexing the sample corpus: " + p.stderr)
        h.start_daemon()
        test_ranked_search(t, h)
        test_analysis_over_http(t, h)
        test_documents_and_health(t, h)
        test_errors(t, h)
        test_round_trip(t, h)
    t.done()


if __name__ == "__main__":
    main()
