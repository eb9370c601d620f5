"""Importing real sources through the command line into a real index
(issue 4): the seed pages and the Telegram HTML export of ../shared, bad
files among good ones, idempotent re-import, dry runs. The importers' own
unit test (tests/unit/test_import.c) checks the splitting post by post;
this test checks what a user sees: counts, search, exit status, messages."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import SHARED_DIR, Checks, Harness, skip  # noqa: E402

SEEDS = os.path.join(SHARED_DIR, "seeds")
EXPORT = os.path.join(SHARED_DIR, "corpus", "telegram-html-export",
                      "golden-borodutch")


def dump(h, db=None):
    out = h.cli("dump", "--db", db or h.db).stdout
    return [json.loads(line) for line in out.splitlines()]


def search_total(h, query, db=None):
    p = h.cli("search", "--db", db or h.db, "--json", "--limit", "100", query)
    return json.loads(p.stdout)


def test_seeds(t, h):
    p = h.index(SEEDS)
    t.check(p.returncode == 0, "seeds index cleanly: " + p.stderr)
    posts = dump(h)
    t.check(len(posts) == 33, "the five seed pages give 33 posts (got %d)" %
            len(posts))
    ids = [x["id"] for x in posts]
    t.check(len(ids) == len(set(ids)), "no post indexed twice")
    texts = [x["text"] for x in posts]
    t.check(len(texts) == len(set(texts)), "no text stored twice")
    # Ads, recommended channels and page chrome are not findable.
    for junk in ("HAYZON", "mazzafam", "Tg_Syprion", "Architec.Ton"):
        r = search_total(h, junk)
        t.check(r["total"] == 0, "%r is not findable (got %d)" %
                (junk, r["total"]))
    channels = {x.get("channel") for x in posts}
    t.check("cxlogic" in channels, "channel of the cxlogic page detected")
    again = h.index(SEEDS)
    t.check("33 unchanged" in again.stderr and again.returncode == 0,
            "re-importing the seeds changes nothing: " + again.stderr.strip())
    t.check(len(dump(h)) == 33, "still 33 posts after re-import")


def test_export(t, h):
    db = os.path.join(h.tmp, "export")
    p = h.cli("index", "--db", db, "--channel", "golden_borodutch", EXPORT)
    t.check(p.returncode == 0, "the HTML export indexes cleanly: " + p.stderr)
    posts = dump(h, db)
    t.check(len(posts) == 4102, "4102 posts with text (got %d)" % len(posts))
    t.check(all(x["id"].startswith("golden_borodutch/") for x in posts),
            "ids carry the channel's username")
    t.check(all(x.get("date") for x in posts), "every post has a date")
    t.check(any(x.get("forwarded_from") for x in posts),
            "forwarded origins are kept")


def test_bad_files(t, h):
    folder = os.path.join(h.tmp, "mixed")
    os.makedirs(folder)
    with open(os.path.join(folder, "a-good.jsonl"), "w") as f:
        f.write(json.dumps({"id": "t/1", "channel": "t", "lang": "it",
                            "text": "La qualità del servizio conta."}) + "\n")
        f.write(json.dumps({"id": "t/2", "channel": "t", "lang": "en",
                            "text": "Closing the feedback loop."}) + "\n")
    with open(os.path.join(folder, "b-truncated.json"), "w") as f:
        f.write('{"name": "chat", "type": "public_channel", "messages": [{"id": 1,')
    with open(os.path.join(folder, "c-binary.txt"), "wb") as f:
        f.write(bytes(range(256)) * 64)
    with open(os.path.join(folder, "d-note.md"), "w") as f:
        f.write("# Nota\n\nUn'analisi del percorso del cliente.\n")
    db = os.path.join(h.tmp, "mixed-index")
    p = h.cli("index", "--db", db, folder, check=False)
    t.check(p.returncode == 3, "exit status 3 says files were skipped (got %d)"
            % p.returncode)
    t.check("b-truncated.json" in p.stderr, "the truncated file is named: " +
            p.stderr)
    t.check("c-binary.txt" in p.stderr, "the binary file is named")
    t.check(len(dump(h, db)) == 3, "the good posts are indexed")
    # A bad line inside a JSON Lines file names file and line.
    bad = os.path.join(h.tmp, "lines.jsonl")
    with open(bad, "w") as f:
        f.write('{"id": "u/1", "text": "uno"}\n{"id": "u/2", "text": \n'
                '{"id": "u/3", "text": "tre"}\n')
    p = h.cli("index", "--db", db, bad, check=False)
    t.check("lines.jsonl:2" in p.stderr, "bad line reported as file:line: " +
            p.stderr)
    t.check(len(dump(h, db)) == 5, "lines 1 and 3 indexed")


def test_dry_run(t, h):
    db = os.path.join(h.tmp, "never")
    p = h.cli("index", "--db", db, "--dry-run", os.path.join(SEEDS))
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    t.check(len(lines) == 33, "dry run prints the 33 posts")
    t.check(not os.path.exists(db), "dry run writes nothing")


def main():
    if not os.path.isdir(SEEDS) or not os.path.isdir(EXPORT):
        skip("../shared/seeds or ../shared/corpus is absent")
    t = Checks()
    with Harness() as h:
        test_seeds(t, h)
        test_export(t, h)
        test_bad_files(t, h)
        test_dry_run(t, h)
    t.done()


if __name__ == "__main__":
    main()
