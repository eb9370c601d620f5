/*
 * static.c - the search page and widget: GET / serves web_dir/index.html,
 * GET /NAME serves web_dir/NAME (issue 6 puts the page and widget.js
 * there).
 *
 * Facts that shaped it: the path is attacker-controlled and is decoded
 * here (libmicrohttpd's decoding is bypassed, see http.h), so traversal
 * is refused on the decoded segments ("..", ".", hidden names, NUL,
 * backslash), and the file's real path must still lie inside web_dir's
 * real path, which also stops symbolic links pointing outside. Anything
 * refused is a plain 404 so the answer says nothing about the disk; only
 * a malformed %-escape is a 400.
 *
 * widget.js is served assembled (issue 13): it must be one self-contained
 * script on a foreign page, yet its highlighter is web_dir/highlight.js,
 * which the search page loads too. So the line of widget.js that is just
 * INCLUDE_MARK is replaced by highlight.js, read per request like every
 * file here (both are small; edits show at once; no cache to guard). A
 * widget.js without that line is served as it is. When highlight.js is
 * missing, unreadable or either file exceeds ASSEMBLY_MAX, the answer is
 * a 503 (a broken install, not a missing page), never half a script.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "routes.h"

#define WIDGET "widget.js"
#define INCLUDED "highlight.js"
#define INCLUDE_MARK "/* @include " INCLUDED " */"
#define ASSEMBLY_MAX (1u << 20) /* bytes per file read for assembly */

static const char *mime_of(const char *path) {
    static const struct {
        const char *ext, *type;
    } T[] = {{".html", "text/html; charset=utf-8"},
             {".js", "text/javascript; charset=utf-8"},
             {".css", "text/css; charset=utf-8"},
             {".json", "application/json; charset=utf-8"},
             {".svg", "image/svg+xml"},
             {".png", "image/png"},
             {".ico", "image/x-icon"},
             {".txt", "text/plain; charset=utf-8"},
             {".woff2", "font/woff2"},
             {".map", "application/json; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof T / sizeof T[0]; i++)
        if (strcmp(dot, T[i].ext) == 0)
            return T[i].type;
    return "application/octet-stream";
}

/* 1 when every segment of the decoded path is an ordinary name. */
static int safe_path(const char *p, size_t n) {
    if (strlen(p) != n || memchr(p, '\\', n))
        return 0;
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (len > 0 && s[0] == '.')
            return 0; /* ".", "..", and hidden files */
        s += len;
    }
    return 1;
}

/* The real path of the file asked for, inside web_dir (whose real path
 * goes to root), or NULL. */
static char *resolve(const char *web, const char *rel, char *root) {
    char full[PATH_MAX];
    if (!realpath(web, root))
        return NULL;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", root, rel) >= sizeof full)
        return NULL;
    char *real = realpath(full, NULL);
    size_t rl = strlen(root);
    if (real && (strncmp(real, root, rl) != 0 || real[rl] != '/')) {
        free(real);
        real = NULL;
    }
    return real;
}

/* Opens a regular file by its real path; -1 if it is none. */
static int open_regular(const char *real, struct stat *st) {
    int fd = real ? open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* All of fd (size bytes by fstat, at most ASSEMBLY_MAX), malloc'ed with a
 * final NUL, or NULL. Closes fd. */
static char *slurp(int fd, size_t size, size_t *len) {
    char *buf = size <= ASSEMBLY_MAX ? malloc(size + 1) : NULL;
    size_t got = 0;
    while (buf && got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k <= 0) {
            free(buf);
            buf = NULL;
        } else {
            got += (size_t)k;
        }
    }
    close(fd);
    if (buf) {
        buf[got] = '\0';
        *len = got;
    }
    return buf;
}

/* The line of w[0..n) that is only the marker (after blanks): from is
 * the start of that line, to the end of the marker. 0 when none is. */
static int find_mark(const char *w, size_t n, size_t *from, size_t *to) {
    const size_t ml = strlen(INCLUDE_MARK);
    const char *p = w;
    while ((p = memmem(p, n - (size_t)(p - w), INCLUDE_MARK, ml)) != NULL) {
        const char *b = p, *e = p + ml;
        while (b > w && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if ((b == w || b[-1] == '\n') &&
            (e == w + n || *e == '\n' || *e == '\r')) {
            *from = (size_t)(b - w);
            *to = (size_t)(e - w);
            return 1;
        }
        p = e;
    }
    return 0;
}

/* Serves widget.js (open as fd, size bytes) with highlight.js in place of
 * its marker line. */
static void serve_widget(cxs_req *r, const char *web, int fd, size_t size) {
    size_t wn = 0, pn = 0, from = 0, to = 0;
    char *w = slurp(fd, size, &wn), *part = NULL, *out = NULL;
    const char *why = NULL;
    if (!w) {
        why = "web_dir/" WIDGET " is too large or unreadable";
    } else if (!find_mark(w, wn, &from, &to)) {
        cxs_req_file_bytes(r, mime_of(WIDGET), w, wn);
        return;
    } else {
        char root[PATH_MAX];
        char *real = resolve(web, INCLUDED, root);
        struct stat st;
        int pfd = open_regular(real, &st);
        free(real);
        if (pfd < 0)
            why = "web_dir/" INCLUDED " is missing";
        else if (!(part = slurp(pfd, (size_t)st.st_size, &pn)))
            why = "web_dir/" INCLUDED " is too large or unreadable";
        else if (!(out = malloc(wn - (to - from) + pn)))
            why = "out of memory";
    }
    if (why) {
        cxs_log_msg("error", "GET /" WIDGET ": %s", why);
        cxs_req_error(r, 503, "widget_unavailable",
                      "the widget cannot be assembled: %s", why);
    } else {
        memcpy(out, w, from);
        memcpy(out + from, part, pn);
        memcpy(out + from + pn, w + to, wn - to);
        cxs_req_file_bytes(r, mime_of(WIDGET), out, wn - (to - from) + pn);
    }
    free(w);
    free(part);
}

void cxs_static_serve(cxs_req *r) {
    const char *web = r->snap->cfg->web_dir;
    size_t n;
    char *path = cxs_http_decode(r->raw_uri, r->path_len, 0, 1, &n);
    if (!path) {
        cxs_req_error(r, 400, "bad_path", "malformed %%-escape in path");
        return;
    }
    const char *rel = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    char root[PATH_MAX];
    char *real = (web && safe_path(path, n)) ? resolve(web, rel, root) : NULL;
    struct stat st;
    int fd = open_regular(real, &st);
    if (fd < 0)
        cxs_req_error(r, 404, "not_found", "no such endpoint or file");
    else if (strcmp(real + strlen(root), "/" WIDGET) == 0)
        serve_widget(r, web, fd, (size_t)st.st_size);
    else
        cxs_req_file(r, fd, (size_t)st.st_size, mime_of(real));
    free(real);
    free(path);
}
