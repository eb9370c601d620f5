/*
 * live.h - pages of live sources read from memory into posts: Telegram's
 * public web preview of a channel (https://t.me/s/NAME, older posts at
 * ?before=ID) and RSS 2.0 / RSS 1.0 / Atom feeds.
 *
 * The follower (follow/) fetches a page and hands its bytes here; this
 * module knows markup, never the network or the index. The kind of a page
 * is recognised from what it holds (content type and bytes), not from its
 * address, so a test server on 127.0.0.1 serves the same pages as t.me.
 *
 * Identity: a Telegram post is "NAME/ID", the id a Telegram export
 * imported with --channel NAME gets, so following a channel after
 * importing its export duplicates nothing. A feed item is its t.me post
 * id when it links one (Telegram-to-RSS bridges), else its guid (or link)
 * when that is an absolute URL, else "<feed host>/<guid>": stable across
 * passes whatever the item's text becomes.
 *
 * Language is never taken from a feed's <language> (feeds often declare
 * the wrong one): posts leave lang unset and the index detects it from the
 * text. The encoding a feed declares is honoured (windows-1251 included);
 * an undeclared feed that is not UTF-8 is read as windows-1251 when its
 * high bytes come in runs (Cyrillic words) and as windows-1252 otherwise.
 *
 * Ownership: posts are handed to the sink finished (cxs_post_finish) and
 * borrowed for the call, as in importer.h; a cxs_live_page owns its
 * strings (cxs_live_page_release). Thread-safety: no shared state (libxml2
 * is initialised once by the caller's first parse, which libxml2 makes
 * safe). Errors: CXS_ERR_PARSE with a message saying what the page is
 * instead ("an HTML page titled ..., not a feed"), CXS_ERR_TOO_LARGE over
 * the size limit, or the sink's own status, which stops the parse.
 */
#ifndef CXS_LIVE_H
#define CXS_LIVE_H

#include <stddef.h>

#include "cxs_err.h"
#include "importer.h"

typedef enum cxs_live_kind {
    CXS_LIVE_UNKNOWN = 0,
    CXS_LIVE_TGWEB, /* a t.me/s/NAME page */
    CXS_LIVE_FEED   /* RSS or Atom */
} cxs_live_kind;

/* "unknown", "telegram", "feed". */
const char *cxs_live_kind_name(cxs_live_kind k);

typedef struct cxs_live_page {
    cxs_live_kind kind;
    char *channel; /* Telegram: NAME; feed: its title (else host); or NULL */
    char *title;   /* Telegram: the channel's title; feed: its title */
    long long min_id, max_id; /* Telegram: smallest and largest message id
                                 on the page, service messages included
                                 (0 when the page has none) */
    long long before;         /* Telegram: the page's "older posts" link
                                 (?before=N), 0 when the page has none (it holds
                                 the channel's first post) */
    size_t items;             /* messages or feed items seen */
    size_t posts;             /* posts handed to the sink */
    size_t no_text;           /* messages without text (photos without caption,
                                 service messages): not posts */
} cxs_live_page;

/* What the bytes are; content_type (may be NULL) is the server's. */
cxs_live_kind cxs_live_sniff(const char *data, size_t len,
                             const char *content_type);

/* Parses a page of either kind. url is the address it was fetched from
 * (feed ids of relative guids, messages); warn (may be NULL) hears about
 * skipped items. Fills *page (release it in every case). A page that is
 * neither kind, or a Telegram page without a message history, or a feed
 * that is not well-formed XML, fails with CXS_ERR_PARSE and a message
 * naming what it is; posts already handed to the sink stay handed. */
CXS_MUST_CHECK cxs_status cxs_live_parse(const char *data, size_t len,
                                         const char *content_type,
                                         const char *url, cxs_post_sink sink,
                                         void *sink_ud, cxs_import_warn_fn warn,
                                         void *warn_ud, cxs_live_page *page,
                                         cxs_err *err);

void cxs_live_page_release(cxs_live_page *page);

#endif /* CXS_LIVE_H */
