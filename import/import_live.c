/*
 * import_live.c - the entry to the live readers (live.h): what a fetched
 * page is, and which reader takes it.
 *
 * Facts that shaped it: the kind comes from the bytes, not the address
 * (any base address works, a test server included), and a server says
 * little that can be trusted: feeds come as text/xml, application/xml,
 * application/rss+xml or text/html; error pages come with 200. So the
 * bytes decide: an XML prolog or an <rss>/<feed>/<rdf:RDF> root is a
 * feed; t.me's channel-history markup is a Telegram page; anything else is
 * refused with a description of what it is (an HTML page's title, JSON,
 * binary), which is what the user needs to fix the address.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "live_internal.h"

const char *cxs_live_kind_name(cxs_live_kind k) {
    switch (k) {
    case CXS_LIVE_TGWEB: return "telegram";
    case CXS_LIVE_FEED: return "feed";
    default: return "unknown";
    }
}

/* Skips a BOM, white space and XML comments at the start. */
static size_t skip_lead(const char *s, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    for (;;) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i + 4 <= n && !memcmp(s + i, "<!--", 4)) {
            const char *e = memmem(s + i, n - i, "-->", 3);
            if (!e)
                return n;
            i = (size_t)(e - s) + 3;
            continue;
        }
        return i;
    }
}

static bool starts_ci(const char *s, size_t n, const char *w) {
    size_t k = strlen(w);
    return n >= k && strncasecmp(s, w, k) == 0;
}

cxs_live_kind cxs_live_sniff(const char *data, size_t len,
                             const char *content_type) {
    (void)content_type; /* servers mislabel both ways: the bytes decide */
    size_t i = skip_lead(data, len);
    const char *s = data + i;
    size_t n = len - i;
    if (starts_ci(s, n, "<?xml") || starts_ci(s, n, "<rss") ||
        starts_ci(s, n, "<feed") || starts_ci(s, n, "<rdf:RDF"))
        return CXS_LIVE_FEED;
    if (memmem(data, len, "tgme_channel_history", 20) ||
        memmem(data, len, "tgme_widget_message", 19))
        return CXS_LIVE_TGWEB;
    return CXS_LIVE_UNKNOWN;
}

/* What an unknown page is, for the error message. */
static cxs_status refuse(const char *data, size_t len, cxs_err *err) {
    size_t i = skip_lead(data, len);
    const char *s = data + i;
    size_t n = len - i;
    if (n == 0)
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "empty page: neither a feed "
                           "nor a Telegram channel page");
    const char *t = memmem(data, len < 65536 ? len : 65536, "<title", 6);
    const char *gt = t ? memchr(t, '>', (size_t)(data + len - t)) : NULL;
    const char *end =
        gt ? memmem(gt, (size_t)(data + len - gt), "</", 2) : NULL;
    if (gt && end) {
        size_t tn = (size_t)(end - gt - 1);
        const char *tt = cxs_utf8_trim(gt + 1, &tn);
        tn = cxs_utf8_cut(tt, tn, 120);
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "an HTML page titled \"%.*s\", not a feed or a "
                           "Telegram channel page",
                           (int)tn, tt);
    }
    if (starts_ci(s, n, "<!doctype html") || starts_ci(s, n, "<html"))
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "an HTML page, not a feed or a Telegram channel "
                           "page");
    if (s[0] == '{' || s[0] == '[')
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "JSON, not a feed or a Telegram channel page");
    size_t k = cxs_utf8_valid_prefix(s, n < 40 ? n : 40);
    if (memchr(s, '\0', n < 512 ? n : 512) || k == 0)
        return cxs_err_set(
            err, CXS_ERR_PARSE,
            "binary data, not a feed or a Telegram channel page");
    for (size_t j = 0; j < k; j++)
        if (s[j] == '\n' || s[j] == '\r')
            k = j;
    return cxs_err_set(err, CXS_ERR_PARSE,
                       "neither a feed nor a Telegram channel page (starts "
                       "with \"%.*s\")",
                       (int)k, s);
}

/* The importer's context for cxs_import_emit, without a file. */
typedef struct live_opts {
    cxs_import_opts opts;
    cxs_import_stats stats;
} live_opts;

cxs_status cxs_live_parse(const char *data, size_t len,
                          const char *content_type, const char *url,
                          cxs_post_sink sink, void *sink_ud,
                          cxs_import_warn_fn warn, void *warn_ud,
                          cxs_live_page *page, cxs_err *err) {
    memset(page, 0, sizeof *page);
    if (!data || !sink)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "live parse: missing argument");
    live_opts lo = {0};
    lo.opts.warn = warn;
    lo.opts.warn_ud = warn_ud;
    cxs_import_ctx cx = {&lo.opts, sink, sink_ud, &lo.stats, len, false, 0};
    switch (cxs_live_sniff(data, len, content_type)) {
    case CXS_LIVE_TGWEB: return cxs_live_tgweb(&cx, data, len, url, page, err);
    case CXS_LIVE_FEED: return cxs_live_feed(&cx, data, len, url, page, err);
    default: return refuse(data, len, err);
    }
}

void cxs_live_page_release(cxs_live_page *page) {
    if (!page)
        return;
    free(page->channel);
    free(page->title);
    memset(page, 0, sizeof *page);
}
