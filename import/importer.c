/*
 * importer.c - the import run: format names, detection, folder walking,
 * file-size limits, warnings, stats and the hand-off of posts to the sink.
 * The formats themselves live in import_*.c.
 *
 * Facts that shaped it:
 * - Users point the indexer at whatever they have: a folder mixing JSON
 *   Lines, Markdown notes, a Telegram export (a folder of messages*.html
 *   pages with photos/ beside them) and scraped pages. Detection is by
 *   extension first, then by a look at the first bytes, so a run never
 *   reads a file twice in full.
 * - A bad file must not stop the run: every reader reports errors for its
 *   file, which is then warned about (file and line) and counted as
 *   skipped. Only the sink (the index) can stop a run.
 * - Walk order is name order (strcmp), so re-importing a folder emits the
 *   same posts in the same order.
 * - In a folder walk, files that are not sources (images, css, js, files
 *   without a known extension) are passed over silently; named on the
 *   command line they are warned about.
 */
#include "importer.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cxs_grow.h"
#include "import_internal.h"

#define DEFAULT_MAX_FILE (256ULL * 1024 * 1024)
#define SNIFF_BYTES 65536
#define MAX_DEPTH 32

static const char *const format_names[] = {"auto",    "jsonl",   "text",
                                           "tg-json", "tg-html", "scraped"};

const char *cxs_format_name(cxs_format f) {
    if ((unsigned)f < sizeof format_names / sizeof *format_names)
        return format_names[f];
    return "unknown";
}

int cxs_format_from_name(const char *name) {
    for (size_t i = 0; name && i < sizeof format_names / sizeof *format_names;
         i++)
        if (strcmp(name, format_names[i]) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------- helpers */

void cxs_import_warn(cxs_import_ctx *cx, const char *file, long line,
                     const char *fmt, ...) {
    if (!cx->opts || !cx->opts->warn)
        return;
    char msg[CXS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cx->opts->warn(cx->opts->warn_ud, file, line, msg);
}

size_t cxs_import_cap_text(cxs_import_ctx *cx, cxs_post *p, const char *file,
                           long line) {
    size_t n = p->text ? strlen(p->text) : 0;
    if (n <= CXS_IMPORT_MAX_TEXT)
        return n;
    size_t k = cxs_utf8_cut(p->text, n, CXS_IMPORT_MAX_TEXT);
    p->text[k] = '\0';
    cxs_import_warn(cx, file, line,
                    "text of %zu bytes cut to %zu at a character (limit %u)",
                    n, k, CXS_IMPORT_MAX_TEXT);
    cx->stats->texts_cut++;
    return k;
}

cxs_status cxs_import_emit(cxs_import_ctx *cx, cxs_post *p, cxs_err *err) {
    cxs_err perr = {0};
    cxs_import_cap_text(cx, p, p->source_file, p->source_line);
    if (cxs_post_finish(p, &perr) != CXS_OK) {
        cxs_import_warn(cx, p->source_file, p->source_line, "post skipped: %s",
                        perr.msg);
        cx->stats->bad_lines++;
        cxs_post_release(p);
        return CXS_OK;
    }
    cxs_status rc = cx->sink(cx->sink_ud, p, err);
    cxs_post_release(p);
    if (rc != CXS_OK) {
        cx->sink_failed = true;
        if (err && err->code == CXS_OK)
            cxs_err_set(err, rc, "sink failed (%s)", cxs_status_name(rc));
        return rc;
    }
    cx->stats->posts++;
    return CXS_OK;
}

cxs_status cxs_import_read_file(const char *path, unsigned long long max,
                                char **data, size_t *len, cxs_err *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cxs_err_set(err, CXS_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cxs_err_set(err, CXS_ERR_IO, "not a regular file");
    }
    if ((unsigned long long)st.st_size > max) {
        fclose(f);
        return cxs_err_set(err, CXS_ERR_TOO_LARGE,
                           "file of %lld bytes is over the %llu-byte limit",
                           (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(buf);
        return cxs_err_set(err, CXS_ERR_IO, "read error");
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return CXS_OK;
}

bool cxs_import_next_line(const char *data, size_t size, size_t *pos,
                          const char **line, size_t *len) {
    if (*pos >= size)
        return false;
    const char *s = data + *pos;
    const char *nl = memchr(s, '\n', size - *pos);
    size_t n = nl ? (size_t)(nl - s) : size - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    *line = s;
    *len = n;
    return true;
}

const char *cxs_import_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ----------------------------------------------------------- detection */

static const char *ext_of(const char *path) {
    const char *base = cxs_import_basename(path);
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

static bool ext_is(const char *path, const char *ext) {
    return strcasecmp(ext_of(path), ext) == 0;
}

/* messages.html, messagesN.html or index.html of an HTML export: returns
 * the page number (index.html and messages.html are page 1), or 0. */
static long tghtml_page_number(const char *path) {
    const char *b = cxs_import_basename(path);
    if (strcmp(b, "messages.html") == 0 || strcmp(b, "index.html") == 0)
        return 1;
    if (strncmp(b, "messages", 8) != 0)
        return 0;
    char *end;
    long n = strtol(b + 8, &end, 10);
    return n > 0 && strcmp(end, ".html") == 0 ? n : 0;
}

/* Reads up to SNIFF_BYTES of the file's head. */
static size_t sniff(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

static bool looks_tgjson(const char *head) {
    return strstr(head, "\"messages\"") || strstr(head, "\"chats\"");
}

static bool looks_tghtml(const char *head) {
    return strstr(head, "class=\"history\"") ||
           strstr(head, "class=\"message ") || strstr(head, "page_body");
}

/* Decides the format of one file from its name and first bytes;
 * CXS_FMT_AUTO when it is not a source. */
static cxs_format detect_file(const char *path, bool *known_ext) {
    *known_ext = true;
    if (ext_is(path, "jsonl") || ext_is(path, "ndjson"))
        return CXS_FMT_JSONL;
    char *buf = malloc(SNIFF_BYTES);
    if (!buf)
        return CXS_FMT_AUTO;
    size_t n = sniff(path, buf, SNIFF_BYTES);
    cxs_format f = CXS_FMT_AUTO;
    if (ext_is(path, "json")) {
        f = looks_tgjson(buf) ? CXS_FMT_TG_JSON : CXS_FMT_AUTO;
    } else if (ext_is(path, "html") || ext_is(path, "htm")) {
        f = tghtml_page_number(path) || looks_tghtml(buf) ? CXS_FMT_TG_HTML
                                                          : CXS_FMT_AUTO;
    } else if (ext_is(path, "txt") || ext_is(path, "md") ||
               ext_is(path, "markdown") || ext_is(path, "text")) {
        f = cxs_import_looks_scraped(buf, n) ? CXS_FMT_SCRAPED : CXS_FMT_TEXT;
    } else {
        *known_ext = false;
    }
    free(buf);
    return f;
}

/* ------------------------------------------------------------ the run */

static void progress(cxs_import_ctx *cx, const char *file) {
    if (cx->opts && cx->opts->progress)
        cx->opts->progress(cx->opts->progress_ud, file, cx->stats);
}

static unsigned long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

/* Accounts for one reader's result: warns about and counts a skipped
 * file, or counts a read one. Returns a status only for a sink failure. */
static cxs_status account(cxs_import_ctx *cx, const char *path, cxs_status rc,
                          const cxs_err *ferr, cxs_err *err,
                          unsigned long long bytes) {
    if (cx->sink_failed) {
        if (err)
            *err = *ferr;
        return rc != CXS_OK ? rc : CXS_ERR_INTERNAL;
    }
    cx->stats->bytes += bytes;
    if (rc != CXS_OK) {
        cxs_import_warn(cx, path, cx->err_line, "file skipped: %s", ferr->msg);
        cx->stats->files_skipped++;
    } else {
        cx->stats->files_read++;
    }
    cx->err_line = 0;
    progress(cx, path);
    return CXS_OK;
}

static cxs_status run_set(cxs_import_ctx *cx, cxs_format f, char **pages,
                          size_t n, cxs_err *err);

static cxs_status run_reader(cxs_import_ctx *cx, cxs_format f, const char *path,
                             cxs_err *err) {
    cxs_err ferr = {0};
    cxs_status rc;
    unsigned long long size = file_size(path);
    cx->err_line = 0;
    /* JSON Lines are streamed in bounded memory and given up after a run
     * of bad lines (import_jsonl.c): an export of millions of posts is
     * gigabytes and must not be refused. Other formats are read whole. */
    if (size > cx->max_bytes && f != CXS_FMT_JSONL) {
        rc = cxs_err_set(&ferr, CXS_ERR_TOO_LARGE,
                         "%llu bytes is over the %llu-byte limit for a "
                         "source file (not a source?)",
                         size, cx->max_bytes);
        return account(cx, path, rc, &ferr, err, 0);
    }
    char *one[1] = {(char *)path};
    if (f == CXS_FMT_TG_HTML || f == CXS_FMT_SCRAPED)
        return run_set(cx, f, one, 1, err);
    switch (f) {
    case CXS_FMT_JSONL: rc = cxs_import_jsonl_file(cx, path, &ferr); break;
    case CXS_FMT_TEXT: rc = cxs_import_text_file(cx, path, &ferr); break;
    case CXS_FMT_TG_JSON: rc = cxs_import_tgjson_file(cx, path, &ferr); break;
    default:
        rc = cxs_err_set(&ferr, CXS_ERR_PARSE,
                         "unknown layout (not JSON Lines, text, a Telegram "
                         "export or a scraped page)");
        break;
    }
    return account(cx, path, rc, &ferr, err, size);
}

/* ------------------------------------------------------ folder walking */

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static cxs_status names_add(name_list *l, const char *dir, const char *name) {
    cxs_status rc = CXS_GROW(l->v, l->cap, l->n + 1);
    if (rc != CXS_OK)
        return rc;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return CXS_ERR_NOMEM;
    snprintf(p, n, "%s%s%s", dir,
             !dir[0] || dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    l->v[l->n++] = p;
    return CXS_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_page(const void *a, const void *b) {
    long pa = tghtml_page_number(*(char *const *)a);
    long pb = tghtml_page_number(*(char *const *)b);
    if (pa != pb)
        return pa < pb ? -1 : 1;
    return cmp_str(a, b);
}

/* Lists a folder's entries (hidden ones left out) in name order. */
static cxs_status list_dir(const char *dir, name_list *files, name_list *dirs,
                           cxs_err *err) {
    DIR *d = opendir(dir);
    if (!d)
        return cxs_err_set(err, CXS_ERR_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    cxs_status rc = CXS_OK;
    while (rc == CXS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        name_list tmp = {0};
        if ((rc = names_add(&tmp, dir, e->d_name)) != CXS_OK)
            break;
        struct stat st;
        if (stat(tmp.v[0], &st) == 0 && S_ISDIR(st.st_mode))
            rc = names_add(dirs, dir, e->d_name);
        else if (stat(tmp.v[0], &st) == 0 && S_ISREG(st.st_mode))
            rc = names_add(files, dir, e->d_name);
        names_free(&tmp);
    }
    closedir(d);
    if (rc != CXS_OK)
        return cxs_err_set(err, rc, "out of memory");
    if (files->n > 1)
        qsort(files->v, files->n, sizeof *files->v, cmp_str);
    if (dirs->n > 1)
        qsort(dirs->v, dirs->n, sizeof *dirs->v, cmp_str);
    return CXS_OK;
}

/* Runs a reader of a set of pages (an HTML export, a folder of scraped
 * pages). Such readers count, warn about and skip bad pages themselves and
 * fail only when the sink fails or memory runs out. */
static cxs_status run_set(cxs_import_ctx *cx, cxs_format f, char **pages,
                          size_t n, cxs_err *err) {
    if (n == 0)
        return CXS_OK;
    unsigned long long bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += file_size(pages[i]);
    cxs_status rc = f == CXS_FMT_TG_HTML
                        ? cxs_import_tghtml_pages(cx, pages, n, err)
                        : cxs_import_scraped_files(cx, pages, n, err);
    cx->stats->bytes += bytes;
    progress(cx, pages[n - 1]);
    return rc;
}

static cxs_status walk(cxs_import_ctx *cx, const char *dir, int depth,
                       cxs_err *err);

/* Imports the files of one folder: Telegram HTML pages and scraped pages
 * as sets, everything else file by file. */
static cxs_status walk_files(cxs_import_ctx *cx, name_list *files,
                             cxs_err *err) {
    name_list html = {0}, scraped = {0};
    cxs_status rc = CXS_OK;
    cxs_format forced = cx->opts ? cx->opts->format : CXS_FMT_AUTO;
    for (size_t i = 0; rc == CXS_OK && i < files->n; i++) {
        const char *p = files->v[i];
        bool known;
        cxs_format f = detect_file(p, &known);
        if (forced != CXS_FMT_AUTO && known)
            f = forced; /* --format applies to source files only */
        if (f == CXS_FMT_TG_HTML)
            rc = tghtml_page_number(p) ? names_add(&html, "", p) : CXS_OK;
        else if (f == CXS_FMT_SCRAPED)
            rc = names_add(&scraped, "", p);
        else if (f != CXS_FMT_AUTO)
            rc = run_reader(cx, f, p, err);
        if (rc == CXS_ERR_NOMEM && !cx->sink_failed)
            cxs_err_set(err, rc, "out of memory");
    }
    if (rc == CXS_OK && html.n > 0) {
        qsort(html.v, html.n, sizeof *html.v, cmp_page);
        rc = run_set(cx, CXS_FMT_TG_HTML, html.v, html.n, err);
    }
    if (rc == CXS_OK)
        rc = run_set(cx, CXS_FMT_SCRAPED, scraped.v, scraped.n, err);
    names_free(&html);
    names_free(&scraped);
    return rc;
}

static cxs_status walk(cxs_import_ctx *cx, const char *dir, int depth,
                       cxs_err *err) {
    if (depth > MAX_DEPTH) {
        cxs_import_warn(cx, dir, 0, "folder skipped: nested too deep");
        return CXS_OK;
    }
    name_list files = {0}, dirs = {0};
    cxs_status rc = list_dir(dir, &files, &dirs, err);
    if (rc != CXS_OK) {
        names_free(&files);
        names_free(&dirs);
        if (depth == 0)
            return rc;
        cxs_import_warn(cx, dir, 0, "folder skipped: %s", err->msg);
        cxs_err_clear(err);
        return CXS_OK;
    }
    rc = walk_files(cx, &files, err);
    for (size_t i = 0; rc == CXS_OK && i < dirs.n; i++)
        rc = walk(cx, dirs.v[i], depth + 1, err);
    names_free(&files);
    names_free(&dirs);
    return rc;
}

/* ------------------------------------------------------------ entry */

static cxs_status import_stdin(cxs_import_ctx *cx, cxs_err *err) {
    cxs_err ferr = {0};
    cx->err_line = 0;
    cxs_status rc = cxs_import_jsonl_stream(cx, stdin, "-", &ferr);
    return account(cx, "-", rc, &ferr, err, 0);
}

static cxs_status import_one_file(cxs_import_ctx *cx, const char *path,
                                  cxs_err *err) {
    cxs_format f = cx->opts ? cx->opts->format : CXS_FMT_AUTO;
    bool known = true;
    if (f == CXS_FMT_AUTO)
        f = detect_file(path, &known);
    if (f == CXS_FMT_AUTO && !known) {
        /* Named explicitly but with an unknown extension: text files are
         * still welcome, anything else is reported. */
        char *buf = malloc(SNIFF_BYTES);
        size_t n = buf ? sniff(path, buf, SNIFF_BYTES) : 0;
        if (buf && n > 0 && !memchr(buf, '\0', n) &&
            cxs_utf8_valid_prefix(buf, n) + 4 >= n)
            f = cxs_import_looks_scraped(buf, n) ? CXS_FMT_SCRAPED
                                                 : CXS_FMT_TEXT;
        free(buf);
    }
    return run_reader(cx, f, path, err);
}

cxs_status cxs_import_path(const char *path, const cxs_import_opts *opts,
                           cxs_post_sink sink, void *sink_ud,
                           cxs_import_stats *stats, cxs_err *err) {
    if (!path || !sink || !stats)
        return cxs_err_set(err, CXS_ERR_INVALID, "import: missing argument");
    cxs_import_ctx cx = {opts,  sink, sink_ud, stats, DEFAULT_MAX_FILE,
                         false, 0};
    if (opts && opts->max_file_bytes)
        cx.max_bytes = opts->max_file_bytes;
    if (strcmp(path, "-") == 0)
        return import_stdin(&cx, err);
    struct stat st;
    if (stat(path, &st) != 0)
        return cxs_err_set(err,
                           errno == ENOENT ? CXS_ERR_NOT_FOUND : CXS_ERR_IO,
                           "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk(&cx, path, 0, err);
    if (!S_ISREG(st.st_mode))
        return cxs_err_set(err, CXS_ERR_INVALID, "%s: not a file or a folder",
                           path);
    return import_one_file(&cx, path, err);
}
