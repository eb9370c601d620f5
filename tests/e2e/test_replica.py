"""Replicas and backups (issue 15, docs/scale-out.md), real processes on
loopback:

- A writer cxsearchd (with XAPIAN_MAX_CHANGESETS, so its commits leave
  changesets), xapian-replicate-server over its data folder,
  xapian-replicate keeping a replica, and a second cxsearchd reading the
  replica: the posts, new posts, updates and deletes written to the first
  are seen by the second, by polling with a deadline.
- `cxsearch backup --db DIR OUT` while the writer commits a batch every
  few tenths of a second: every copy opens, holds a whole number of batches (a revision,
  never half of one), and a daemon started on it answers with its posts.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxs_harness import SOURCE_DIR, Checks, Harness, free_port  # noqa: E402
from cxs_cluster import Server, need_tools  # noqa: E402

KEY = "replica-test-key"
AUTH = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
CONF = ("[search]\nreopen_interval_ms = 200\n[security]\nwrite_key = " + KEY +
        "\n[files]\naccess_log = off\n")


def post(pid, text):
    return {"id": pid, "title": "Replicated " + pid, "text": text,
            "channel": "replica_test", "date": "2026-02-03", "lang": "en"}


def wait_for(fn, secs=30):
    deadline = time.time() + secs
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return False


def found(h, q):
    s, b = h.get("/search", q=q)
    return s == 200 and b["total"] > 0


def check_replica(t, w, tmp):
    data = os.path.dirname(w.db)
    port = free_port()
    master = Server(["xapian-replicate-server", "--interface", "127.0.0.1",
                     "--port", str(port), data],
                    os.path.join(tmp, "repl-server.log"), port).start()
    replica = os.path.join(tmp, "replica")
    client = Server(["xapian-replicate", "-h", "127.0.0.1", "-p", str(port),
                     "-m", os.path.basename(w.db), "-i", "1", "-r", "1",
                     replica], os.path.join(tmp, "repl-client.log"), None)
    client.start()
    r = Harness()
    try:
        t.check(wait_for(lambda: os.path.exists(
            os.path.join(replica, "XAPIANDB")) or os.path.exists(
            os.path.join(replica, "iamglass"))), "the replica is made")
        r.start_daemon(CONF, dbs=[replica])
        n = w.get("/health")[1]["documents"]
        t.check(wait_for(lambda: r.get("/health")[1].get("documents") == n),
                "the replica's daemon has the %d posts" % n)
        for i in range(3):
            s, _, _ = w.request("POST", "/documents", headers=AUTH,
                                body=post("repl/%d" % i, "okapi%d tapir" % i))
            t.check(s == 200, "POST to the writer")
            t.check(wait_for(lambda: found(r, "okapi%d" % i)),
                    "post %d seen through the replica within seconds" % i)
        s, _, _ = w.request("PUT", "/documents/repl/0", headers=AUTH,
                            body=post("repl/0", "narwhal text"))
        t.check(s == 200 and wait_for(lambda: found(r, "narwhal") and
                                      not found(r, "okapi0")),
                "an update reaches the replica")
        s, _, _ = w.request("DELETE", "/documents/repl/1", headers={
            "Authorization": AUTH["Authorization"]})
        t.check(s == 200 and wait_for(lambda: not found(r, "okapi1")),
                "a delete reaches the replica")
        t.check(r.get("/health")[1]["documents"] ==
                w.get("/health")[1]["documents"], "same count both sides")
        r.stop_checked(t, "replica daemon")
    finally:
        r.stop_daemon()
        client.stop()
        master.stop()
        r.__exit__()


def writer_loop(w, stop, batch, done):
    """A commit every few tenths of a second: a busy API. (A writer that
    commits faster than a copy takes starves the copy: Xapian recycles the
    revision it reads; docs/scale-out.md says what to do then.)"""
    i = 0
    while not stop.wait(0.3):
        body = [post("bk/%d/%d" % (i, j), "ocelot batch%d" % i)
                for j in range(batch)]
        s, _, _ = w.request("POST", "/documents", headers=AUTH, body=body)
        if s == 200:
            done.append(i)
        i += 1


def check_backup(t, w, tmp):
    base = w.get("/health")[1]["documents"]
    batch, stop, done = 25, threading.Event(), []
    th = threading.Thread(target=writer_loop, args=(w, stop, batch, done))
    th.start()
    copies = []
    try:
        for k in range(4):
            out = os.path.join(tmp, "backup-%d" % k)
            p = w.cli("backup", "--db", w.db, out, check=False)
            t.check(p.returncode == 0, "backup %d during writes: %s" %
                    (k, p.stderr))
            copies.append(out)
            time.sleep(0.3)
    finally:
        stop.set()
        th.join()
    t.check(len(done) >= 4, "the writer committed during the backups (%d "
            "batches)" % len(done))
    counts = []
    for out in copies:
        p = w.cli("dump", "--db", out, check=False)
        ids = [json.loads(x)["id"] for x in p.stdout.splitlines() if x]
        bk = [i for i in ids if i.startswith("bk/")]
        counts.append(len(bk))
        t.check(p.returncode == 0 and len(bk) % batch == 0 and
                len(ids) - len(bk) == base,
                "%s holds whole batches (%d posts of the writes)" %
                (out, len(bk)))
    t.check(counts == sorted(counts), "later copies hold more: %s" % counts)
    t.check(w.cli("backup", "--db", w.db, copies[0],
                  check=False).returncode != 0, "an existing OUT is refused")
    restored = Harness()
    try:
        restored.start_daemon(CONF, dbs=[copies[-1]])
        s, h = restored.get("/health")
        t.check(s == 200 and h["documents"] == base + counts[-1],
                "a daemon on the copy serves its %d posts" %
                (base + counts[-1]))
        t.check(found(restored, "клиентский опыт"), "the copy answers")
        restored.stop_checked(t, "daemon on the backup")
    finally:
        restored.__exit__()


def main():
    need_tools("xapian-replicate", "xapian-replicate-server")
    t = Checks()
    with Harness() as w:
        w.index(os.path.join(SOURCE_DIR, "data/sample/posts.jsonl"))
        w.start_daemon(CONF, env={"XAPIAN_MAX_CHANGESETS": "100"})
        check_replica(t, w, w.tmp)
        check_backup(t, w, w.tmp)
        w.stop_checked(t, "writer daemon")
    t.done()


if __name__ == "__main__":
    main()
