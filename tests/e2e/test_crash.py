"""Crash safety (issue 8): `cxsearch index` killed with SIGKILL at random
moments of a large import leaves an index that opens and holds exactly the
posts of the last committed batch; a re-run completes the import; and
cxsearchd keeps answering from the last committed revision during an import
and picks up the new one after it.

The corpus is generated (cxs_synth.py: deterministic, written for these
tests). The
writer commits every --batch changed posts in file order, so after a kill
the index must hold exactly the first k*BATCH posts of the file (or all of
them), each equal to its source.

Scale: CI runs 3000 posts and 8 kills (1500 and 5 in a sanitizer build);
CXS_CRASH_POSTS, CXS_CRASH_KILLS, CXS_CRASH_BATCH (150) and CXS_CRASH_SEED
change them. The full run of the issue (about 10 minutes on 2 cores):
    CXS_BUILD_DIR=build CXS_CRASH_POSTS=30000 CXS_CRASH_KILLS=20 \
        python3 tests/e2e/test_crash.py
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import BUILD_DIR, CXSEARCH, Checks, Harness  # noqa: E402
from cxs_synth import make_posts  # noqa: E402



def sanitized_build():
    """True in a -DCXS_SANITIZE=ON build folder (3x slower: less work)."""
    cache = os.path.join(BUILD_DIR, "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8", errors="replace") as f:
            return "CXS_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


SLOW = sanitized_build()
POSTS = int(os.environ.get("CXS_CRASH_POSTS", "1500" if SLOW else "3000"))
KILLS = int(os.environ.get("CXS_CRASH_KILLS", "5" if SLOW else "8"))
BATCH = int(os.environ.get("CXS_CRASH_BATCH", "150"))
SEED = int(os.environ.get("CXS_CRASH_SEED", str(int(time.time()))))

def start_import(db, path):
    return subprocess.Popen([CXSEARCH, "index", "--db", db, "--batch",
                             str(BATCH), "--quiet", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def stats_posts(h, db):
    p = h.cli("stats", "--db", db, check=False)
    if p.returncode != 0:
        return None, p.stderr
    for line in p.stdout.splitlines():
        if line.startswith("posts:"):
            return int(line.split()[1]), ""
    return None, p.stdout


FIELDS = ("id", "channel", "lang", "date", "text", "tags")


def check_index(t, h, db, posts, what):
    """The index opens and holds exactly the first N posts, N a multiple of
    BATCH or all; each equal to its source. Returns N (or -1)."""
    if not os.path.exists(db):
        # Killed before the writer created the folder: nothing committed,
        # nothing to open; the re-run creates it.
        return 0
    n, msg = stats_posts(h, db)
    if not t.check(n is not None, "%s: the index opens (%s)" % (what, msg)):
        return -1
    t.check(n % BATCH == 0 or n == len(posts),
            "%s: %d posts is a committed batch boundary (batch %d)" %
            (what, n, BATCH))
    d = h.cli("dump", "--db", db, check=False)
    if not t.check(d.returncode == 0, "%s: dump works: %s" % (what, d.stderr)):
        return -1
    lines = d.stdout.splitlines()
    t.check(len(lines) == n, "%s: dump has %d posts, stats says %d" %
            (what, len(lines), n))
    by_id = {p["id"]: p for p in posts}
    got = set()
    bad = []
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            bad.append(line[:80])
            continue
        got.add(doc.get("id"))
        src = by_id.get(doc.get("id"))
        if src is None or any(doc.get(f) != src[f] for f in FIELDS):
            bad.append(doc.get("id"))
    t.check(not bad, "%s: every dumped post is intact and equals its source "
            "(bad: %s)" % (what, bad[:5]))
    want = {p["id"] for p in posts[:n]}
    t.check(got == want, "%s: the posts are exactly the first %d of the "
            "source (%d missing, %d extra)" %
            (what, n, len(want - got), len(got - want)))
    return n


def seed(h, db, posts):
    """The first batch, imported whole: the rounds then write into an index
    that is not empty, through the one writer that commits every batch (a
    first import into an empty index is built in shards and committed
    once, at the end; tests/e2e/test_bulk_build.py kills those)."""
    head = os.path.join(h.tmp, "head.jsonl")
    with open(head, "w", encoding="utf-8") as f:
        for p in posts[:BATCH]:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    h.cli("index", "--db", db, "--batch", str(BATCH), "--quiet", head)


def kill_rounds(t, h, src, posts, full_secs):
    """SIGKILL at random moments; the index is kept between rounds, so
    most rounds kill a re-run that resumes a killed import."""
    rng = random.Random(SEED)
    db = os.path.join(h.tmp, "killed")
    kills = rounds = 0
    counts = []
    while kills < KILLS and rounds < 4 * KILLS:
        rounds += 1
        if not os.path.exists(db):
            seed(h, db, posts)
        proc = start_import(db, src)
        time.sleep(rng.uniform(0.0, full_secs))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            counts.append(check_index(t, h, db, posts, "kill %d" % kills))
        else:
            err = proc.stderr.read()
            proc.wait()
            t.check(proc.returncode == 0, "an unkilled import succeeds: " +
                    err)
            n = check_index(t, h, db, posts, "round %d (finished)" % rounds)
            t.check(n == len(posts), "a finished import holds all posts")
            subprocess.run(["rm", "-rf", db], check=True)  # start over
        if proc.stderr:
            proc.stderr.close()
    print("kills: %d in %d rounds (seed %d); posts after each kill: %s" %
          (kills, rounds, SEED, counts))
    t.check(kills >= min(KILLS, 3), "at least %d kills landed (%d)" %
            (min(KILLS, 3), kills))
    # A re-run completes the import.
    p = h.cli("index", "--db", db, "--batch", str(BATCH), "--quiet", src,
              check=False)
    t.check(p.returncode == 0, "the re-run succeeds: " + p.stderr)
    n = check_index(t, h, db, posts, "after the re-run")
    t.check(n == len(posts), "the re-run completes the import (%d of %d)" %
            (n, len(posts)))


def daemon_during_import(t, h, src, posts):
    """cxsearchd reads the index `cxsearch index` writes: /health never
    fails, its count never goes down and is always a committed batch; the
    final count is seen after the import. Returns the import's duration."""
    h.start_daemon("[search]\nreopen_interval_ms = 100\n"
                   "[files]\naccess_log = off\n")
    proc = start_import(h.db, src)
    t0 = time.time()
    seen, errors, searches_ok, searches = [], [], 0, 0
    while proc.poll() is None:
        try:
            s, body = h.get("/health")
            if s != 200 or not isinstance(body, dict):
                errors.append(s)
            else:
                seen.append(body.get("documents"))
            s, _ = h.get("/search", q="customer", limit=3)
            searches += 1
            searches_ok += s == 200
        except OSError as e:
            errors.append(str(e))
        time.sleep(0.02)
    full_secs = time.time() - t0
    err = proc.stderr.read()
    proc.stderr.close()
    t.check(proc.returncode == 0, "the import next to the daemon succeeds: " +
            err)
    t.check(not errors, "/health never failed during the import (%s)" %
            errors[:5])
    t.check(searches_ok == searches, "searches during the import: %d of %d "
            "answered 200" % (searches_ok, searches))
    t.check(seen == sorted(seen), "the document count never went down: %s" %
            [(a, b) for a, b in zip(seen, seen[1:]) if b < a][:5])
    odd = [n for n in seen if n % BATCH and n != len(posts)]
    t.check(not odd, "the daemon only ever saw committed batches (%s)" %
            odd[:5])
    deadline = time.time() + 10
    final = None
    while time.time() < deadline:
        final = h.get("/health")[1].get("documents")
        if final == len(posts):
            break
        time.sleep(0.1)
    t.check(final == len(posts), "the daemon picks up the final revision "
            "(%s of %d)" % (final, len(posts)))
    s, body = h.get("/documents/crash/%d" % (len(posts) - 1))
    t.check(s == 200 and body.get("text") == posts[-1]["text"],
            "the last post is served after the import")
    print("import of %d posts next to the daemon: %.1f s; %d /health polls, "
          "counts %s..%s" % (len(posts), full_secs, len(seen),
                              seen[0] if seen else "-",
                              seen[-1] if seen else "-"))
    h.stop_daemon()
    return full_secs


def main():
    t = Checks()
    posts = make_posts(POSTS)
    with Harness() as h:
        src = os.path.join(h.tmp, "posts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for p in posts:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        full_secs = daemon_during_import(t, h, src, posts)
        kill_rounds(t, h, src, posts, full_secs)
    t.done()


if __name__ == "__main__":
    main()
