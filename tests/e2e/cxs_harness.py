"""Shared harness for end-to-end tests: real programs, a real index on disk,
a real cxsearchd on a free loopback port, real HTTP (standard library only).

    with Harness() as h:
        h.index("data/sample")
        h.start_daemon()
        status, body = h.get("/search", q="клиентский опыт")
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SOURCE_DIR = os.environ.get("CXS_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
BUILD_DIR = os.environ.get("CXS_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
SHARED_DIR = os.environ.get("CXS_SHARED_DIR",
                            os.path.join(SOURCE_DIR, "..", "shared"))
CXSEARCH = os.path.join(BUILD_DIR, "cxsearch")
CXSEARCHD = os.path.join(BUILD_DIR, "cxsearchd")
SKIP = 77  # ctest SKIP_RETURN_CODE


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


def npm_ci(workdir):
    """npm ci in workdir (its package-lock.json pins every package); a
    failure ends the test with npm's output."""
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=workdir, capture_output=True,
                       text=True, timeout=600)
    if p.returncode != 0:
        print(p.stdout + p.stderr)
        print("FAIL: npm ci in %s" % workdir)
        sys.exit(1)


def stop_process(proc, log, sig=signal.SIGTERM):
    """Sends sig to proc if it still runs, waits 10 s (then kills it),
    and closes its log. Both may be None."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc and log:
        log.close()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Checks:
    """Counts checks and prints the closing line CI reads."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


class Harness:
    def __init__(self, extra_config=""):
        self.tmp = tempfile.mkdtemp(prefix="cxs-e2e-")
        self.db = os.path.join(self.tmp, "index")
        self.port = None
        self.proc = None
        self.extra_config = extra_config
        self.log_path = os.path.join(self.tmp, "daemon.log")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_daemon()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cli(self, *args, stdin=None, check=True):
        """Runs cxsearch; returns CompletedProcess (text mode)."""
        p = subprocess.run([CXSEARCH] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=600)
        if check and p.returncode not in (0, 3):
            raise RuntimeError("cxsearch %s failed (%d): %s" %
                               (" ".join(args), p.returncode, p.stderr))
        return p

    def index(self, *paths, db=None):
        return self.cli("index", "--db", db or self.db, *paths)

    def write_config(self, body):
        path = os.path.join(self.tmp, "cxsearch.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        return path

    def start_daemon(self, config_body=None, env=None, dbs=None):
        self.port = free_port()
        conf = self.write_config(config_body if config_body is not None
                                 else self.extra_config)
        args = [CXSEARCHD, "--config", conf, "--listen",
                "127.0.0.1:%d" % self.port]
        for d in (dbs or [self.db]):
            args += ["--db", d]
        e = dict(os.environ)
        e.update(env or {})
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=e)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("cxsearchd exited: " + self.daemon_log())
            try:
                if self.get("/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("cxsearchd did not answer /health in 30 s")

    def stop_checked(self, t, what):
        """SIGTERM; the daemon must exit 0 with no sanitizer report."""
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        log = self.daemon_log()
        t.check(rc == 0, "%s: exit status %r" % (what, rc))
        t.check("Sanitizer" not in log and "runtime error" not in log,
                "%s: no sanitizer report: %s" % (what, log[-2000:]))
        self.stop_daemon()

    def daemon_log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_readers_opened(self, timeout=180):
        """Waits until the daemon has opened its pool's readers ahead (in
        the background, after it starts listening) or said it could not:
        a test that measures memory or counts opens starts after that.
        True when the log says they were opened."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            log = self.daemon_log()
            if "opened ahead for the pool" in log:
                return True
            if "readers not opened ahead" in log:
                return False
            time.sleep(0.2)
        return False

    def stop_daemon(self):
        stop_process(self.proc, getattr(self, "log", None))
        self.proc = None

    def url(self, path, params=None):
        u = "http://127.0.0.1:%d%s" % (self.port, path)
        if params:
            u += "?" + urllib.parse.urlencode(params, doseq=True)
        return u

    def request(self, method, path, params=None, body=None, headers=None):
        """Returns (status, parsed JSON or raw text, headers)."""
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.url(path, params), data=data,
                                     method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), e.headers
        text = raw.decode("utf-8")
        try:
            return status, json.loads(text), hdrs
        except ValueError:
            return status, text, hdrs

    def get(self, path, **params):
        s, b, _ = self.request("GET", path, params or None)
        return s, b
