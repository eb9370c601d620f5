"""Real Xapian remote servers for the scale-out tests (docs/scale-out.md):
xapian-tcpsrv serving a shard on a loopback port, xapian-replicate-server
and xapian-replicate keeping a replica.

Fact that bites: xapian-tcpsrv, when stopped, signals its whole process
group, so every server here starts in its own session
(start_new_session=True) or stopping it would kill the test.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

from cxs_harness import free_port, skip, stop_process

TOOLS = ("xapian-tcpsrv", "xapian-replicate-server", "xapian-replicate")


def need_tools(*names):
    for n in names or TOOLS:
        if not shutil.which(n):
            skip("%s is not installed (Debian package xapian-tools; "
                 "scripts/install-deps installs it)" % n)


def fnv1a_shard(post_id, n):
    """The shard a new post goes to (index.h cxs_index_shard_of)."""
    h = 14695981039346656037
    for b in post_id.encode("utf-8"):
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % n


def wait_port(port, proc, what, secs=20):
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (what, port))


class Server:
    """One long-running process in its own session, stopped by its pid."""

    def __init__(self, args, log, port):
        self.args, self.log_path, self.port = args, log, port
        self.proc = None

    def start(self, what=None):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if self.port:
            wait_port(self.port, self.proc, what or self.args[0])
        return self

    def signal(self, sig):
        """Signals the server and the children it forked per connection
        (its own process group)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)  # a SIGSTOPped shard
        stop_process(self.proc, self.log)
        self.proc = None


def tcpsrv(db, log, writable=True, port=None):
    """xapian-tcpsrv serving db on a free loopback port (not started)."""
    port = port or free_port()
    args = ["xapian-tcpsrv", "--interface", "127.0.0.1", "--port", str(port)]
    if writable:
        args.append("--writable")
    return Server(args + [db], log, port)
