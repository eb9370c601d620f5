/*
 * follow.h - one pass over a live source: fetch what is new since the last
 * pass, page back through older posts up to a backfill budget, write the
 * posts through an index writer, and keep the source's state in the index.
 *
 * Sources: a public Telegram channel's web preview (https://t.me/s/NAME)
 * or an RSS/Atom feed, recognised from what the address serves
 * (import/live.h). Older Telegram pages are asked from the same base
 * address with ?before=ID, whatever host the page's own links name.
 *
 * State (index metadata "cxs.follow.<hash of the address>", JSON): for a
 * channel the range of ids known to be stored [low, high], a range being
 * filled after a gap, the backfill budget and whether the channel's start
 * was reached; for a feed its ETag and Last-Modified. Every page's posts
 * and the state that describes them are committed together, so a pass
 * killed at any moment resumes without gaps, and posts are keyed by id, so
 * nothing is stored twice.
 *
 * Edits: every post of the newest page (or of the feed) is written again;
 * the writer replaces a stored post whose content changed (an "edited"
 * mark, a new updated date, new text) and skips an unchanged one.
 *
 * Thread-safety: a pass uses the fetcher and the index given; with
 * opts->writer set, the index is taken from it for each write and given
 * back right after (the daemon shares its writer, under a mutex, with the
 * HTTP API), and fetching happens in between, holding nothing.
 * Errors: CXS_OK when the source was followed; otherwise the status and a
 * message naming the source and the cause (fetch, page, or index), and
 * whatever was committed before stays committed.
 */
#ifndef CXS_FOLLOW_H
#define CXS_FOLLOW_H

#include <stddef.h>

#include "cxs_err.h"
#include "fetch.h"
#include "importer.h"
#include "index.h"
#include "live.h"

/* Lends the index writer for one write (daemon: lock, open on demand). */
typedef struct cxs_follow_writer {
    cxs_status (*begin)(void *ud, cxs_index **ix, cxs_err *err);
    /* committed: a commit happened; failed: the writer should be dropped
     * (uncommitted changes discarded) */
    void (*end)(void *ud, int committed, int failed);
    void *ud;
} cxs_follow_writer;

typedef struct cxs_follow_opts {
    /* Posts (messages) to read per channel, counting back from the newest,
     * on the first pass and on later passes until reached or the channel's
     * start is; a larger value on a later pass extends it. Feeds hold what
     * they hold. */
    size_t backfill;
    size_t max_pages;                /* pages per source per pass; 0: 100 */
    const cxs_follow_writer *writer; /* NULL: use the ix given, as is */
    cxs_import_warn_fn warn; /* skipped items, recovered feeds; may be NULL */
    void *warn_ud;
} cxs_follow_opts;

typedef struct cxs_follow_report {
    cxs_live_kind kind;
    char channel[128];                /* Telegram NAME or the feed's title */
    size_t pages;                     /* pages fetched and parsed */
    int not_modified;                 /* a feed answered 304 */
    size_t added, updated, unchanged; /* posts written, by result */
    size_t no_text;                   /* messages or items without text */
    long long low, high;              /* channel: ids stored from .. to */
    size_t read;                      /* channel: messages read back so far */
    size_t backfill;                  /* channel: the budget */
    int history_start;                /* channel: its first post was reached */
    int gap_open;       /* channel: a gap after a long pause is being
                           filled and continues next pass */
    double retry_after; /* a 429 asked to come back after this long */
} cxs_follow_report;

/* Follows url for one pass with fetcher f, writing into ix (NULL when
 * opts->writer lends it). */
CXS_MUST_CHECK cxs_status cxs_follow_source(cxs_index *ix, cxs_fetcher *f,
                                            const char *url,
                                            const cxs_follow_opts *opts,
                                            cxs_follow_report *rep,
                                            cxs_err *err);

/* A one-line summary of a report ("telegram cxnotes: 20 new, 0 updated,
 * ..."), into buf. */
void cxs_follow_report_line(const cxs_follow_report *rep, char *buf,
                            size_t cap);

#endif /* CXS_FOLLOW_H */
