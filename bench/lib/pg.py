"""pg.py - the PostgreSQL 15 peer: a private cluster in the work folder on a
loopback port, started and stopped by the benchmark, loaded with the same
corpus, queried with pgbench.

Facts that shaped it: initdb and postgres refuse to run as root, so as root
the cluster belongs to the `postgres` system user (runuser) and every folder
above it must be traversable; clients connect over TCP to 127.0.0.1 with
trust authentication (the cluster listens on nothing else and lives only for
the run). wal_level=minimal lets a COPY into a table created in the same
transaction skip WAL. pgbench cannot read a query file, so the queries go
into a table and the script picks `random(1, :nq)`; with --log it writes one
line per transaction whose third field is the latency in microseconds,
from which we compute p50/p95/p99 ourselves (pgbench -r only gives means).
Settings used are recorded in the results so the comparison can be judged.
"""
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time

from common import BenchError, by_kind, log, percentile, run, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
PG_BIN = "/usr/lib/postgresql/15/bin"

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "120",
    "shared_buffers": "'1GB'",
    "maintenance_work_mem": "'1GB'",
    "work_mem": "'16MB'",
    "wal_level": "'minimal'",
    "max_wal_senders": "0",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "synchronous_commit": "off",
    "jit": "off",
    "log_min_messages": "warning",
}


def available():
    """None when usable, else why not."""
    for prog in ("initdb", "pg_ctl", "postgres"):
        if not os.access(os.path.join(PG_BIN, prog), os.X_OK):
            return ("PostgreSQL 15 not installed (%s/%s missing; "
                    "apt-get install postgresql-15)" % (PG_BIN, prog))
    for prog in ("psql", "pgbench"):
        if not shutil.which(prog) and not os.access(
                os.path.join(PG_BIN, prog), os.X_OK):
            return "%s not found" % prog
    return None


def _client(prog):
    p = os.path.join(PG_BIN, prog)
    return p if os.access(p, os.X_OK) else shutil.which(prog)


class Cluster:
    def __init__(self, work, port):
        self.dir = os.path.join(work, "pg")
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        self.port = port
        self.as_user = []
        self.started = False

    # -- set-up ---------------------------------------------------------
    def _prepare_dirs(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise BenchError("running as root and there is no 'postgres' "
                             "user to own the cluster")
        self.as_user = ["runuser", "-u", "postgres", "--"]
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        work = os.path.dirname(self.dir)
        d = work
        while d and d != "/":  # postgres must reach its folder
            mode = os.stat(d).st_mode
            if not mode & 0o001:
                # only our own folders: the work folder, or a private
                # temporary folder around it (tests); never system ones
                tmp = tempfile.gettempdir()
                if d != work and not d.startswith(tmp + os.sep):
                    raise BenchError("%s is not traversable by the postgres "
                                     "user; use --work elsewhere" % d)
                os.chmod(d, mode | 0o711)
            d = os.path.dirname(d)

    def init(self):
        self._prepare_dirs()
        locale = "C.UTF-8"
        run(self.as_user + [os.path.join(PG_BIN, "initdb"), "-D", self.data,
                            "-U", "bench", "--auth=trust", "-E", "UTF8",
                            "--locale=" + locale, "--no-sync"], timeout=120)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# bench/run\n")
            for k, v in SETTINGS.items():
                f.write("%s = %s\n" % (k, v))
            f.write("port = %d\nunix_socket_directories = ''\n" % self.port)

    def start(self):
        run(self.as_user + [os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                            "-l", self.logfile, "-w", "-t", "60", "start"],
            timeout=90)
        self.started = True
        if not wait_port(self.port, 30):
            raise BenchError("PostgreSQL did not listen on 127.0.0.1:%d"
                             % self.port)
        run([_client("psql"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "bench", "-d", "postgres", "-q", "-c",
             "CREATE DATABASE bench"], timeout=60)

    def stop(self):
        if not self.started:
            return
        try:
            run(self.as_user + [os.path.join(PG_BIN, "pg_ctl"), "-D",
                                self.data, "-m", "fast", "-w", "-t", "60",
                                "stop"], timeout=90)
        except BenchError as e:
            log("PostgreSQL stop: %s" % e)
        self.started = False

    # -- SQL ----------------------------------------------------------------
    def psql(self, args, stdin=None, timeout=3600):
        cmd = [_client("psql"), "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "bench", "-d", "bench", "-q", "-X",
               "-v", "ON_ERROR_STOP=1"] + list(args)
        return run(cmd, timeout=timeout, stdin=stdin)

    def scalar(self, sql):
        return self.psql(["-A", "-t", "-c", sql], timeout=120).stdout.strip()

    def server_version(self):
        return self.scalar("SHOW server_version")

    # -- build ----------------------------------------------------------------
    def build(self, tsv_posts, queries_tsv, timeout):
        """Load (COPY with the generated tsvector) and GIN index, timed
        apart. Returns the build section of the results."""
        log("PostgreSQL: COPY %s" % tsv_posts)
        t0 = time.monotonic()
        with open(tsv_posts, "rb") as f:
            self.psql(["-1", "-f", os.path.join(HERE, "pg_schema.sql"),
                       "-c", "COPY posts (id, ext_id, lang, channel, date, "
                       "text) FROM STDIN"], stdin=f, timeout=timeout)
        load_s = time.monotonic() - t0
        log("PostgreSQL: load %.1f s, building GIN index" % load_s)
        t0 = time.monotonic()
        self.psql(["-f", os.path.join(HERE, "pg_index.sql")],
                  timeout=timeout)
        index_s = time.monotonic() - t0
        log("PostgreSQL: index %.1f s" % index_s)
        self._load_queries(queries_tsv)
        return {"load_s": load_s, "index_s": index_s,
                "wall_s": load_s + index_s}

    def _load_queries(self, queries_tsv):
        rows = []
        with open(queries_tsv, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3 or not parts[2].strip():
                    continue
                q = parts[2].replace("\\", "\\\\")
                rows.append("%d\t%s\t%s\t%s\n" % (len(rows) + 1, parts[0],
                                                  parts[1], q))
        data = "".join(rows).encode("utf-8")
        p = subprocess.run(
            [_client("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
             "bench", "-d", "bench", "-q", "-X", "-v", "ON_ERROR_STOP=1",
             "-1", "-f", os.path.join(HERE, "pg_queries.sql"), "-c",
             "COPY queries (id, lang, kind, q) FROM STDIN"],
            input=data, capture_output=True, timeout=120)
        if p.returncode != 0:
            raise BenchError("PostgreSQL: loading queries failed: %s" %
                             p.stderr.decode(errors="replace")[-1000:])
        self.nqueries = len(rows)

    def sizes(self):
        """Bytes of the table with its TOAST and indexes, and of the GIN
        index alone."""
        total = int(self.scalar("SELECT pg_total_relation_size('posts')"))
        gin = int(self.scalar("SELECT pg_relation_size('posts_tsv_gin')"))
        return {"bytes": total, "gin_bytes": gin}

    def probe_all(self, timeout=600):
        """Every query once, one at a time, with snippets (pg_probe.sql):
        hits and latency per query kind, timed inside the server."""
        p = self.psql(["-f", os.path.join(HERE, "pg_probe.sql")],
                      timeout=timeout)
        samples = []
        for line in p.stdout.splitlines():
            kind, ms, n = line.split("\t")
            samples.append((kind, float(ms), int(n) > 0, {}))
        return by_kind(samples)

    # -- load -------------------------------------------------------------
    def bench(self, script, clients, duration, logdir):
        """pgbench with the script for duration seconds. Returns qps and
        latency percentiles (ms) from the per-transaction log."""
        os.makedirs(logdir, exist_ok=True)
        for old in glob.glob(os.path.join(logdir, "pgbench_log*")):
            os.unlink(old)
        threads = max(1, min(clients, os.cpu_count() or 1))
        cmd = [_client("pgbench"), "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "bench", "-n", "-M", "prepared", "-c", str(clients),
               "-j", str(threads), "-T", str(duration), "-D",
               "nq=%d" % self.nqueries, "-f", os.path.join(HERE, script),
               "-l", "--log-prefix=" + os.path.join(logdir, "pgbench_log"),
               "bench"]
        p = run(cmd, timeout=duration * 3 + 120)
        lat, failed = [], 0
        for path in glob.glob(os.path.join(logdir, "pgbench_log*")):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) < 3:
                        continue
                    if parts[2] == "failed" or parts[2] == "skipped":
                        failed += 1
                        continue
                    lat.append(int(parts[2]) / 1000.0)
        lat.sort()
        m = re.search(r"tps = ([\d.]+) \(without initial", p.stdout)
        m2 = re.search(r"number of failed transactions: (\d+)", p.stdout)
        if m2:
            failed = max(failed, int(m2.group(1)))
        return {"connections": clients, "duration_s": duration,
                "requests": len(lat), "errors": failed,
                "qps": float(m.group(1)) if m else len(lat) / duration,
                "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95),
                "p99_ms": percentile(lat, 99), "client": "pgbench -M prepared"}
