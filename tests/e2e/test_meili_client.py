#!/usr/bin/env python3
"""The Meilisearch drop-in (issue 17): the official JavaScript client, and
bad input in Meilisearch's error shape.

1. tests/meili-client/run.mjs runs the npm `meilisearch` client, pinned by
   tests/meili-client/package-lock.json and unmodified, against a real
   cxsearchd on a loopback port: health, getVersion, addDocuments +
   waitTask, getDocument, updateDocuments, getDocuments, deleteDocument,
   tasks, getKeys, search with a filter, tenant tokens (their filter
   enforced; expired, foreign, unknown-key, alg none tokens refused),
   settings, and that "клиентский опыт" finds "клиентского опыта".
2. Here, over plain HTTP: what the client cannot send (a 100 MB body, a
   broken CSV, NDJSON, bodies that are not JSON, a filter that does not
   parse, a key that is not one) answers {message, code, type, link} with
   Meilisearch's status, and what was stored is still there afterwards.
   cxsearch's own /health and /documents answers stay as they were.

Facts that shaped it:
- `npm ci` installs the lock file's packages into the build folder
  (CXS_BUILD_DIR/meili-client), as the browser tests do, reused while the
  lock file is unchanged. Without node and npm the test is skipped (77).
- The daemon gets a write key (the master key) and a read key (the search
  key), so that searches need a key or a tenant token, as on a wiki page.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import BUILD_DIR, SOURCE_DIR, Checks, Harness, npm_ci, skip  # noqa
from test_api import raw_exchange, status_of  # noqa

CLIENT_SRC = os.path.join(SOURCE_DIR, "tests", "meili-client")
WORK = os.path.join(BUILD_DIR, "meili-client")
MASTER = "cx-master-key-for-tests-0123456789"
SEARCH = "cx-search-key-for-tests-9876543210"

t = Checks()


def prepare():
    if not shutil.which("node") or not shutil.which("npm"):
        skip("node and npm are needed for the official Meilisearch client "
             "(scripts/install-deps --test installs them)")
    os.makedirs(WORK, exist_ok=True)
    for name in ("package.json", "package-lock.json", "run.mjs"):
        shutil.copy2(os.path.join(CLIENT_SRC, name), os.path.join(WORK, name))
    stamp = os.path.join(WORK, "node_modules", ".package-lock.json")
    lock = os.path.join(CLIENT_SRC, "package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    npm_ci(WORK)


def run_client(h):
    env = dict(os.environ, CXS_URL="http://127.0.0.1:%d" % h.port,
               CXS_MASTER=MASTER, CXS_SEARCH=SEARCH)
    p = subprocess.run(["node", "run.mjs"], cwd=WORK, env=env,
                       capture_output=True, text=True, timeout=600)
    print(p.stdout + p.stderr)
    lines = p.stdout.splitlines()
    oks = [l for l in lines if l.startswith("ok ")]
    fails = [l for l in lines if l.startswith("FAIL ")]
    t.check(p.returncode == 0 and not fails and len(oks) >= 40,
            "the official client: %d ok, %d failed, exit %d"
            % (len(oks), len(fails), p.returncode))
    for f in fails:
        t.check(False, "client: " + f)


def meili_error(r, status, code, what):
    s, body, _ = r
    ok = (s == status and isinstance(body, dict) and body.get("code") == code
          and body.get("message") and body.get("type") and
          body.get("link", "").endswith("#" + code))
    t.check(ok, "%s: want %d %s, got %d %s" % (what, status, code, s,
                                                str(body)[:300]))


def wait_task(h, uid):
    while True:
        s, task, _ = h.request("GET", "/tasks/%d" % uid,
                               headers={"Authorization": "Bearer " + MASTER})
        if s != 200 or task["status"] in ("succeeded", "failed"):
            return task
        time.sleep(0.05)


def write(h, method, path, body, ctype="application/json"):
    return h.request(method, path, body=body,
                     headers={"Authorization": "Bearer " + MASTER,
                              "Content-Type": ctype})


def everything(h):
    s, b, _ = h.request("POST", "/indexes/posts/documents/fetch",
                        body={"limit": 1000},
                        headers={"Authorization": "Bearer " + MASTER,
                                 "Content-Type": "application/json"})
    return b


def bad_input(h):
    docs = "/indexes/posts/documents"
    s, b, _ = write(h, "POST", docs, [
        {"id": "a-1", "content": "Первый документ про клиентский сервис"},
        {"id": "b_2", "content": "Secondo documento sul servizio"}])
    t.check(s == 202 and wait_task(h, b["taskUid"])["status"] == "succeeded",
            "seed documents: %d %s" % (s, b))
    before = everything(h)
    t.check(before.get("total") == 2, "two documents stored: %s" % before)

    # NDJSON and CSV are documents too.
    s, b, _ = write(h, "POST", docs, '{"id": "c3", "content": "riga uno"}\n'
                    '{"id": "d4", "content": "riga due"}\n',
                    "application/x-ndjson")
    task = wait_task(h, b["taskUid"])
    t.check(task["status"] == "succeeded" and
            task["details"]["indexedDocuments"] == 2, "NDJSON: %s" % task)
    s, b, _ = write(h, "POST", docs, 'id,content,price:number\n'
                    'e5,"una riga, con virgola e ""virgolette""",12.5\n',
                    "text/csv")
    task = wait_task(h, b["taskUid"])
    s2, doc, _ = h.request("GET", docs + "/e5",
                           headers={"Authorization": "Bearer " + MASTER})
    t.check(task["status"] == "succeeded" and doc == {
        "id": "e5", "content": 'una riga, con virgola e "virgolette"',
        "price": 12.5}, "CSV: %s %s" % (task, doc))
    s, b, _ = write(h, "POST", "/indexes/posts/documents/delete-batch",
                    ["c3", "d4", "e5"])
    wait_task(h, b["taskUid"])
    t.check(everything(h) == before, "deleted by ids")

    meili_error(write(h, "POST", docs, 'id,content\n"x1,"broken\n',
                      "text/csv"), 400, "malformed_payload",
                "a CSV with a broken quote")
    meili_error(write(h, "POST", docs, '[{"id": 1, "content": "x"'), 400,
                "malformed_payload", "truncated JSON")
    meili_error(write(h, "POST", docs, '{"id": 1}\nnot json\n',
                      "application/x-ndjson"), 400, "malformed_payload",
                "NDJSON with a bad line")
    meili_error(write(h, "POST", docs, "<doc/>", "application/xml"), 415,
                "invalid_content_type", "XML")
    meili_error(write(h, "POST", "/indexes/posts/documents/delete",
                      {"filter": "channel = = ("}), 400,
                "invalid_document_filter", "a delete filter that does not parse")
    meili_error(write(h, "POST", "/indexes/posts/search",
                      {"q": "", "filter": "lang IN [ru"}), 400,
                "invalid_search_filter", "a search filter that does not parse")
    meili_error(write(h, "POST", "/indexes/posts/documents/fetch",
                      {"filter": "price > "}), 400,
                "invalid_document_filter", "a fetch filter that does not parse")
    meili_error(write(h, "POST", "/indexes/nope/documents", [{"id": 1}]), 404,
                "index_not_found", "another index")
    meili_error(write(h, "PATCH", "/indexes/posts/settings",
                      {"rankingRules": ["typo"]}), 400,
                "invalid_settings_ranking_rules", "a setting cxsearch lacks")
    meili_error(h.request("GET", "/indexes/posts/documents",
                          headers={"Authorization": "Bearer not.a-jwt"}),
                403, "invalid_api_key", "a token that is not a JWT")
    meili_error(h.request("POST", "/indexes/posts/search", body={"q": ""},
                          headers={"Authorization": "Bearer a.b.c",
                                   "Content-Type": "application/json"}),
                403, "invalid_api_key", "a JWT-shaped token that is not one")
    meili_error(h.request("POST", "/indexes/posts/search", body={"q": ""},
                          headers={"Content-Type": "application/json"}),
                401, "missing_authorization_header", "no key")
    meili_error(h.request("GET", "/keys",
                          headers={"Authorization": "Bearer " + SEARCH}),
                403, "invalid_api_key", "the search key reading /keys")
    meili_error(h.request("GET", "/tasks/123456",
                          headers={"Authorization": "Bearer " + MASTER}),
                404, "task_not_found", "an unknown task")
    raw = raw_exchange(h.port, (
        "POST /indexes/posts/documents HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\n\r\n" % (MASTER, 100 << 20)).encode() + b"[")
    t.check(status_of(raw) == 413 and b'"payload_too_large"' in raw and
            b'"link"' in raw, "a 100 MB body: %r" % raw[:200])

    for name, body in (("no primary key", [{"content": "x"}]),
                       ("a key of the wrong type", [{"id": 1.5,
                                                     "content": "x"}]),
                       ("a key with a slash", [{"id": "a/b",
                                                "content": "x"}]),
                       ("nested object as text", [{"id": "z",
                                                   "text": {"a": 1}}]),
                       ("an array of numbers", [1, 2, 3])):
        s, b, _ = write(h, "POST", docs, body)
        task = wait_task(h, b["taskUid"]) if s == 202 else {}
        err = task.get("error") or {}
        t.check(task.get("status") == "failed" and err.get("code") and
                err.get("message") and err.get("link"),
                "%s fails its task: %s" % (name, task))
    t.check(everything(h) == before, "nothing stored is lost: %s"
            % everything(h))


def own_answers(h):
    """cxsearch's own endpoints answer as before beside Meilisearch's."""
    s, b, _ = h.request("GET", "/health")
    t.check(s == 200 and b.get("status") == "ok" and "documents" in b,
            "plain /health keeps cxsearch's answer: %s" % b)
    s, b, _ = h.request("GET", "/health",
                        headers={"X-Meilisearch-Client": "test"})
    t.check(b == {"status": "available"}, "a Meilisearch client's /health")
    s, b, _ = h.request("GET", "/stats",
                        headers={"Authorization": "Bearer " + SEARCH})
    t.check(s == 200 and "posts" in b and "indexes" in b, "/stats: both")
    # A post written through cxsearch's own API, read through Meilisearch's
    # (its id holds a '/', sent percent-encoded).
    s, b, _ = write(h, "POST", "/documents",
                    {"id": "notes/1", "channel": "notes",
                     "text": "Un post scritto con l'API di cxsearch"})
    t.check(s == 200, "native write: %d %s" % (s, b))
    s, b, _ = h.request("GET", "/indexes/posts/documents/notes%2F1",
                        headers={"Authorization": "Bearer " + SEARCH})
    t.check(s == 200 and b.get("id") == "notes/1" and "source" not in b and
            b.get("channel") == "notes", "a native post via Meilisearch: %s"
            % b)


def typo_settings(h, enabled, one, two):
    """typoTolerance says what forgiving search does (config [search])."""
    s, b, _ = h.request("GET", "/indexes/posts/settings/typo-tolerance",
                        headers={"Authorization": "Bearer " + MASTER})
    want = {"enabled": enabled,
            "minWordSizeForTypos": {"oneTypo": one, "twoTypos": two}}
    t.check(s == 200 and all(b.get(k) == v for k, v in want.items()),
            "typoTolerance follows the config %s: %d %s" % (want, s, b))


def main():
    prepare()
    conf = "write_key = %s\nread_key = %s\n" % (MASTER, SEARCH)
    with Harness() as h:
        h.start_daemon(conf)
        run_client(h)
        own_answers(h)
        typo_settings(h, True, 5, 9)
        h.stop_checked(t, "cxsearchd after the client")
    with Harness() as h:
        h.start_daemon(conf + "[search]\ntypos = off\ntypo_one_from = 6\n")
        typo_settings(h, False, 6, 9)
        h.stop_checked(t, "cxsearchd without typos")
    with Harness() as h:
        h.start_daemon(conf)
        bad_input(h)
        h.stop_checked(t, "cxsearchd")
    t.done()


if __name__ == "__main__":
    main()
