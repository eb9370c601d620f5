/*
 * importer.h - turns source files into posts.
 *
 * Data flows one way: source file -> importer -> posts -> (caller) ->
 * analyzer -> index. Importers know formats, never the index: they hand
 * each finished post (cxs_post_finish already called) to a sink.
 *
 * Formats (auto-detected from name and content unless forced):
 *   jsonl      JSON Lines posts, the schema of post.h ("-" is stdin)
 *   text       plain text / Markdown / newsletter: one post per file
 *   tg-json    Telegram Desktop export result.json (one chat or the
 *              full-account export with chats.list)
 *   tg-html    Telegram Desktop HTML export folder (messages*.html)
 *   scraped    channel pages scraped from catalogue sites, saved as text
 *
 * Errors: a bad file or a bad line is not fatal to the run. It is reported
 * to opts->warn with the file and line, counted in stats, and skipped; the
 * import goes on. A sink error (e.g. the index failed) is fatal and stops
 * the run with that status.
 *
 * Thread-safety: an import run uses no shared state; separate runs may go
 * on in separate threads with separate sinks.
 */
#ifndef CXS_IMPORTER_H
#define CXS_IMPORTER_H

#include <stddef.h>

#include "cxs_err.h"
#include "post.h"

typedef enum cxs_format {
    CXS_FMT_AUTO = 0,
    CXS_FMT_JSONL,
    CXS_FMT_TEXT,
    CXS_FMT_TG_JSON,
    CXS_FMT_TG_HTML,
    CXS_FMT_SCRAPED
} cxs_format;

/* "auto", "jsonl", "text", "tg-json", "tg-html", "scraped". */
const char *cxs_format_name(cxs_format f);
/* Parses a format name; returns -1 for an unknown name. */
int cxs_format_from_name(const char *name);

typedef struct cxs_import_stats {
    size_t files_read;
    size_t files_skipped;
    size_t posts;               /* posts handed to the sink */
    size_t duplicates;          /* repeated copies collapsed */
    size_t boilerplate_dropped; /* ads, page chrome, pinned notices ... */
    size_t bad_lines;           /* lines/records skipped inside good files */
    size_t texts_cut;           /* post texts cut to the 1 MiB cap */
    unsigned long long bytes;   /* bytes of input read */
} cxs_import_stats;

/* Receives each post. The post is borrowed: the importer releases it after
 * the call. Return CXS_OK to go on; any other status stops the import and
 * is returned by cxs_import_path (err filled by the sink). */
typedef cxs_status (*cxs_post_sink)(void *ud, cxs_post *post, cxs_err *err);

/* Receives a warning about a skipped file or record: file, 1-based line
 * (0 when not applicable) and message. */
typedef void (*cxs_import_warn_fn)(void *ud, const char *file, long line,
                                   const char *msg);

typedef struct cxs_import_opts {
    cxs_format format;       /* CXS_FMT_AUTO to detect */
    cxs_import_warn_fn warn; /* may be NULL */
    void *warn_ud;
    /* Files larger than this are skipped as "not a source" (0: 256 MiB).
     * Keeps a 2 GB binary given by mistake from being read whole. JSON
     * Lines are exempt: streamed line by line, they can be any size. */
    unsigned long long max_file_bytes;
    /* Called after each file with running stats (progress bar); may be
     * NULL. */
    void (*progress)(void *ud, const char *file, const cxs_import_stats *stats);
    void *progress_ud;
    /* The channel's username (without '@') for Telegram exports, which
     * name a chat but not its username: ids become "<username>/<id>" and
     * urls https://t.me/<username>/<id>. NULL: use what the source says. */
    const char *channel;
} cxs_import_opts;

/* Imports a file, a folder (recursively, files in name order; a folder
 * holding messages*.html is one Telegram HTML export), or "-" (JSON Lines
 * on stdin). Adds to *stats (which the caller zeroes once per run).
 * Returns CXS_OK when the run went through, even if files were skipped
 * (see stats->files_skipped); a sink failure or an unreadable top-level
 * path is returned as an error. */
CXS_MUST_CHECK
cxs_status cxs_import_path(const char *path, const cxs_import_opts *opts,
                           cxs_post_sink sink, void *sink_ud,
                           cxs_import_stats *stats, cxs_err *err);

#endif /* CXS_IMPORTER_H */
