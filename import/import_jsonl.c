/*
 * import_jsonl.c - JSON Lines posts, the canonical import (the schema of
 * post.h, what `cxsearch dump` writes), from a file or standard input.
 *
 * Facts that shaped it:
 * - Dumps can be large, so the file is streamed through one buffer in big
 *   reads and split with memchr; each line is parsed once by jansson.
 * - A line is capped (CXS_IMPORT_MAX_LINE): an overlong line is skipped
 *   to its end, never buffered whole. A bad line is warned about with its
 *   number and skipped; the file goes on.
 * - A file that is not JSON Lines at all (a binary, an HTML page named
 *   .jsonl) would produce a warning per line: after MAX_BAD_START bad
 *   lines without a single good one the file is given up as a whole.
 * - A post that already carries "source" (a dump being re-imported) keeps
 *   it: it names the original file; otherwise source is this file + line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

#define CHUNK (1u << 20)
#define MAX_BAD_START 20

typedef struct line_reader {
    FILE *in;
    char *buf;
    size_t cap, start, end;
    bool eof;
    long lineno;
} line_reader;

/* Reads more input after compacting the buffer; false at end of input. */
static bool fill(line_reader *r) {
    if (r->eof)
        return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < CHUNK) {
        size_t cap = r->cap ? r->cap * 2 : 2 * CHUNK;
        if (cap > CXS_IMPORT_MAX_LINE + 2 * CHUNK)
            cap = CXS_IMPORT_MAX_LINE + 2 * CHUNK;
        if (cap > r->cap) {
            char *b = realloc(r->buf, cap);
            if (!b)
                return false;
            r->buf = b;
            r->cap = cap;
        }
    }
    if (r->cap == r->end)
        return false;
    size_t n = fread(r->buf + r->end, 1, r->cap - r->end, r->in);
    if (n == 0)
        r->eof = true;
    r->end += n;
    return n > 0;
}

typedef enum { LINE_OK, LINE_LONG, LINE_END } line_kind;

/* Next line in *s, *n (without the newline). An overlong line is consumed
 * and reported as LINE_LONG. */
static line_kind next_line(line_reader *r, const char **s, size_t *n) {
    bool skipping = false;
    for (;;) {
        char *p = r->buf + r->start;
        char *nl =
            r->end > r->start ? memchr(p, '\n', r->end - r->start) : NULL;
        if (nl) {
            r->lineno++;
            *s = p;
            *n = (size_t)(nl - p);
            r->start += *n + 1;
            if (*n > 0 && p[*n - 1] == '\r')
                (*n)--;
            return skipping ? LINE_LONG : LINE_OK;
        }
        if (r->end - r->start > CXS_IMPORT_MAX_LINE) {
            skipping = true; /* drop what we have; look for the end */
            r->start = r->end;
        }
        if (!fill(r)) {
            if (r->end == r->start)
                return skipping ? (r->lineno++, LINE_LONG) : LINE_END;
            r->lineno++;
            *s = r->buf + r->start;
            *n = r->end - r->start;
            r->start = r->end;
            return skipping ? LINE_LONG : LINE_OK;
        }
    }
}

/* Parses one line into a post and emits it. Returns CXS_ERR_PARSE (with
 * the reason warned) for a bad line, or the sink's failure. */
static cxs_status one_line(cxs_import_ctx *cx, const char *name, long lineno,
                           const char *s, size_t n, cxs_err *err) {
    json_error_t jerr;
    json_t *j = json_loadb(s, n, 0, &jerr);
    if (!j) {
        cxs_import_warn(cx, name, lineno, "bad JSON at column %d: %s",
                        jerr.column, jerr.text);
        return CXS_ERR_PARSE;
    }
    cxs_post p = CXS_POST_INIT;
    cxs_err perr = {0};
    cxs_status rc = cxs_post_from_json(j, &p, &perr);
    json_decref(j);
    if (rc != CXS_OK) {
        cxs_import_warn(cx, name, lineno, "bad post: %s", perr.msg);
        return CXS_ERR_PARSE;
    }
    if (!p.source_file && !p.source_line) {
        if (cxs_post_set(&p.source_file, name, strlen(name)) != CXS_OK) {
            cxs_post_release(&p);
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        }
        p.source_line = lineno;
    }
    cxs_import_cap_text(cx, &p, name, lineno);
    return cxs_import_emit(cx, &p, err);
}

cxs_status cxs_import_jsonl_stream(cxs_import_ctx *cx, FILE *in,
                                   const char *name, cxs_err *err) {
    line_reader r = {in, NULL, 0, 0, 0, false, 0};
    size_t good = 0, bad = 0;
    const char *s;
    size_t n;
    line_kind k;
    cxs_status rc = CXS_OK;
    if (fill(&r) && memchr(r.buf, '\0', r.end < 4096 ? r.end : 4096))
        return free(r.buf), cxs_err_set(err, CXS_ERR_PARSE,
                                        "binary data (NUL bytes), not JSON "
                                        "Lines");
    while ((k = next_line(&r, &s, &n)) != LINE_END) {
        if (k == LINE_LONG) {
            cxs_import_warn(cx, name, r.lineno,
                            "line longer than %u bytes skipped",
                            CXS_IMPORT_MAX_LINE);
            bad++;
            cx->stats->bad_lines++;
            continue;
        }
        if (cxs_utf8_blank(s, n))
            continue;
        rc = one_line(cx, name, r.lineno, s, n, err);
        if (rc == CXS_ERR_PARSE) {
            bad++;
            cx->stats->bad_lines++;
            rc = CXS_OK;
            if (good == 0 && bad >= MAX_BAD_START) {
                cx->err_line = r.lineno;
                rc = cxs_err_set(err, CXS_ERR_PARSE,
                                 "not JSON Lines: the first %d records are "
                                 "all bad",
                                 MAX_BAD_START);
                break;
            }
        } else if (rc != CXS_OK) {
            break;
        } else {
            good++;
        }
    }
    if (rc == CXS_OK && ferror(in))
        rc = cxs_err_set(err, CXS_ERR_IO, "read error: %s", strerror(errno));
    if (rc == CXS_OK && !r.buf && !r.eof)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    free(r.buf);
    return rc;
}

cxs_status cxs_import_jsonl_file(cxs_import_ctx *cx, const char *path,
                                 cxs_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return cxs_err_set(err, CXS_ERR_IO, "cannot open: %s", strerror(errno));
    cxs_status rc = cxs_import_jsonl_stream(cx, f, path, err);
    fclose(f);
    return rc;
}
