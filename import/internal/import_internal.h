/*
 * import_internal.h - helpers shared by post.c and the importers
 * (importer.c, import_*.c). Private to index/: nothing here is a contract
 * for the rest of cxsearch.
 *
 * Facts that shaped it: every source is untrusted bytes (a scraped page, a
 * half-written export, a binary given by mistake), so UTF-8 is validated
 * before any string reaches jansson (json_string rejects invalid UTF-8) and
 * lines are read with a hard cap so that a file without newlines cannot
 * make us allocate without bound.
 *
 * Thread-safety: no shared state.
 */
#ifndef CXS_IMPORT_INTERNAL_H
#define CXS_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cxs_buf.h"
#include "cxs_utf8.h"
#include "cxs_err.h"
#include "importer.h"
#include "post.h"

/* Longest line or record an importer accepts (16 MiB). */
#define CXS_IMPORT_MAX_LINE (16u * 1024u * 1024u)
/* Longest post text kept (1 MiB); longer texts are cut at a character
 * by cxs_import_cap_text, the one rule every importer follows. Readers
 * build a text whole (it is bounded by the file, already in memory) and
 * leave the cut to that rule, so that no reader drops a piece of a text
 * its own way. */
#define CXS_IMPORT_MAX_TEXT (1u * 1024u * 1024u)

/* ---- text helpers (implemented in importer.c) ---- */

/* Whole file into memory (NUL-terminated); refuses files over max bytes
 * with CXS_ERR_TOO_LARGE. *len gets the size. */
CXS_MUST_CHECK
cxs_status cxs_import_read_file(const char *path, unsigned long long max,
                                char **data, size_t *len, cxs_err *err);

/* Line iteration over a buffer: sets *line, *len (without "\r\n" / "\n")
 * and advances *pos; returns false at the end. */
bool cxs_import_next_line(const char *data, size_t size, size_t *pos,
                          const char **line, size_t *len);

/* Base name of a path (pointer into path). */
const char *cxs_import_basename(const char *path);

/* Context handed to every format reader: options, sink, stats, and the
 * file being read. */
typedef struct cxs_import_ctx {
    const cxs_import_opts *opts;
    cxs_post_sink sink;
    void *sink_ud;
    cxs_import_stats *stats;
    unsigned long long max_bytes;
    bool sink_failed; /* set by cxs_import_emit: stop the run */
    long err_line;    /* a failing reader's line, for the warning */
} cxs_import_ctx;

/* Reports a warning through opts->warn (printf-style). */
void cxs_import_warn(cxs_import_ctx *cx, const char *file, long line,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The text cap: a p->text over CXS_IMPORT_MAX_TEXT bytes is cut to at
 * most that many at a character boundary, warned about naming file and
 * line, and counted in stats->texts_cut. Returns the text's length
 * (0 for no text). cxs_import_emit applies it with the post's source;
 * a reader that knows a better place (JSON Lines: its own line, as a
 * re-imported dump names the original file) calls it first. */
size_t cxs_import_cap_text(cxs_import_ctx *cx, cxs_post *p, const char *file,
                           long line);

/* Finishes a post (cxs_post_finish), hands it to the sink, counts it and
 * releases it. Its text is capped first (cxs_import_cap_text). A post
 * that fails cxs_post_finish is warned about and skipped (CXS_OK); only
 * a sink failure is returned. */
CXS_MUST_CHECK
cxs_status cxs_import_emit(cxs_import_ctx *cx, cxs_post *p, cxs_err *err);

/* ---- format readers: each imports one file (or folder for tg-html).
 * A bad file returns CXS_ERR_PARSE / CXS_ERR_TOO_LARGE / CXS_ERR_IO with
 * err filled, and the caller warns and counts it as skipped; posts
 * emitted before the failure stay emitted. A sink failure is returned as
 * it is. ---- */
CXS_MUST_CHECK
cxs_status cxs_import_jsonl_file(cxs_import_ctx *cx, const char *path,
                                 cxs_err *err);
CXS_MUST_CHECK cxs_status cxs_import_jsonl_stream(cxs_import_ctx *cx, FILE *in,
                                   const char *name, cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_import_text_file(cxs_import_ctx *cx, const char *path,
                                cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_import_tgjson_file(cxs_import_ctx *cx, const char *path,
                                  cxs_err *err);
/* Readers of page sets count each page in stats (files_read or, with a
 * warning, files_skipped) and return an error only for a sink failure or
 * out of memory. paths: the export's pages, already in page order. */
CXS_MUST_CHECK
cxs_status cxs_import_tghtml_pages(cxs_import_ctx *cx, char **paths,
                                   size_t npaths, cxs_err *err);
/* A run of scraped pages: boilerplate is detected across all of them, so
 * a folder of pages is read as a set. */
CXS_MUST_CHECK
cxs_status cxs_import_scraped_files(cxs_import_ctx *cx, char **paths,
                                    size_t npaths, cxs_err *err);

/* Finds a calendar date in s[0..n) ("2021-07-14", "14.07.2021",
 * "14 luglio 2021", "July 14, 2021", "14 июля 2021") and writes it as
 * "YYYY-MM-DD" into out. (import_text.c) */
bool cxs_import_find_date(const char *s, size_t n, char out[11]);

/* Copies a text file's bytes into out as valid UTF-8: a BOM is dropped;
 * a few invalid bytes are replaced with U+FFFD (warned about once, with
 * the line of the first); NUL bytes or over 5% invalid bytes mean "not
 * text" (CXS_ERR_PARSE, cx->err_line set). (import_text.c) */
CXS_MUST_CHECK
cxs_status cxs_import_clean_text(cxs_import_ctx *cx, const char *path,
                                 const char *data, size_t len, cxs_buf *out,
                                 cxs_err *err);

/* Sniffers (content already read; name for the extension). */
bool cxs_import_looks_scraped(const char *data, size_t len);

#endif /* CXS_IMPORT_INTERNAL_H */
