#!/usr/bin/python3
"""xapian_floor.py - a floor for cxsearch's build: the same documents (terms,
wdf, positions, values, stored data, spelling words) written into Xapian by a
minimal program, so the report shows how close `cxsearch index` comes to what
Xapian itself can do with what cxsearch asks it to store (issue 18).

    xapian_floor.py dump INDEX DUMPDIR SHARDS
        reads the index cxsearch built and writes DUMPDIR/share-<k>.marshal,
        documents dealt to SHARDS shares round-robin, one marshal record per
        document, and DUMPDIR/spelling.marshal
    xapian_floor.py write DUMPDIR OUTDB [--dry]
        one process per share, each writing its documents into part databases
        of at most PART_POSTS documents with a commit every BATCH documents
        (cxsearch's shard layout and batch size), then xapian-compact's
        library call merges all parts into OUTDB. Prints one JSON line:
        write_s (from every process having opened its share to the merged
        database), merge_s, docs, terms, positions. --dry builds the same
        Xapian documents and writes nothing: the share of the figure that is
        this program's own (Python) overhead.

Facts that shaped it: no new C++ in the project (issue 18), so Python with
Debian's python3-xapian (/usr/bin/python3; a pyenv interpreter does not see
it). The dump is made before the clock starts and read as a stream, so the
floor neither includes reading a dump into memory up front nor holds it.
Documents are added with add_document: the minimum Xapian needs; cxsearch
replaces by id term (one posting-list lookup more per post) because an
import may hold an id twice. Terms that carry positions are added with
add_posting (wdf increment 0) and their wdf with add_term, which gives the
same term list, wdf and positions as cxsearch's document.
"""
import json
import marshal
import multiprocessing
import os
import shutil
import sys
import time

import xapian

PART_POSTS = 50000  # index/shards.c
BATCH = 2000        # index/index.c: cfg->batch_size


def dump(index, outdir, shares):
    db = xapian.Database(index)
    os.makedirs(outdir, exist_ok=True)
    files = [open(os.path.join(outdir, "share-%d.marshal" % k), "wb")
             for k in range(shares)]
    n = 0
    for post in db.postlist(""):
        doc = db.get_document(post.docid)
        terms = []
        for t in doc.termlist():
            pos = list(t.positer)
            terms.append((t.term, t.wdf, pos))
        values = [(v.num, v.value) for v in doc.values()]
        marshal.dump((doc.get_data(), values, terms), files[n % shares])
        n += 1
    for f in files:
        f.close()
    spell = [(s.term, s.termfreq) for s in db.spellings()]
    with open(os.path.join(outdir, "spelling.marshal"), "wb") as f:
        marshal.dump(spell, f)
    return n


def records(path):
    with open(path, "rb") as f:
        while True:
            try:
                yield marshal.load(f)
            except EOFError:
                return


def make_doc(rec):
    data, values, terms = rec
    doc = xapian.Document()
    doc.set_data(data)
    for slot, v in values:
        doc.add_value(slot, v)
    npos = 0
    for term, wdf, pos in terms:
        for p in pos:
            doc.add_posting(term, p, 0)
        npos += len(pos)
        if wdf:
            doc.add_term(term, wdf)
        elif not pos:
            doc.add_boolean_term(term)
    return doc, len(terms), npos


def write_share(k, dumpdir, outdb, spell, dry, ready, go, results):
    """One share into parts <outdb>.part-<k>-<i>; returns the part paths
    and counts through results."""
    src = records(os.path.join(dumpdir, "share-%d.marshal" % k))
    parts, db, docs, terms, npos = [], None, 0, 0, 0
    ready.wait()
    go.wait()
    for rec in src:
        doc, nt, np_ = make_doc(rec)
        terms += nt
        npos += np_
        if dry:
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
        for word, freq in spell:
            db.add_spelling(word, freq)
        db.commit()
        db.close()
    results.put((parts, docs, terms, npos))


def write(dumpdir, outdb, dry):
    shares = sorted(f for f in os.listdir(dumpdir) if f.startswith("share-"))
    with open(os.path.join(dumpdir, "spelling.marshal"), "rb") as f:
        spell = marshal.load(f)
    n = len(shares)
    ready = multiprocessing.Barrier(n + 1)
    go = multiprocessing.Barrier(n + 1)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(
        target=write_share, args=(k, dumpdir, outdb,
                                  spell[k::n], dry, ready, go, results))
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
    return {"write_s": t2 - t0, "merge_s": t2 - t1, "shares": n,
            "docs": sum(r[1] for r in out), "terms": sum(r[2] for r in out),
            "positions": sum(r[3] for r in out), "dry": dry, "parts": parts}


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
