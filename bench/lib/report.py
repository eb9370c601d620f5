"""report.py - turns one run's measurements into ratios, the issue 7 target
verdicts and a Markdown table, and puts the latest table into
docs/performance.md between marker comments (the rest of that page is
written by people and left alone).

Facts that shaped it: a figure that was not measured stays empty ("—"),
never estimated; a target whose inputs are missing is "not measured", not
met; targets are defined on the 100k synthetic corpus measured in one run,
so for other corpora they are shown for information only.
"""
import os

MB = 1e6


def _get(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p) if isinstance(d, dict) else None
    return d


def load_at(system, conns, key="load"):
    for r in (system or {}).get(key) or []:
        if r.get("connections") == conns:
            return r
    return None


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def ratios(res):
    """cxsearch / peer for build time, qps and p99 per connection count,
    and size (compacted cxsearch index vs the peer's index)."""
    cx = res["systems"].get("cxsearch") or {}
    out = {}
    for peer in ("postgresql", "sphinx", "xapian_floor"):
        p = res["systems"].get(peer)
        if not p or p.get("skipped") or p.get("error"):
            continue
        r = {"build_time": _ratio(_get(cx, "build", "wall_s"),
                                  _get(p, "build", "wall_s")),
             "size": _ratio(_get(cx, "size", "compact_bytes") or
                            _get(cx, "size", "bytes"),
                            _get(p, "size", "bytes"))}
        for c in res["config"]["connections"]:
            a, b = load_at(cx, c), load_at(p, c)
            r["qps_%d" % c] = _ratio(_get(a, "qps"), _get(b, "qps"))
            r["p99_%d" % c] = _ratio(_get(a, "p99_ms"), _get(b, "p99_ms"))
        if peer == "postgresql":
            a, b = load_at(cx, 8), load_at(p, 8, "load_plain")
            r["qps_8_vs_plain"] = _ratio(_get(a, "qps"), _get(b, "qps"))
        out["cxsearch/" + peer] = r
    return out


def _target(name, value, limit, ok, unit=""):
    if value is None or limit is None:
        verdict = "not measured"
    else:
        verdict = "met" if ok(value, limit) else "not met"
    return {"target": name, "measured": value, "limit": limit, "unit": unit,
            "verdict": verdict}


def targets(res):
    cx = res["systems"].get("cxsearch") or {}
    pg = res["systems"].get("postgresql") or {}
    sp = res["systems"].get("sphinx") or {}
    q8 = _get(load_at(cx, 8), "qps")
    pg8 = _get(load_at(pg, 8), "qps")
    sp8 = _get(load_at(sp, 8), "qps")
    text = res["corpus"].get("text_bytes")
    size = _get(cx, "size", "compact_bytes")
    ge = lambda v, l: v >= l
    le = lambda v, l: v <= l
    t = [
        _target("qps at 8 connections >= 5 x PostgreSQL with ts_headline",
                q8, 5 * pg8 if pg8 else None, ge, "q/s"),
        _target("qps at 8 connections >= 0.5 x Sphinx (no snippets)",
                q8, 0.5 * sp8 if sp8 else None, ge, "q/s"),
        _target("p99 at 1 connection <= 10 ms",
                _get(load_at(cx, 1), "p99_ms"), 10.0, le, "ms"),
        _target("build time <= 1.5 x PostgreSQL load + GIN",
                _get(cx, "build", "wall_s"),
                1.5 * _get(pg, "build", "wall_s")
                if _get(pg, "build", "wall_s") else None, le, "s"),
        _target("compacted index <= 4 x corpus text",
                size / MB if size else None,
                4 * text / MB if text else None, le, "MB"),
        _target("daemon RSS (excluding page cache) <= 300 MB",
                _get(cx, "daemon_rss", "rss_anon_mb"), 300.0, le, "MB"),
    ]
    applies = (res["config"]["corpus"] == "synthetic" and
               res["corpus"]["posts"] == 100000)
    for x in t:
        x["applies"] = applies
        x["issue"] = 7
    def worst(key):
        v = [k["p99_ms"] for k in (cx.get(key) or {}).values()
             if k.get("p99_ms") is not None]
        return max(v) if v else None
    t18 = [
        _target("qps at 8 connections with snippets > Sphinx without",
                q8, sp8, lambda v, l: v > l, "q/s"),
        _target("p99 one at a time <= 10 ms for every query kind (worst; "
                "warm, after the load runs)",
                worst("by_kind_warm"), 10.0, le, "ms"),
        _target("(info) the same, first pass after a cold start",
                worst("by_kind"), 10.0, le, "ms"),
        _target("100k synthetic posts indexed in <= 60 s",
                _get(cx, "build", "wall_s"), 60.0, le, "s"),
        _target("indexer peak RSS <= 400 MB",
                _get(cx, "build", "peak_rss_mb"), 400.0, le, "MB"),
    ]
    for i, x in enumerate(t18):
        x["issue"] = 18
        x["applies"] = applies or (i < 3 and
                                   res["config"]["corpus"] == "real")
    return t + t18


def _f(v, fmt="%.1f"):
    return "—" if v is None else fmt % v


def _fx(v):
    return "—" if v is None else "%.2f×" % v


def table(res):
    """The side-by-side Markdown table."""
    s = res["systems"]
    names = [("cxsearch", "cxsearch"), ("xapian_floor", "Xapian floor"),
             ("postgresql", "PostgreSQL 15"), ("sphinx", "Sphinx 2.2")]
    names = [(k, n) for k, n in names if k in s and not s[k].get("skipped")]
    rat = res.get("ratios", {})
    peers = [k for k, _ in names if k != "cxsearch"]
    head = "| | " + " | ".join(n for _, n in names) + "".join(
        " | cxsearch / %s" % dict(names)[p] for p in peers) + " |"
    lines = [head, "|---" * (1 + len(names) + len(peers)) + "|"]
    posts = res["corpus"]["posts"]
    fmb = res["corpus"]["file_bytes"] / MB
    tmb = res["corpus"]["text_bytes"] / MB

    def row(label, fn, ratio_key=None):
        cells = [fn(s.get(k) or {}) for k, _ in names]
        rs = [_fx(_get(rat, "cxsearch/" + p, ratio_key)) if ratio_key
              else "" for p in peers]
        lines.append("| " + label + " | " + " | ".join(cells) +
                     "".join(" | " + r for r in rs) + " |")

    bw = lambda x: _get(x, "build", "wall_s")
    row("build time, s", lambda x: _f(bw(x)), "build_time")
    row("build, posts/s", lambda x: _f(posts / bw(x), "%.0f")
        if bw(x) else "—")
    row("build, MB/s of corpus", lambda x: _f(fmb / bw(x), "%.2f")
        if bw(x) else "—")
    row("indexer peak RSS, MB", lambda x: _f(_get(x, "build",
                                                  "peak_rss_mb"), "%.0f"))
    row("indexer CPU use (200% = 2 cores)", lambda x: _f(_get(
        x, "build", "cpu_percent"), "%.0f%%"))
    row("indexer CPU time (user + system), s", lambda x: _f(_get(
        x, "build", "cpu_s"), "%.1f"))
    row("index size, MB", lambda x: _f(_get(x, "size", "bytes") / MB
                                       if _get(x, "size", "bytes") else None,
                                       "%.0f"))
    row("after xapian-compact, MB",
        lambda x: _f(_get(x, "size", "compact_bytes") / MB
                     if _get(x, "size", "compact_bytes") else None, "%.0f"),
        "size")
    row("size per MB of text", lambda x: _f(
        (_get(x, "size", "compact_bytes") or _get(x, "size", "bytes") or 0)
        / MB / tmb if _get(x, "size", "bytes") else None, "%.2f"))
    row("cold start to first answer, s",
        lambda x: _f(x.get("cold_start_s"), "%.2f"))
    for c in res["config"]["connections"]:
        row("q/s at %d conn." % c, lambda x: _f(_get(load_at(x, c), "qps"),
                                                "%.0f"), "qps_%d" % c)
        row("p50 / p95 / p99 ms at %d (ratio: p99)" % c, lambda x: " / ".join(
            _f(_get(load_at(x, c), k), "%.2f")
            for k in ("p50_ms", "p95_ms", "p99_ms"))
            if load_at(x, c) else "—", "p99_%d" % c)
    if "postgresql" in peers:
        for c in (1, 8):
            row("q/s at %d, no snippets" % c, lambda x: _f(
                _get(load_at(x, c, "load_plain"), "qps"), "%.0f")
                if x.get("load_plain") else (
                    "(no snippets)" if x.get("snippets") is False else "—"))
    row("daemon RSS after run, MB (anon / total)", lambda x: "%s / %s" % (
        _f(_get(x, "daemon_rss", "rss_anon_mb"), "%.0f"),
        _f(_get(x, "daemon_rss", "vmrss_mb"), "%.0f"))
        if x.get("daemon_rss") else "—")
    row("queries with hits", lambda x: "%d / %d" % (
        x["hit_rate"]["with_hits"], x["hit_rate"]["asked"])
        if x.get("hit_rate") else "—")
    return "\n".join(lines)


KIND_ORDER = ("freq", "rare", "multi", "phrase", "typo", "layout")


def floor_line(res):
    """What the floor column is, and how much of it is Python's."""
    f = _get(res, "systems", "xapian_floor")
    if not f or not f.get("build"):
        return ""
    b = f["build"]
    return ("Xapian floor: cxsearch's own documents (%.0f terms per post; "
            "%.0f positions per post over the first %s posts; values, "
            "stored posts) copied from its index into a new one "
            "by bench/lib/xapian_floor.py on %s processes, in parts "
            "compacted into one database, as cxsearch's shards are; its "
            "build time runs from the source opened to the merged database "
            "(merge %.1f s; CPU %s s), includes reading the documents back, "
            "and %.1f s of it is the program fetching documents without "
            "writing them." % (
                f["terms_per_doc"], f["positions_per_doc"],
                f.get("positions_sample_docs") or "—",
                res["machine"]["cores"], b["merge_s"],
                _f(b.get("cpu_s")), f["python_only_s"] or 0))


def kinds_table(res, key="by_kind"):
    """Each system's one-at-a-time pass over the query set, by query kind:
    where the time goes, and which kinds a system can answer at all.
    key: "by_kind" (the first pass, after a cold start) or "by_kind_warm"
    (the same pass after the load runs)."""
    s = {k: {"by_kind": v[key]} for k, v in res["systems"].items()
         if isinstance(v, dict) and v.get(key)}
    names = [(k, n) for k, n in (("cxsearch", "cxsearch"),
                                 ("postgresql", "PostgreSQL"),
                                 ("sphinx", "Sphinx"))
             if _get(s, k, "by_kind")]
    if not names:
        return ""
    kinds = set()
    for k, _ in names:
        kinds.update(s[k]["by_kind"])
    kinds = sorted(kinds, key=lambda x: (x not in KIND_ORDER,
                                         KIND_ORDER.index(x)
                                         if x in KIND_ORDER else 0, x))
    head = "| kind | queries |"
    for k, n in names:
        head += " %s: with hits | %s: p50 / p99 ms |" % (n, n)
        if k == "cxsearch":
            head += " cxsearch: relaxed to OR / suggestion |"
    cols = 2 + sum(3 if k == "cxsearch" else 2 for k, _ in names)
    when = ("right after the cold start, before the load runs"
            if key == "by_kind" else
            "again after the load runs, caches warm")
    lines = ["Every query once, one at a time, by query kind, %s "
             "(PostgreSQL timed inside the server, with ts_headline; "
             "Sphinx and PostgreSQL answer strict AND, without typo or "
             "layout correction):" % when, "", head, "|---" * cols + "|"]
    for kind in kinds:
        nq = max((_get(s, k, "by_kind", kind, "queries") or 0)
                 for k, _ in names)
        row = "| %s | %d |" % (kind, nq)
        for k, _ in names:
            x = _get(s, k, "by_kind", kind)
            if not x:
                row += " — | — |" + (" — |" if k == "cxsearch" else "")
                continue
            row += " %d | %s / %s |" % (x["with_hits"], _f(x["p50_ms"]),
                                        _f(x["p99_ms"]))
            if k == "cxsearch":
                row += " %d / %d |" % (x.get("relaxed", 0),
                                       x.get("suggestion", 0))
        lines.append(row)
    return "\n".join(lines)


def targets_table(res):
    lines = ["| issue | target | measured | limit | verdict |",
             "|---|---|---|---|---|"]
    for t in res["targets"]:
        v = t["verdict"] + ("" if t["applies"] else " (info: not the "
                            "corpus the target is set on)")
        lines.append("| %s | %s | %s %s | %s %s | %s |" % (
            t.get("issue", 7), t["target"], _f(t["measured"], "%.1f"),
            t["unit"],
            _f(t["limit"], "%.1f"), t["unit"], v))
    return "\n".join(lines)


def machine_line(res):
    m = res["machine"]
    return ("%s, %s cores, %s GB RAM, Linux %s, %s; load average before "
            "the run %s" % (m["cpu_model"], m["cores"], m["ram_gb"],
                            m["kernel"], m["os"],
                            " ".join("%.2f" % x for x in
                                     m["loadavg_before"])))


def markdown(res, json_rel):
    c = res["config"]
    v = res["versions"]
    parts = [
        "Run %s: %s corpus, %d posts (%.0f MB JSONL, %.0f MB of text), %d "
        "queries, %d s per load run, connections %s. Results: `%s`." % (
            res["timestamp"], c["corpus"], res["corpus"]["posts"],
            res["corpus"]["file_bytes"] / MB,
            res["corpus"]["text_bytes"] / MB, c["queries"],
            c["duration_s"], ", ".join(str(x) for x in c["connections"]),
            json_rel),
        "", "Machine: " + machine_line(res) + ".", "",
        "Versions: cxsearch %s; Xapian %s; PostgreSQL %s; Sphinx %s; "
        "wrk %s." % (v.get("cxsearch_git"), v.get("xapian"),
                     v.get("postgresql"), v.get("sphinxsearch"),
                     v.get("wrk")),
        "", table(res), "", floor_line(res), "", kinds_table(res), "",
        kinds_table(res, "by_kind_warm"), "", targets_table(res)]
    if res.get("notes"):
        parts += [""] + ["- " + n for n in res["notes"]]
    return "\n".join(parts)


def update_doc(path, begin, end, body):
    """Replaces the text between the begin and end markers (adds the block
    at the end when the markers are absent)."""
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    block = begin + "\n" + body.strip() + "\n" + end
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
