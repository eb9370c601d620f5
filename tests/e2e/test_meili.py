#!/usr/bin/env python3
"""HTTP-level tests of cxsearchd's Meilisearch-compatible API (issue 6):
POST/GET /indexes/{uid}/search, POST /multi-search and
POST /indexes/{uid}/facet-search against a real daemon on the sample
posts (data/sample/posts.jsonl only, so that every count can be computed
here, independently, from that file).

Covers each request field, the filter grammar (strings, nested arrays,
errors), both pagination modes, the escaping rule (HTML tags -> escaped
_formatted, plain markers -> not), facetDistribution against counts from
the file, Meilisearch-shaped errors, the read key and CORS.
"""
import collections
import datetime
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import CXSEARCHD, SOURCE_DIR, Checks, Harness  # noqa: E402

POSTS_FILE = os.path.join(SOURCE_DIR, "data", "sample", "posts.jsonl")
XSS_ID = "cx_metrics_digest/52"
t = Checks()


def load_posts():
    with open(POSTS_FILE, encoding="utf-8") as f:
        posts = [json.loads(line) for line in f if line.strip()]
    for p in posts:
        d = datetime.datetime.fromisoformat(p["date"])
        p["utc"] = d.astimezone(datetime.timezone.utc)
        p["year"] = str(p["utc"].year)
    return posts


POSTS = load_posts()
ALL = len(POSTS)


def ids_where(pred):
    return {p["id"] for p in POSTS if pred(p)}


class Api:
    def __init__(self, h, uid="posts"):
        self.h = h
        self.uid = uid

    def search(self, body, headers=None, uid=None):
        hd = {"Content-Type": "application/json"}
        hd.update(headers or {})
        s, b, _ = self.h.request("POST", "/indexes/%s/search" % (uid or
                                                                 self.uid),
                                 body=body, headers=hd)
        return s, b

    def ids(self, body):
        body = dict(body)
        body.setdefault("limit", 1000)
        body.setdefault("attributesToRetrieve", ["id"])
        s, b = self.search(body)
        if s != 200:
            return ("status %d" % s, b)
        return {x["id"] for x in b["hits"]}

    def post(self, path, body, headers=None):
        hd = {"Content-Type": "application/json"}
        hd.update(headers or {})
        s, b, _ = self.h.request("POST", path, body=body, headers=hd)
        return s, b


def is_meili_error(b, code, status, s):
    return (s == status and isinstance(b, dict) and b.get("code") == code and
            isinstance(b.get("message"), str) and b["message"] and
            b.get("type") in ("invalid_request", "auth", "internal") and
            b.get("link", "").endswith(code))


# ---- sections ----

def test_basics(api):
    s, b = api.search({"q": "клиентский опыт"})
    t.check(s == 200, "search: 200 (%d %s)" % (s, b))
    t.check(all(k in b for k in ("hits", "query", "processingTimeMs",
                                 "offset", "limit", "estimatedTotalHits")),
            "search: the Meilisearch answer fields: %s" % sorted(b))
    t.check(b["query"] == "клиентский опыт" and b["offset"] == 0 and
            b["limit"] == 20 and isinstance(b["processingTimeMs"], int),
            "search: query echoed, offset 0, default limit 20")
    t.check(b["hits"] and b["hits"][0]["id"] == "cx_notes_ru/101",
            "search: nominative form ranks cx_notes_ru/101 first")
    t.check("_formatted" not in b["hits"][0] and
            "source" not in b["hits"][0],
            "search: no _formatted unless asked, no source path")
    for q in (None, ""):
        body = {} if q is None else {"q": q}
        s, b = api.search(dict(body, limit=100))
        t.check(s == 200 and b["estimatedTotalHits"] == ALL and
                len(b["hits"]) == ALL and b["query"] == "",
                "q %r: all %d posts (%s)" % (q, ALL,
                                             b.get("estimatedTotalHits")))
    s, b = api.search({})
    t.check(len(b["hits"]) == 20, "no limit: 20 hits")
    # Unknown fields (and Meilisearch's unsupported ones) are ignored.
    s, b = api.search({"q": "nps", "matchingStrategy": "all",
                       "showRankingScore": True, "whatever": [1, 2]})
    t.check(s == 200 and b["hits"], "unknown fields ignored (%d)" % s)
    # GET with query parameters answers the same.
    s, g = api.h.get("/indexes/posts/search", q="nps", limit="3",
                     attributesToRetrieve="id,title")
    s2, p = api.search({"q": "nps", "limit": 3,
                        "attributesToRetrieve": ["id", "title"]})
    t.check(s == 200 and g["hits"] == p["hits"] and g["limit"] == 3,
            "GET /indexes/posts/search = POST (%d)" % s)
    s, g = api.h.get("/indexes/posts/search", q="nps", filter="lang = it",
                     facets="lang", page="1", hitsPerPage="2")
    t.check(s == 200 and g["facetDistribution"] == {"lang": {"it": 1}} and
            g["totalHits"] == 1 and g["hitsPerPage"] == 2,
            "GET: filter, facets, page, hitsPerPage (%s)" % g)


def test_paging(api):
    first = [h["id"] for h in api.search({"limit": 10})[1]["hits"]]
    second = [h["id"] for h in api.search({"offset": 10, "limit": 10})[1]
              ["hits"]]
    both = [h["id"] for h in api.search({"limit": 20})[1]["hits"]]
    t.check(len(first) == 10 and len(second) == 10 and
            first + second == both, "offset/limit: pages are consecutive")
    s, b = api.search({"offset": ALL + 5})
    t.check(s == 200 and b["hits"] == [] and b["offset"] == ALL + 5,
            "offset past the end: no hits")
    s, b = api.search({"page": 1, "hitsPerPage": 7})
    t.check(s == 200 and b["totalHits"] == ALL and
            b["totalPages"] == math.ceil(ALL / 7) and b["page"] == 1 and
            b["hitsPerPage"] == 7 and len(b["hits"]) == 7 and
            "offset" not in b and "estimatedTotalHits" not in b,
            "page/hitsPerPage: totalHits, totalPages, no offset (%s)" %
            {k: v for k, v in b.items() if k != "hits"})
    pages, seen = math.ceil(ALL / 7), []
    for n in range(1, pages + 1):
        seen += [h["id"] for h in api.search({"page": n, "hitsPerPage": 7,
                                              "attributesToRetrieve": ["id"]}
                                             )[1]["hits"]]
    t.check(len(seen) == ALL and set(seen) == ids_where(lambda p: True),
            "pages 1..%d hold every post once" % pages)
    s, b = api.search({"page": 0, "hitsPerPage": 5})
    t.check(s == 200 and b["hits"] == [] and b["totalHits"] == ALL,
            "page 0: no hits, totals kept")
    s, b = api.search({"hitsPerPage": 0})
    t.check(s == 200 and b["hits"] == [] and b["totalPages"] == 0 and
            b["page"] == 1, "hitsPerPage 0: no hits, 0 pages")
    s, b = api.search({"q": "nps", "hitsPerPage": 2})
    want = len(api.ids({"q": "nps"}))
    t.check(b["totalHits"] == want and b["totalPages"] == math.ceil(want / 2),
            "nps: totalHits %d, totalPages" % want)


def test_limits(h):
    """max_limit clamps limit and hitsPerPage."""
    h.start_daemon("max_limit = 25\ndefault_limit = 10\naccess_log = off\n")
    api = Api(h)
    s, b = api.search({"limit": 1000})
    t.check(s == 200 and len(b["hits"]) == 25 and b["limit"] == 25,
            "limit over max_limit is clamped (%s)" % b.get("limit"))
    s, b = api.search({"hitsPerPage": 1000})
    t.check(len(b["hits"]) == 25 and b["totalPages"] == math.ceil(ALL / 25),
            "hitsPerPage over max_limit is clamped")
    h.stop_checked(t, "limits daemon")


FILTERS = [
    ("channel = cx_notes_ru", lambda p: p["channel"] == "cx_notes_ru"),
    ('"channel"="cx_notes_ru"', lambda p: p["channel"] == "cx_notes_ru"),
    ("channel = CX_Notes_RU", lambda p: p["channel"] == "cx_notes_ru"),
    ("channel='cx_notes_ru'", lambda p: p["channel"] == "cx_notes_ru"),
    ("lang != ru", lambda p: p["lang"] != "ru"),
    ("NOT lang = ru", lambda p: p["lang"] != "ru"),
    ("lang = ru OR lang = it AND channel = cx_italia_lab",
     lambda p: p["lang"] == "ru" or p["channel"] == "cx_italia_lab"),
    ("(lang = ru OR lang = it) AND NOT channel = klientskiy_put",
     lambda p: p["lang"] in ("ru", "it") and p["channel"] != "klientskiy_put"),
    ("channel IN [cx_notes_ru, 'cx_italia_lab']",
     lambda p: p["channel"] in ("cx_notes_ru", "cx_italia_lab")),
    ("channel NOT IN [cx_notes_ru, cx_italia_lab]",
     lambda p: p["channel"] not in ("cx_notes_ru", "cx_italia_lab")),
    ("tags = nps", lambda p: "nps" in p["tags"]),
    ("tag = nps AND lang = ru", lambda p: "nps" in p["tags"] and
     p["lang"] == "ru"),
    ('author = "Анна Крылова"', lambda p: p["author"] == "Анна Крылова"),
    ("author = 'giulia ferri'", lambda p: p["author"] == "Giulia Ferri"),
    ("id = 'cx_notes_ru/101'", lambda p: p["id"] == "cx_notes_ru/101"),
    ("date >= 2024", lambda p: p["utc"].year >= 2024),
    ("date > 2024", lambda p: p["utc"].year > 2024),
    ("date < 2022", lambda p: p["utc"].year < 2022),
    ("date <= 2022-06", lambda p: (p["utc"].year, p["utc"].month) <=
     (2022, 6)),
    ("date = 2023", lambda p: p["utc"].year == 2023),
    ("date != 2023", lambda p: p["utc"].year != 2023),
    ("date 2022 TO 2023", lambda p: 2022 <= p["utc"].year <= 2023),
    ("date 2023-03 TO 2023-06-30",
     lambda p: datetime.date(2023, 3, 1) <= p["utc"].date() <=
     datetime.date(2023, 6, 30)),
    ("year = 2021", lambda p: p["utc"].year == 2021),
    ("year 2021 TO 2022 AND lang = it",
     lambda p: 2021 <= p["utc"].year <= 2022 and p["lang"] == "it"),
    ("date >= 1700000000",
     lambda p: p["utc"].timestamp() >= 1700000000),
    ("date >= '2023-07-03T09:20:00Z'",
     lambda p: p["utc"] >= datetime.datetime(2023, 7, 3, 9, 20,
                                             tzinfo=datetime.timezone.utc)),
    ("  ", lambda p: True),
    ("lang = ru and not (channel = cx_notes_ru or date < 2022)",
     lambda p: p["lang"] == "ru" and not (p["channel"] == "cx_notes_ru" or
                                          p["utc"].year < 2022)),
]

ARRAY_FILTERS = [
    ([["lang = ru", "lang = it"], "date >= 2023"],
     lambda p: p["lang"] in ("ru", "it") and p["utc"].year >= 2023),
    (['"lang"="en"', ['"channel"="cx_metrics_digest"',
                      '"channel"="voice_of_customer"']],
     lambda p: p["lang"] == "en"),
    ([["channel = cx_notes_ru"], ["tags = nps", "tags = csi"]],
     lambda p: p["channel"] == "cx_notes_ru" and
     ("nps" in p["tags"] or "csi" in p["tags"])),
    ([], lambda p: True),
    ([[], ""], lambda p: True),
    (None, lambda p: True),
]

BAD_FILTERS = [
    ("channel = ", "a value"),
    ("foo = 1", "not filterable"),
    ("channel > x", "date and year only"),
    ("channel 1 TO 2", "date and year only"),
    ("date = notadate", "not a date"),
    ("year = 24", "not a year"),
    ("(lang = ru", "`)`"),
    ("lang = ru AND", "attribute"),
    ("lang = ru lang = it", "AND, OR"),
    ("lang ru", "operator"),
    ("channel EXISTS", "not supported"),
    ("channel IN [a, b", "`,` or `]`"),
    ("lang = 'ru", "malformed"),
    ("lang ! ru", "malformed"),
    (42, "a string or an array"),
    ([[["lang = ru"]]], "nested too deep"),
    ([5], "expected a string"),
    ("(" * 100 + "lang = ru" + ")" * 100, "nested more than"),
    (" OR ".join(["lang = ru"] * 1001), "more than 1000"),
]


def test_filters(api):
    for f, pred in FILTERS:
        got = api.ids({"filter": f})
        t.check(got == ids_where(pred), "filter %r: %s" % (
            f, got if not isinstance(got, set) else
            sorted(got ^ ids_where(pred))[:6]))
    for f, pred in ARRAY_FILTERS:
        got = api.ids({"filter": f})
        t.check(got == ids_where(pred), "filter %r: %s" % (
            f, got if not isinstance(got, set) else
            sorted(got ^ ids_where(pred))[:6]))
    got = api.ids({"q": "nps", "filter": "lang = ru"})
    t.check(got and got <= ids_where(lambda p: p["lang"] == "ru") and
            got < api.ids({"q": "nps"}), "filter narrows a query")
    for f, words in BAD_FILTERS:
        s, b = api.search({"filter": f})
        t.check(is_meili_error(b, "invalid_search_filter", 400, s) and
                words in b["message"],
                "bad filter %r: 400 invalid_search_filter mentioning %r "
                "(%d %s)" % (str(f)[:60], words, s,
                             b if isinstance(b, str) else
                             b.get("message", b)))


def expected_facets(posts):
    d = {"channel": collections.Counter(), "lang": collections.Counter(),
         "tags": collections.Counter(), "year": collections.Counter(),
         "author": collections.Counter()}
    for p in posts:
        d["channel"][p["channel"]] += 1
        d["lang"][p["lang"]] += 1
        d["author"][p["author"]] += 1
        d["year"][p["year"]] += 1
        for tag in set(p["tags"]):
            d["tags"][tag] += 1
    return {k: dict(v) for k, v in d.items()}


def test_facets(api):
    names = ["channel", "lang", "tags", "year", "author"]
    s, b = api.search({"limit": 0, "facets": names})
    want = expected_facets(POSTS)
    t.check(s == 200 and b["hits"] == [], "facets with limit 0: no hits")
    for n in names:
        t.check(b["facetDistribution"].get(n) == want[n],
                "facetDistribution[%s] = counts from posts.jsonl: %s" % (
                    n, {k: (b["facetDistribution"].get(n) or {}).get(k)
                        for k in want[n]
                        if (b["facetDistribution"].get(n) or {}).get(k) !=
                        want[n][k]}))
    years = [int(y) for y in want["year"]]
    t.check(b.get("facetStats") == {"year": {"min": min(years),
                                             "max": max(years)}},
            "facetStats: year min and max (%s)" % b.get("facetStats"))
    s, b = api.search({"q": "", "filter": "lang = it",
                       "facets": ["channel", "tags"]})
    it = expected_facets([p for p in POSTS if p["lang"] == "it"])
    t.check(b["facetDistribution"] == {"channel": it["channel"],
                                       "tags": it["tags"]},
            "facets follow the filter (lang = it)")
    s, b = api.search({"q": "nps", "facets": ["lang"]})
    nps = api.ids({"q": "nps"})
    by_lang = collections.Counter(p["lang"] for p in POSTS
                                  if p["id"] in nps)
    t.check(b["facetDistribution"] == {"lang": dict(by_lang)},
            "facets follow the query (nps: %s)" % b["facetDistribution"])
    s, b = api.search({"facets": ["*"], "limit": 0})
    t.check(sorted(b["facetDistribution"]) == sorted(names),
            "facets ['*']: every facet")
    s, b = api.search({"facets": ["channel", "colour"]})
    t.check(is_meili_error(b, "invalid_search_facets", 400, s),
            "unknown facet: 400 invalid_search_facets (%d)" % s)
    s, b = api.search({"facets": []})
    t.check(s == 200 and "facetDistribution" not in b,
            "facets []: no facetDistribution")


def test_retrieve(api):
    s, b = api.search({"q": "nps", "attributesToRetrieve": ["id", "title"]})
    t.check(s == 200 and all(set(h) == {"id", "title"} for h in b["hits"]),
            "attributesToRetrieve [id, title]")
    s, b = api.search({"q": "nps", "attributesToRetrieve": ["*"]})
    keys = {"id", "channel", "author", "date", "lang", "url", "title",
            "text", "tags"}
    t.check(all(set(h) == keys for h in b["hits"]),
            "attributesToRetrieve [*]: the post's fields (%s)" %
            sorted(set(b["hits"][0]) ^ keys))
    h = b["hits"][0]
    src = next(p for p in POSTS if p["id"] == h["id"])
    t.check(all(h[k] == src[k] for k in ("channel", "author", "date", "lang",
                                          "url", "text", "tags")),
            "hits carry the stored post unchanged")
    s, b = api.search({"q": "nps", "attributesToRetrieve": ["id", "nope"]})
    t.check(all(set(h) == {"id"} for h in b["hits"]),
            "unknown names in attributesToRetrieve are ignored")


def xss_hit(api, body):
    s, b = api.search(dict({"q": "alert", "attributesToRetrieve": ["*"]},
                           **body))
    hits = [h for h in b.get("hits", []) if h["id"] == XSS_ID]
    return hits[0] if hits else {}


def test_highlight_and_escaping(api):
    s, b = api.search({"q": "клиентский опыт",
                       "attributesToHighlight": ["title"]})
    f = b["hits"][0]["_formatted"]
    t.check("<em>клиентский</em>" in f["title"] and "<em>" not in f["text"],
            "attributesToHighlight [title]: <em> in the title only: %r" %
            f["title"])
    t.check(set(f) == set(b["hits"][0]) - {"_formatted"},
            "_formatted copies every retrieved field")
    s, b = api.search({"q": "опыт", "attributesToHighlight": ["*"],
                       "highlightPreTag": '<span class="hl">',
                       "highlightPostTag": "</span>"})
    f = b["hits"][0]["_formatted"]
    t.check('<span class="hl">опыт</span>' in f["title"] and
            '<span class="hl">' in f["text"],
            "custom highlight tags: %r" % f["title"])
    t.check(f["text"].count("<span") == f["text"].count("</span>"),
            "highlight tags are balanced")

    raw = "<script>alert(1)</script>"
    # HTML tags: everything in _formatted is escaped, tags are not.
    h = xss_hit(api, {"attributesToHighlight": ["*"],
                      "attributesToCrop": ["text:40"]})
    ft = h.get("_formatted", {}).get("text", "")
    t.check(raw in h.get("text", ""), "the raw hit keeps the post's text")
    t.check("&lt;script&gt;<em>alert</em>(1)&lt;/script&gt;" in ft and
            "<script" not in ft and "<img" not in ft and "&amp;lt;" not in ft,
            "HTML tags: _formatted text escaped once, <em> kept: %r" % ft)
    h = xss_hit(api, {"attributesToHighlight": ["*"]})
    ft = h.get("_formatted", {}).get("text", "")
    t.check("&lt;img src=x onerror=<em>alert</em>(1)&gt;" in ft and
            "<img" not in ft,
            "HTML tags, whole text: escaped: %r" % ft[-160:])
    # Plain markers (instant-meilisearch): nothing escaped.
    h = xss_hit(api, {"attributesToHighlight": ["*"],
                      "attributesToCrop": ["text:40"],
                      "highlightPreTag": "__ais-highlight__",
                      "highlightPostTag": "__/ais-highlight__"})
    ft = h.get("_formatted", {}).get("text", "")
    t.check("<script>__ais-highlight__alert__/ais-highlight__(1)</script>"
            in ft and "&lt;" not in ft,
            "plain markers: _formatted not escaped: %r" % ft)
    # No highlight asked: a crop has no tags at all, still escaped.
    h = xss_hit(api, {"attributesToCrop": ["text:40"]})
    ft = h.get("_formatted", {}).get("text", "")
    t.check("&lt;script&gt;alert(1)" in ft and "<em>" not in ft,
            "crop without highlight: no tags, escaped: %r" % ft)
    s, b = api.search({"q": "alert", "highlightPreTag": "<<<" * 100,
                       "attributesToHighlight": ["*"]})
    t.check(is_meili_error(b, "invalid_search_highlight_pre_tag", 400, s),
            "highlightPreTag over 256 bytes: 400 (%d)" % s)


def words(s):
    return [w for w in s.replace("…", " ").split() if w]


def test_crop(api):
    s, b = api.search({"q": "опыт", "attributesToCrop": ["text"],
                       "cropLength": 5, "cropMarker": "[…]",
                       "attributesToRetrieve": ["id", "text"]})
    crops = [h["_formatted"]["text"] for h in b["hits"]]
    t.check(s == 200 and all(len(words(c.replace("[…]", " "))) <= 5
                             for c in crops),
            "cropLength 5: at most 5 words: %r" % crops[:2])
    t.check(any(c.endswith("[…]") or c.startswith("[…]") for c in crops) and
            not any("…" in c.replace("[…]", "") for c in crops),
            "cropMarker replaces the default marker: %r" % crops[:2])
    s, b = api.search({"q": "опыт", "attributesToCrop": ["text:3"],
                       "cropLength": 20,
                       "attributesToRetrieve": ["id", "text"]})
    t.check(all(len(words(h["_formatted"]["text"])) <= 3 for h in b["hits"]),
            "attributesToCrop text:3 overrides cropLength")
    s, b = api.search({"q": "опыт", "attributesToCrop": ["text:x"]})
    t.check(is_meili_error(b, "invalid_search_attributes_to_crop", 400, s),
            "attributesToCrop text:x: 400 (%d)" % s)
    s, b = api.search({"q": "опыт", "attributesToCrop": ["title"],
                       "attributesToRetrieve": ["id", "title", "text"]})
    h = b["hits"][0]
    t.check(h["_formatted"]["title"] == h["title"],
            "titles are not cropped")


def test_sort(api):
    def dates(order):
        s, b = api.search({"sort": ["date:" + order], "limit": 100,
                           "attributesToRetrieve": ["id"]})
        by_id = {p["id"]: p["utc"] for p in POSTS}
        return s, [by_id[h["id"]] for h in b["hits"]]
    s, d = dates("desc")
    t.check(s == 200 and len(d) == ALL and d == sorted(d, reverse=True),
            "sort date:desc")
    s, d = dates("asc")
    t.check(d == sorted(d), "sort date:asc")
    for bad_sort in (["title:asc"], ["date"], ["date:desc", "id:asc"], "x"):
        s, b = api.search({"sort": bad_sort})
        t.check(is_meili_error(b, "invalid_search_sort", 400, s),
                "sort %r: 400 invalid_search_sort (%d)" % (bad_sort, s))


def test_matches_position(api):
    for crop in ([], ["text:10"]):
        h = xss_hit(api, {"showMatchesPosition": True,
                          "attributesToCrop": crop})
        mp = h.get("_matchesPosition", {})
        raw = h.get("text", "").encode("utf-8")
        spans = [raw[m["start"]:m["start"] + m["length"]]
                 for m in mp.get("text", [])]
        t.check(len(spans) == 2 and all(x == b"alert" for x in spans),
                "showMatchesPosition (crop %s): byte spans of alert: %r" %
                (crop, spans))
    s, b = api.search({"q": "клиентский опыт", "showMatchesPosition": True,
                       "limit": 1})
    h = b["hits"][0]
    title = h["title"].encode("utf-8")
    spans = [title[m["start"]:m["start"] + m["length"]].decode("utf-8")
             for m in h["_matchesPosition"].get("title", [])]
    t.check(spans == ["клиентский", "опыт"],
            "showMatchesPosition in a Cyrillic title: %r" % spans)
    s, b = api.search({"q": "nps"})
    t.check("_matchesPosition" not in b["hits"][0],
            "no _matchesPosition unless asked")


def test_bad_fields(api):
    cases = [({"q": 5}, "invalid_search_q"),
             ({"q": "x" * 5000}, "invalid_search_q"),
             ({"limit": "x"}, "invalid_search_limit"),
             ({"limit": -1}, "invalid_search_limit"),
             ({"offset": -1}, "invalid_search_offset"),
             ({"offset": 1.5}, "invalid_search_offset"),
             ({"page": "2"}, "invalid_search_page"),
             ({"hitsPerPage": True}, "invalid_search_hits_per_page"),
             ({"cropLength": -3}, "invalid_search_crop_length"),
             ({"attributesToRetrieve": "id"},
              "invalid_search_attributes_to_retrieve"),
             ({"attributesToHighlight": [1]},
              "invalid_search_attributes_to_highlight"),
             ({"facets": "lang"}, "invalid_search_facets"),
             ({"showMatchesPosition": "yes"},
              "invalid_search_show_matches_position"),
             ({"cropMarker": 7}, "invalid_search_crop_marker")]
    for body, code in cases:
        s, b = api.search(body)
        t.check(is_meili_error(b, code, 400, s),
                "%s: 400 %s (%d %s)" % (str(body)[:50], code, s,
                                         b.get("code") if isinstance(b, dict)
                                         else b))
    s, b = api.search("{not json")
    t.check(is_meili_error(b, "malformed_payload", 400, s),
            "invalid JSON: 400 malformed_payload")
    s, b = api.search([1, 2])
    t.check(is_meili_error(b, "bad_request", 400, s), "a JSON array: 400")
    s, b = api.search({}, uid="nope")
    t.check(is_meili_error(b, "index_not_found", 404, s) and
            "nope" in b["message"], "unknown index uid: 404 index_not_found")
    s, b, _ = api.h.request("POST", "/indexes/posts/search", body="{}",
                            headers={"Content-Type": "text/plain"})
    t.check(is_meili_error(b, "invalid_content_type", 415, s),
            "Content-Type text/plain: 415 invalid_content_type (%d %s)" %
            (s, b))
    s, b, _ = api.h.request("DELETE", "/indexes/posts/search")
    t.check(s == 405 and isinstance(b, dict) and "type" in b,
            "DELETE: 405 in Meilisearch's shape (%d)" % s)


def test_multi_search(api):
    s, b = api.post("/multi-search", {"queries": [
        {"indexUid": "posts", "q": "nps", "limit": 2},
        {"indexUid": "posts", "q": "", "filter": "lang = it", "limit": 0,
         "facets": ["channel"], "page": 1},
    ]})
    r = b.get("results", []) if isinstance(b, dict) else []
    t.check(s == 200 and len(r) == 2 and
            all(x.get("indexUid") == "posts" for x in r),
            "multi-search: one result per query with indexUid (%d)" % s)
    one = api.search({"q": "nps", "limit": 2})[1]
    t.check(len(r) == 2 and r[0]["hits"] == one["hits"] and
            r[0]["estimatedTotalHits"] == one["estimatedTotalHits"],
            "multi-search result = the single search")
    it = expected_facets([p for p in POSTS if p["lang"] == "it"])
    t.check(len(r) == 2 and r[1]["facetDistribution"] ==
            {"channel": it["channel"]} and
            r[1]["totalHits"] == len(ids_where(lambda p: p["lang"] == "it")),
            "multi-search: filter, facets, paging per query")
    s, b = api.post("/multi-search", {"queries": []})
    t.check(s == 200 and b == {"results": []}, "multi-search: no queries")
    s, b = api.post("/multi-search", {"queries": [
        {"indexUid": "posts"}, {"indexUid": "posts", "filter": "x = 1"}]})
    t.check(is_meili_error(b, "invalid_search_filter", 400, s) and
            b["message"].startswith("Inside `.queries[1]`:"),
            "multi-search: the failing query is named (%s)" % b)
    s, b = api.post("/multi-search", {"queries": [{"indexUid": "other"}]})
    t.check(is_meili_error(b, "index_not_found", 404, s),
            "multi-search: unknown uid: 404")
    s, b = api.post("/multi-search", {"queries": [{"q": "nps"}]})
    t.check(is_meili_error(b, "missing_index_uid", 400, s),
            "multi-search: missing indexUid: 400")
    s, b = api.post("/multi-search", {"q": "nps"})
    t.check(is_meili_error(b, "bad_request", 400, s),
            "multi-search without queries: 400")


def test_facet_search(api):
    s, b = api.post("/indexes/posts/facet-search",
                    {"facetName": "channel", "facetQuery": "cx"})
    want = {c: n for c, n in expected_facets(POSTS)["channel"].items()
            if c.startswith("cx")}
    got = {x["value"]: x["count"] for x in b.get("facetHits", [])}
    t.check(s == 200 and got == want and b.get("facetQuery") == "cx" and
            isinstance(b.get("processingTimeMs"), int),
            "facet-search channel 'cx': %s" % got)
    s, b = api.post("/indexes/posts/facet-search",
                    {"facetName": "channel", "facetQuery": "Clienti",
                     "filter": "lang = it"})
    got = {x["value"]: x["count"] for x in b.get("facetHits", [])}
    t.check(got == {"servizio_clienti_it": 7},
            "facet-search matches a later word, case-folded: %s" % got)
    s, b = api.post("/indexes/posts/facet-search",
                    {"facetName": "channel", "q": "nps", "filter": "lang = ru"})
    nps_ru = [p for p in POSTS if p["id"] in api.ids(
        {"q": "nps", "filter": "lang = ru"})]
    got = {x["value"]: x["count"] for x in b.get("facetHits", [])}
    t.check(got == expected_facets(nps_ru)["channel"] and
            b.get("facetQuery") is None,
            "facet-search within q and filter, no facetQuery: %s" % got)
    s, b = api.post("/indexes/posts/facet-search", {"facetQuery": "cx"})
    t.check(is_meili_error(b, "missing_facet_search_facet_name", 400, s),
            "facet-search without facetName: 400")
    s, b = api.post("/indexes/posts/facet-search", {"facetName": "colour"})
    t.check(is_meili_error(b, "invalid_facet_search_facet_name", 400, s),
            "facet-search unknown facet: 400")
    s, b = api.post("/indexes/other/facet-search", {"facetName": "lang"})
    t.check(is_meili_error(b, "index_not_found", 404, s),
            "facet-search unknown uid: 404")


def test_cors(api):
    origin = "http://127.0.0.1:9"
    s, b, hd = api.h.request("OPTIONS", "/multi-search", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers":
            "authorization,content-type,x-meilisearch-client"})
    allow = (hd.get("Access-Control-Allow-Headers") or "").lower()
    t.check(s == 204 and hd.get("Access-Control-Allow-Origin") == origin and
            all(x in allow for x in ("authorization", "content-type",
                                     "x-meilisearch-client")),
            "preflight allows the Meilisearch clients' headers (%d %s)" %
            (s, allow))
    s, b, hd = api.h.request("POST", "/indexes/posts/search", body={},
                             headers={"Content-Type": "application/json",
                                      "Origin": origin,
                                      "X-Meilisearch-Client": "test"})
    t.check(s == 200 and hd.get("Access-Control-Allow-Origin") == origin,
            "search from an allowed origin carries CORS headers")


def test_keys_and_uid(h):
    key = "read-key-123"
    h.start_daemon("read_key = %s\nmeili_index_uid = cx-posts\n"
                   "access_log = off\n" % key)
    api = Api(h, "cx-posts")
    s, b = api.search({"q": "nps"})
    t.check(is_meili_error(b, "missing_authorization_header", 401, s) and
            b["type"] == "auth", "read key: none given: 401 (%d %s)" % (s, b))
    s, b = api.search({"q": "nps"}, {"Authorization": "Bearer wrong-key"})
    t.check(is_meili_error(b, "invalid_api_key", 403, s),
            "read key: a wrong one: 403")
    s, b = api.search({"q": "nps"}, {"Authorization": "Bearer " + key})
    t.check(s == 200 and b["hits"], "read key: Bearer KEY: 200")
    s, b = api.search({}, {"Authorization": "Bearer " + key}, uid="posts")
    t.check(is_meili_error(b, "index_not_found", 404, s),
            "meili_index_uid renames the index: posts is 404")
    h.stop_checked(t, "read-key daemon")


def test_bad_uid_config(h):
    conf = h.write_config("meili_index_uid = a/b\n")
    r = subprocess.run([CXSEARCHD, "--config", conf, "--db", h.db,
                        "--listen", "127.0.0.1:0"], capture_output=True,
                       text=True, timeout=30)
    t.check(r.returncode != 0 and "meili_index_uid" in r.stderr,
            "a bad meili_index_uid stops the daemon: %r" % r.stderr[-200:])




def main():
    with Harness() as h:
        h.index(POSTS_FILE)
        h.start_daemon("cors_origins = http://127.0.0.1:9\n"
                       "access_log = off\n")
        api = Api(h)
        for fn in (test_basics, test_paging, test_filters, test_facets,
                   test_retrieve, test_highlight_and_escaping, test_crop,
                   test_sort, test_matches_position, test_bad_fields,
                   test_multi_search, test_facet_search, test_cors):
            try:
                fn(api)
            except Exception as e:  # noqa: BLE001
                t.check(False, "%s raised %r" % (fn.__name__, e))
        h.stop_checked(t, "main daemon")
        for fn in (test_limits, test_keys_and_uid, test_bad_uid_config):
            try:
                fn(h)
            except Exception as e:  # noqa: BLE001
                t.check(False, "%s raised %r" % (fn.__name__, e))
            h.stop_daemon()
    t.done()


if __name__ == "__main__":
    main()
