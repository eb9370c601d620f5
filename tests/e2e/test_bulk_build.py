"""A new index built in shards (index/shards.c, issue 7) holds exactly what
a one-writer import holds: the same posts, the same answers. Its shard
folders are gone afterwards, and those of a killed build are removed by
the next one. Later imports into the same index go through the one writer
(the index is no longer empty) and update posts as usual."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import CXSEARCH, SOURCE_DIR, Checks, Harness  # noqa: E402

SAMPLE = os.path.join(SOURCE_DIR, "data", "sample")
QUERIES = ["клиентский опыт", "NPS", "CX", "customer journey", "perché",
           "\"карта пути клиента\"", "опрос*", "esperienza cliente"]


def dump(h, db):
    return [json.loads(x) for x in h.cli("dump", "--db", db).stdout.splitlines()]


def answers(h, db, q):
    p = h.cli("search", "--db", db, "--json", "--limit", "100", q)
    return sorted(x["id"] for x in json.loads(p.stdout)["hits"])


def leftovers(db):
    return glob.glob(db + ".build-*")


def test_same_as_one_writer(t, h):
    one = os.path.join(h.tmp, "one")
    many = os.path.join(h.tmp, "many")
    h.cli("index", "--db", one, "--jobs", "1", "--quiet", SAMPLE)
    p = h.cli("index", "--db", many, "--jobs", "3", SAMPLE)
    t.check("added" in p.stderr + p.stdout, "the summary counts the posts")
    a, b = dump(h, one), dump(h, many)
    t.check(len(a) >= 40 and a == b,
            "three shards merged hold the posts one writer holds (%d, %d)"
            % (len(a), len(b)))
    for q in QUERIES:
        x, y = answers(h, one, q), answers(h, many, q)
        t.check(x and x == y, "%r: same posts found (%d, %d)" % (q, len(x), len(y)))
    t.check(not leftovers(many), "no shard folders left: %s" % leftovers(many))
    # The index is not empty now: a re-import goes through the one writer
    # and changes nothing.
    p = h.cli("index", "--db", many, SAMPLE)
    t.check("(0 added, 0 updated" in p.stderr,
            "a re-import adds and updates nothing: " + p.stderr.strip())
    t.check(dump(h, many) == b, "the re-import left the posts as they were")


def test_killed_build(t, h):
    """Kill a shard build while it runs: the index opens empty, and the
    next build removes the dead process's shard folders."""
    db = os.path.join(h.tmp, "killed")
    big = os.path.join(h.tmp, "big.jsonl")
    posts = [json.loads(x) for x in
             open(os.path.join(SAMPLE, "posts.jsonl"), encoding="utf-8")]
    with open(big, "w", encoding="utf-8") as f:
        for i in range(150):
            for p in posts:
                q = dict(p, id="%s-%d" % (p["id"], i))
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
    proc = subprocess.Popen([CXSEARCH, "index", "--db", db, "--jobs", "2",
                             "--quiet", big], stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not leftovers(db) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    was_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not was_running:
        print("the build finished before it could be killed; nothing to check")
        return
    t.check(leftovers(db), "a killed build leaves its shard folders")
    p = h.cli("stats", "--db", db, check=False)
    t.check(p.returncode == 0 and "posts: 0" in p.stdout,
            "the killed first import leaves the index empty and readable: "
            + p.stdout + p.stderr)
    h.cli("index", "--db", db, "--quiet", os.path.join(SAMPLE, "posts.jsonl"))
    t.check(not leftovers(db), "the next build removed them: %s" % leftovers(db))
    t.check(len(dump(h, db)) == len(posts), "and completed the import")


def main():
    t = Checks()
    with Harness() as h:
        test_same_as_one_writer(t, h)
        test_killed_build(t, h)
    t.done()


if __name__ == "__main__":
    main()
