"""corpus.py - makes the benchmark's corpus and query set, and the peers'
input files from the one corpus, so every system indexes the same posts and
answers the same queries.

Facts that shaped it: ../shared/bench/make-corpus and make-queries are
deterministic (same N and seed give the same bytes), so a corpus already in
the work folder with a matching stamp is reused instead of regenerated; the
real corpus is ../shared/bench/real/real-posts.jsonl.xz. PostgreSQL's COPY
text format escapes backslash, tab, newline and carriage return; Sphinx's
tsvpipe does not unescape anything, so tabs and newlines become spaces there
(word boundaries stay the same for its tokenizer). Posts whose lang is not
ru/it/en are indexed with PostgreSQL's 'simple' configuration and Sphinx's
English index.
"""
import json
import os
import subprocess
import time

from common import BenchError, log

LANGS = ("ru", "it", "en")


def _stamp_ok(path, stamp):
    try:
        with open(path + ".stamp") as f:
            return f.read() == stamp and os.path.getsize(path) > 0
    except OSError:
        return False


def _write_stamp(path, stamp):
    with open(path + ".stamp", "w") as f:
        f.write(stamp)


def make_corpus(shared, work, posts, real, timeout):
    """Writes work/corpus.jsonl; returns its path. Reused when the stamp
    says it is the same corpus."""
    out = os.path.join(work, "corpus.jsonl")
    if real:
        src = os.path.join(shared, "bench", "real", "real-posts.jsonl.xz")
        stamp = "real:%s:%d" % (src, os.path.getsize(src))
        cmd = ["xz", "-dc", src]
    else:
        stamp = "synthetic:%d" % posts
        cmd = [os.path.join(shared, "bench", "make-corpus"), str(posts)]
    if _stamp_ok(out, stamp):
        log("corpus: reusing %s" % out)
        return out
    log("corpus: %s > %s" % (" ".join(cmd), out))
    t0 = time.monotonic()
    with open(out + ".tmp", "wb") as f:
        try:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError("corpus: %s still running after %d s" %
                             (cmd[0], timeout))
    if p.returncode != 0:
        raise BenchError("corpus: %s failed: %s" %
                         (cmd[0], p.stderr.decode(errors="replace")[-500:]))
    os.replace(out + ".tmp", out)
    _write_stamp(out, stamp)
    log("corpus: %.1f s" % (time.monotonic() - t0))
    return out


def make_queries(shared, work, nqueries, timeout, posts=None):
    """Writes work/queries.txt (one per line, for wrk) and queries.tsv
    (lang, kind, query, for the peers). Returns (txt, tsv, count).
    With posts (the real corpus), the queries are drawn from those posts
    by make-queries-from-posts (kinds freq, rare, multi, phrase, typo,
    layout); otherwise make-queries' synthetic set, kept as it was so
    runs stay comparable with history."""
    txt = os.path.join(work, "queries.txt")
    tsv = os.path.join(work, "queries.tsv")
    if posts:
        tool = [os.path.join(shared, "bench", "make-queries-from-posts"),
                posts]
        origin = "posts:%s:%d" % (posts, os.path.getsize(posts))
    else:
        tool = [os.path.join(shared, "bench", "make-queries")]
        origin = "synthetic"
    for path, fmt in ((txt, "plain"), (tsv, "tsv")):
        stamp = "%d:%s:%s" % (nqueries, fmt, origin)
        if _stamp_ok(path, stamp):
            continue
        p = subprocess.run(tool + [str(nqueries), "--format=" + fmt],
                           capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise BenchError("%s failed: %s" % (
                os.path.basename(tool[0]),
                p.stderr.decode(errors="replace")[-500:]))
        with open(path, "wb") as f:
            f.write(p.stdout)
        _write_stamp(path, stamp)
    with open(tsv, encoding="utf-8") as f:
        n = sum(1 for line in f if line.strip())
    return txt, tsv, n


def _pg_escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def _flat(s):
    return s.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _epoch(date):
    """ISO 8601 -> Unix seconds for Sphinx (0 when absent or odd)."""
    if not date:
        return 0
    from datetime import datetime
    try:
        d = datetime.fromisoformat(date.replace("Z", "+00:00"))
        return max(0, int(d.timestamp()))
    except ValueError:
        return 0


def convert(corpus, work, want_sphinx):
    """One pass over the JSONL: work/pg-posts.tsv (COPY text format) and,
    when wanted, work/sphinx-<lang>.tsv. Returns facts about the corpus:
    posts, bytes of the file, bytes of post text (UTF-8), posts per lang."""
    pg_path = os.path.join(work, "pg-posts.tsv")
    sph = {}
    if want_sphinx:
        for lang in LANGS:
            sph[lang] = open(os.path.join(work, "sphinx-%s.tsv" % lang), "w",
                             encoding="utf-8")
    n, text_bytes, per_lang = 0, 0, {}
    try:
        with open(corpus, encoding="utf-8") as src, \
                open(pg_path, "w", encoding="utf-8") as pg:
            for lineno, line in enumerate(src, 1):
                if not line.strip():
                    continue
                try:
                    post = json.loads(line)
                except ValueError as e:
                    raise BenchError("%s:%d: %s" % (corpus, lineno, e))
                n += 1
                text = post.get("text") or ""
                text_bytes += len(text.encode("utf-8"))
                lang = post.get("lang") or ""
                per_lang[lang] = per_lang.get(lang, 0) + 1
                date = post.get("date") or ""
                pg.write("\t".join((
                    str(n), _pg_escape(str(post.get("id", ""))),
                    _pg_escape(lang), _pg_escape(post.get("channel") or ""),
                    _pg_escape(date) if date else "\\N",
                    _pg_escape(text))) + "\n")
                if sph:
                    f = sph.get(lang, sph["en"])
                    f.write("%d\t%s\t%d\n" % (n, _flat(text), _epoch(date)))
    finally:
        for f in sph.values():
            f.close()
    return {"posts": n, "file_bytes": os.path.getsize(corpus),
            "text_bytes": text_bytes, "per_lang": per_lang}
