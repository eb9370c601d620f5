"""common.py - helpers shared by the benchmark steps: running programs with
a time bound, measuring wall time and peak RSS with GNU time, sizes on disk,
percentiles, free loopback ports, and a description of the machine.

Facts that shaped it: every figure the benchmark prints must be measured,
never assumed, so each helper returns None (and a note) rather than a guess
when it cannot measure; every wait is bounded in time because the benchmark
runs unattended (CI, a user's terminal); GNU time (/usr/bin/time -v, Debian
package `time`) reports peak RSS as "Maximum resident set size (kbytes)".
Python 3 standard library only.
"""
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

GNU_TIME = "/usr/bin/time"


class BenchError(Exception):
    """A step failed; the message says which and why."""


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(cmd, timeout, **kw):
    """Runs cmd, returns CompletedProcess (text); raises BenchError with the
    program's stderr when it fails or outlives timeout seconds."""
    ok = kw.pop("ok_codes", None) or (0,)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    try:
        p = subprocess.run(cmd, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: still running after %d s" % (cmd[0], timeout))
    except OSError as e:
        raise BenchError("%s: %s" % (cmd[0], e))
    if p.returncode not in ok:
        raise BenchError("%s failed (exit %d): %s" %
                         (" ".join(cmd[:3]), p.returncode,
                          (p.stdout or "")[-1500:] +
                          (p.stderr or "")[-1500:]))
    return p


def timed(cmd, timeout, ok_codes=(0,), stdout=None, env=None):
    """Runs cmd under GNU time -v. Returns dict(wall_s, peak_rss_mb, code,
    stderr). Wall time is our own monotonic clock around the whole run."""
    have_time = os.access(GNU_TIME, os.X_OK)
    full = ([GNU_TIME, "-v"] if have_time else []) + list(cmd)
    t0 = time.monotonic()
    try:
        p = subprocess.run(full, timeout=timeout, stdout=stdout or
                           subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: still running after %d s" % (cmd[0], timeout))
    wall = time.monotonic() - t0
    if p.returncode not in ok_codes:
        raise BenchError("%s failed (exit %d): %s" %
                         (" ".join(cmd[:3]), p.returncode,
                          ((p.stdout or "")[-1500:] + p.stderr[-1500:])))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    rss = int(m.group(1)) / 1024.0 if m else None
    m = re.search(r"Percent of CPU this job got: (\d+)%", p.stderr)
    cpu = int(m.group(1)) if m else None  # 200 = both cores busy
    # CPU seconds (user + system) follow the work done, not what else runs
    # on a shared machine, as wall time does.
    u = re.search(r"User time \(seconds\): ([\d.]+)", p.stderr)
    s = re.search(r"System time \(seconds\): ([\d.]+)", p.stderr)
    cpu_s = float(u.group(1)) + float(s.group(1)) if u and s else None
    return {"wall_s": wall, "peak_rss_mb": rss, "cpu_percent": cpu,
            "cpu_s": cpu_s, "code": p.returncode, "stderr": p.stderr,
            "stdout": p.stdout if stdout is None else None}


def du_bytes(path):
    """Bytes allocated on disk under path (du -sb counts apparent size;
    we want what the index costs on disk, so use blocks like du -s)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            total += st.st_blocks * 512
    return total


def evict_page_cache(path):
    """Drops the clean cached pages of every file under path (no root
    needed, touches nothing else on a shared machine). Returns True when
    every file was advised."""
    if not hasattr(os, "posix_fadvise"):
        return False
    os.sync()
    ok = True
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                fd = os.open(os.path.join(root, f), os.O_RDONLY)
            except OSError:
                ok = False
                continue
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                ok = False
            finally:
                os.close(fd)
    return ok


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an already sorted list (None if empty)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1,
                   math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def read_query_rows(queries_tsv):
    """(lang, kind, query) of each non-empty line of a queries TSV, in
    file order: the order every system's one-at-a-time pass follows."""
    rows = []
    with open(queries_tsv, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].strip():
                rows.append((parts[0], parts[1], parts[2].strip()))
    return rows


def by_kind(samples, extra=()):
    """samples: (kind, ms, hits, {counter: 0/1}) per query asked once.
    Returns {kind: {queries, with_hits, p50_ms, p99_ms, mean_ms, and the
    counters named in extra}}, kinds sorted by name."""
    kinds = {}
    for kind, ms, hits, flags in samples:
        k = kinds.setdefault(kind, dict({"lat": [], "with_hits": 0},
                                        **{e: 0 for e in extra}))
        k["lat"].append(ms)
        k["with_hits"] += 1 if hits else 0
        for e in extra:
            k[e] += flags.get(e, 0)
    out = {}
    for kind, k in sorted(kinds.items()):
        lat = sorted(k.pop("lat"))
        k.update({"queries": len(lat), "p50_ms": percentile(lat, 50),
                  "p99_ms": percentile(lat, 99),
                  "mean_ms": sum(lat) / len(lat)})
        out[kind] = k
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout, proc=None):
    """Waits until 127.0.0.1:port accepts; False on timeout or if proc
    exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def http_get(url, timeout=10):
    """Returns (status, body bytes); (None, error text) on failure."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return None, str(e).encode()


def proc_rss_mb(pid):
    """VmRSS of a live process from /proc (None if gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def proc_rss_anon_mb(pid):
    """RssAnon: resident memory that is not file pages (the page cache of
    mapped index files is excluded)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _first(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        out = (p.stdout or p.stderr).strip().splitlines()
        return out[0].strip() if out else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _dpkg_version(pkg):
    return _first(["dpkg-query", "-W", "-f=${Version}", pkg])


def machine_info():
    """CPU model, cores, RAM, kernel, OS and the load average before the
    run (the machine may be shared: a high load disturbs the figures)."""
    cpu, cores = None, os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = round(int(line.split()[1]) / 1024.0 / 1024.0, 1)
    except OSError:
        pass
    osname = None
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"cpu_model": cpu, "cores": cores, "ram_gb": ram,
            "kernel": platform.release(), "os": osname,
            "loadavg_before": list(os.getloadavg())}


def versions(src_dir, cxsearch_bin):
    v = {"python": platform.python_version()}
    v["cxsearch_git"] = _first(["git", "-C", src_dir, "describe",
                                "--always", "--dirty"])
    if cxsearch_bin and os.access(cxsearch_bin, os.X_OK):
        v["cxsearch"] = _first([cxsearch_bin, "--version"])
    for name, pkg in (("xapian", "libxapian30"), ("libmicrohttpd",
                      "libmicrohttpd12"), ("postgresql", "postgresql-15"),
                      ("sphinxsearch", "sphinxsearch"), ("wrk", "wrk"),
                      ("gcc", "gcc")):
        v[name] = _dpkg_version(pkg)
    return v


def which(name):
    return shutil.which(name)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
