"""A local HTTP server (127.0.0.1 only) that serves live sources the way
t.me and feed hosts do, for tests/e2e/test_follow.py:

- /s/<name> for the real saved pages of ../shared/live/tme-s (older pages
  answer 404: the saved page is all of that history we have);
- /s/<name> for synthetic channels whose pages are generated here in the
  structure of the real ones (tgme_channel_history, data-post, the
  "older" link, ?before=ID paging), with posts that tests add and edit;
- /feed/<file> for the real feeds, with an ETag and 304 on a match;
- fault pages: 429 with Retry-After, 500, an HTML error page, a non-XML
  body, 20 MB, a redirect loop, one byte per second, 404, malformed HTML,
  a windows-1251 feed.

Every request is recorded (path, headers, time), so tests can check what
the client sent. Text of synthetic posts is written here, not copied.
"""
import gzip
import hashlib
import html
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE = 20  # messages per page, as t.me

TOPICS = ["клиентский опыт в банке", "путь клиента в ритейле",
          "NPS и лояльность", "customer journey mapping",
          "esperienza del cliente in negozio", "service design e processi",
          "CSAT после звонка", "голос клиента и обратная связь"]


class Channel:
    """A synthetic channel: ids 1..n, some photos without caption."""

    def __init__(self, name, n):
        self.name = name
        self.posts = {}
        self.lock = threading.Lock()
        self.add(n)

    def add(self, k):
        with self.lock:
            start = max(self.posts) + 1 if self.posts else 1
            for i in range(start, start + k):
                topic = TOPICS[i % len(TOPICS)]
                text = None if i % 10 == 7 else (
                    "Заметка %d про %s: что измерять и зачем #cx%d" %
                    (i, topic, i % 3))
                self.posts[i] = {"text": text, "edited": False,
                                 "date": "2025-01-%02dT%02d:%02d:00+00:00" % (
                                     1 + i % 28, i % 24, i % 60)}

    def edit(self, i, text):
        with self.lock:
            self.posts[i] = dict(self.posts[i], text=text, edited=True)

    def ids_with_text(self):
        return sorted(i for i, p in self.posts.items() if p["text"])

    def page(self, before=None):
        with self.lock:
            ids = sorted(i for i in self.posts if before is None or i < before)
            ids = ids[-PAGE:]
            msgs = "".join(self.message(i) for i in ids)
        more = ""
        if ids and ids[0] > 1:
            more = ('<div class="tgme_widget_message_centered js-messages_more'
                    '_wrap"><a href="/s/%s?before=%d" class="tme_messages_more'
                    ' js-messages_more" data-before="%d"></a></div>' %
                    (self.name, ids[0], ids[0]))
        return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s '
                '– Telegram</title></head><body><header class="tgme_header">'
                '<div class="tgme_header_title"><span dir="auto">%s</span>'
                '</div></header><main class="tgme_main"><section class='
                '"tgme_channel_history js-message_history">%s%s</section>'
                '</main></body></html>' % (self.name, self.name, more, msgs)
                ).encode()

    def message(self, i):
        p = self.posts[i]
        body = ('<div class="tgme_widget_message_text js-message_text" '
                'dir="auto">%s</div>' % html.escape(p["text"])
                if p["text"] else
                '<a class="tgme_widget_message_photo_wrap" href="https://t.me/'
                '%s/%d"></a>' % (self.name, i))
        return ('<div class="tgme_widget_message_wrap js-widget_message_wrap">'
                '<div class="tgme_widget_message js-widget_message" data-post='
                '"%s/%d"><div class="tgme_widget_message_bubble">%s<div class='
                '"tgme_widget_message_footer compact js-message_footer"><div '
                'class="tgme_widget_message_info short js-message_info"><span '
                'class="tgme_widget_message_views">%d</span><span class='
                '"tgme_widget_message_meta">%s<a class="tgme_widget_message_'
                'date" href="https://t.me/%s/%d"><time datetime="%s" class='
                '"time">00:00</time></a></span></div></div></div></div></div>'
                % (self.name, i, body, 100 + i,
                   "edited &nbsp;" if p["edited"] else "", self.name, i,
                   p["date"]))


CP1251_FEED = ('<?xml version="1.0" encoding="windows-1251"?><rss version='
               '"2.0"><channel><title>Старая лента о сервисе</title><item>'
               '<title>Качество обслуживания</title><link>https://old.example'
               '.ru/1</link><description>Вежливость операторов колл-центра '
               'влияет на повторные покупки</description></item></channel>'
               '</rss>').encode("cp1251")


class State:
    def __init__(self, shared):
        self.shared = shared
        self.channels = {}
        self.requests = []
        self.lock = threading.Lock()
        self.hits = {}
        # Held by tests: a request for a path in hold waits until released.
        self.hold = {}

    def count(self, key):
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="text/html; charset=utf-8",
             headers=None):
        gz = "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 512
        if gz:
            body = gzip.compress(body)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if gz:
            self.send_header("Content-Encoding", "gzip")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        u = urlparse(self.path)
        q = parse_qs(u.query)
        with st.lock:
            st.requests.append({"path": self.path, "time": time.monotonic(),
                                "headers": dict(self.headers)})
        hold = st.hold.get(self.path)
        if hold is not None:
            hold[0].set()       # tell the test the request arrived
            hold[1].wait(30)    # and wait until it lets us answer
        parts = u.path.strip("/").split("/")
        try:
            if parts[0] == "s":
                return self.channel(parts[1], q)
            if parts[0] == "feed":
                return self.feed(parts[1])
            if parts[0] == "err":
                return self.fault(parts[1])
        except (BrokenPipeError, ConnectionResetError):
            return
        self.send(404, b"<html><head><title>Not Found</title></head></html>")

    def channel(self, name, q):
        st = self.server.state
        before = int(q["before"][0]) if "before" in q else None
        if name in st.channels:
            body = st.channels[name].page(before)
            return self.send(200, body)
        path = os.path.join(st.shared, "tme-s", name + "-1.html")
        if before is None and os.path.exists(path):
            with open(path, "rb") as f:
                return self.send(200, f.read())
        self.send(404, b"<html><head><title>404</title></head></html>")

    def feed(self, name):
        st = self.server.state
        if name == "cp1251":
            return self.send(200, CP1251_FEED, "application/rss+xml")
        path = os.path.join(st.shared, "feeds", name)
        if not os.path.exists(path):
            return self.send(404, b"no such feed", "text/plain")
        with open(path, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, b"", headers={"ETag": etag})
        self.send(200, body, "application/xml", {"ETag": etag})

    def fault(self, name):
        st = self.server.state
        n = st.count(name)
        if name == "429-once":
            if n == 1:
                return self.send(429, b"slow down", "text/plain",
                                 {"Retry-After": "1"})
            return self.feed("blogger-atom-utdelningsseglaren-sv.xml")
        if name == "429-long":
            return self.send(429, b"slow down", "text/plain",
                             {"Retry-After": "3600"})
        if name == "500-once":
            if n == 1:
                return self.send(500, b"oops", "text/plain")
            return self.feed("substack-interconnects-en.xml")
        if name == "500":
            return self.send(500, b"<html><title>Internal Server Error"
                             b"</title></html>")
        if name == "htmlerror":
            return self.send(200, b"<!DOCTYPE html><html><head><title>Feed "
                             b"temporarily unavailable</title></head><body>"
                             b"<h1>Sorry</h1></body></html>")
        if name == "notxml":
            return self.send(200, b"this is a plain text file, no markup",
                             "text/plain")
        if name == "big":
            return self.send(200, b"<html>" + b"x" * (20 << 20), "text/html")
        if name == "loop":
            self.send_response(302)
            self.send_header("Location", "/err/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if name == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b"<")
                self.wfile.flush()
                time.sleep(1)
            return
        if name == "malformed":
            return self.send(200, b'<html><div class="tgme_widget_message '
                             b'js-widget_message" data-post="x/1"><b><i>'
                             b'broken</div></span></html')
        self.send(404, b"<html><head><title>Not Found</title></head></html>")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, size caps) reset: expected


class LiveServer:
    def __init__(self, shared):
        self.state = State(shared)
        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self, prefix):
        with self.state.lock:
            return [r for r in self.state.requests
                    if r["path"].startswith(prefix)]
