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
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes.h"

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

/* The real path of the file asked for, inside web_dir, or NULL. */
static char *resolve(const char *web, const char *rel) {
    char root[PATH_MAX], full[PATH_MAX];
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

void cxs_static_serve(cxs_req *r) {
    const char *web = r->snap->cfg->web_dir;
    size_t n;
    char *path = cxs_http_decode(r->raw_uri, r->path_len, 0, 1, &n);
    if (!path) {
        cxs_req_error(r, 400, "bad_path", "malformed %%-escape in path");
        return;
    }
    const char *rel = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    char *real = (web && safe_path(path, n)) ? resolve(web, rel) : NULL;
    int fd = real ? open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        cxs_req_error(r, 404, "not_found", "no such endpoint or file");
    else
        cxs_req_file(r, fd, (size_t)st.st_size, mime_of(real));
    free(real);
    free(path);
}
