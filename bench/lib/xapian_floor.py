#!/usr/bin/python3
"""xapian_floor.py - a floor for cxsearch's build: the same documents (terms,
wdf, positions, values, stored data) written into Xapian by a
minimal program, so the report shows how close `cxsearch index` comes to what
Xapian itself can do with what cxsearch asks it to store (issue 18).

    xapian_floor.py dump INDEX DUMPDIR SHARES
        notes which index to copy and into how many shares (DUMPDIR/plan),
        and counts terms and positions per document over the first SAMPLE
        documents (reading every position from Python takes minutes)
    xapian_floor.py write DUMPDIR OUTDB [--dry]
        one process per share, each copying its documents (docids dealt
        round-robin) from cxsearch's index into part databases of at most
        PART_POSTS documents with a commit every BATCH documents (cxsearch's
        shard layout and batch size), then the compactor merges all parts
        into OUTDB. Prints one JSON line: write_s
        (from every process having opened its share to the merged
        database), merge_s, docs, terms (all documents), positions (per
        document over the sample, times docs). --dry fetches the same
        documents (get_document, data, term count) and writes nothing: the
        share of the figure that is this program's own.

Facts that shaped it: no new C++ in the project (issue 18), so Python with
Debian's python3-xapian (/usr/bin/python3; a pyenv interpreter does not see
it). A document fetched from one database and added to another is copied
by Xapian in C++ (terms, wdf, positions, values, data), so the program
costs one Python call per document, not one per term; the copy includes
reading the terms back from cxsearch's index, so the floor is, if
anything, above what writing alone needs. A first version dumped every
document's terms and positions from Python before the clock started: on
the shared 2-core machine that took longer than the build it measured.
Documents are added with add_document: the minimum Xapian needs; cxsearch
replaces by id term (one posting-list lookup more per post) because an
import may hold an id twice.
"""
import json
import multiprocessing
import os
import shutil
import sys
import time

import xapian

PART_POSTS = 50000  # index/shards.c
BATCH = 2000        # index/index.c: cfg->batch_size
SAMPLE = 2000       # documents whose terms and positions are counted


def dump(index, outdir, shares):
    db = xapian.Database(index)
    os.makedirs(outdir, exist_ok=True)
    nterms = npos = n = 0
    for post in db.postlist(""):
        if n == SAMPLE:
            break
        for t in db.termlist(post.docid):
            nterms += 1
            npos += len(list(t.positer))
        n += 1
    plan = {"index": os.path.abspath(index), "shares": shares,
            "docs": db.get_doccount(), "sample_docs": n,
            "sample_terms": nterms, "sample_positions": npos}
    with open(os.path.join(outdir, "plan"), "w") as f:
        json.dump(plan, f)
    return plan["docs"]


def write_share(k, plan, outdb, dry, ready, go, results):
    """Share k (docids k+1, k+1+n, ...) into parts <outdb>.part-<k>-<i>;
    returns the part paths and counts through results."""
    src = xapian.Database(plan["index"])
    n = plan["shares"]
    last = src.get_lastdocid()
    parts, db, docs, terms = [], None, 0, 0
    ready.wait()
    go.wait()
    for docid in range(k + 1, last + 1, n):
        try:
            doc = src.get_document(docid)
        except xapian.DocNotFoundError:
            continue
        terms += doc.termlist_count()
        if dry:
            doc.get_data()
            docs += 1
            continue
        if db is None or docs % PART_POSTS == 0:
            if db is not None:
                db.commit()
                db.close()
            parts.append("%s.part-%d-%d" % (outdb, k, len(parts)))
            db = xapian.WritableDatabase(parts[-1],
                                         xapian.DB_CREATE_OR_OVERWRITE)
        db.add_document(doc)
        docs += 1
        if docs % BATCH == 0:
            db.commit()
    if db is not None:
        db.commit()
        db.close()
    results.put((parts, docs, terms))


def write(dumpdir, outdb, dry):
    with open(os.path.join(dumpdir, "plan")) as f:
        plan = json.load(f)
    n = plan["shares"]
    ready = multiprocessing.Barrier(n + 1)
    go = multiprocessing.Barrier(n + 1)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(
        target=write_share, args=(k, plan, outdb, dry, ready, go, results))
        for k in range(n)]
    for p in procs:
        p.start()
    ready.wait()
    t0 = time.monotonic()
    go.wait()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
    t1 = time.monotonic()
    parts = [path for r in out for path in r[0]]
    if parts:
        merged = xapian.Database()
        for path in parts:
            merged.add_database(xapian.Database(path))
        merged.compact(outdb)
    t2 = time.monotonic()
    for path in parts:
        shutil.rmtree(path, ignore_errors=True)
    docs = sum(r[1] for r in out)
    per_doc = plan["sample_positions"] / max(1, plan["sample_docs"])
    return {"write_s": t2 - t0, "merge_s": t2 - t1, "shares": n,
            "docs": docs, "terms": sum(r[2] for r in out),
            "positions": round(per_doc * docs),
            "positions_sample_docs": plan["sample_docs"], "dry": dry,
            "parts": parts}


def main(argv):
    if len(argv) == 4 and argv[0] == "dump":
        n = dump(argv[1], argv[2], int(argv[3]))
        print(json.dumps({"docs": n}))
        return 0
    if len(argv) in (3, 4) and argv[0] == "write":
        dry = argv[3:] == ["--dry"]
        if len(argv) == 4 and not dry:
            sys.exit(__doc__)
        print(json.dumps(write(argv[1], argv[2], dry)))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
