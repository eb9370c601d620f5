/*
 * live_internal.h - what the readers of live pages share (import_live.c,
 * import_tgweb.c, import_feed.c, import_html.c). Private to import/.
 *
 * Facts that shaped it: both Telegram's web preview and feed items carry
 * their text as HTML, so one walk turns markup into text for both: white
 * space collapsed as a browser would, <br> and block elements as line
 * breaks, scripts and styles dropped, emoji images as their alt text, and
 * link targets kept aside (extra "links") when they are not the link's
 * own text.
 */
#ifndef CXS_LIVE_INTERNAL_H
#define CXS_LIVE_INTERNAL_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "import_internal.h"
#include "live.h"

/* The text being built from markup. */
typedef struct cxs_html_text {
    cxs_buf *b;
    json_t *links;  /* hrefs that differ from their text, or NULL */
    int pend_space; /* white space seen, written before the next word */
    int pend_nl;    /* line breaks owed before the next word (max 2) */
    /* Elements for which skip() is true are left out with their subtree
     * (e.g. the quoted text of a reply); NULL: none. */
    bool (*skip)(xmlNode *n);
} cxs_html_text;

/* Appends the text of n's children. */
void cxs_html_walk(cxs_html_text *h, xmlNode *n);

/* Appends the text of the HTML fragment s[0..n) (UTF-8). */
void cxs_html_fragment(cxs_html_text *h, const char *s, size_t n);

/* The trimmed text of n's children as a new string, NULL when empty. */
char *cxs_html_text_of(xmlNode *n, bool (*skip)(xmlNode *n));

/* Element tests and lookups on libxml2 trees. */
bool cxs_html_has_class(xmlNode *n, const char *cls);
bool cxs_html_is(xmlNode *n, const char *name);
/* First element below n (depth first, n excluded) with class cls, not
 * looking into elements for which stop() is true (stop may be NULL). */
xmlNode *cxs_html_find(xmlNode *n, const char *cls, bool (*stop)(xmlNode *n));
/* An attribute as a new string (free()), NULL when absent. */
char *cxs_html_attr(xmlNode *n, const char *name);

/* A Telegram post address https://t.me/NAME/ID (any host ending in t.me,
 * "/s/" allowed, query ignored): fills name (cap bytes) and *id. */
bool cxs_live_tme_post(const char *url, char *name, size_t cap, long long *id);

/* The readers. ctx: the sink and stats of cxs_import_emit. */
CXS_MUST_CHECK
cxs_status cxs_live_tgweb(cxs_import_ctx *cx, const char *data, size_t len,
                          const char *url, cxs_live_page *page, cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_live_feed(cxs_import_ctx *cx, const char *data, size_t len,
                         const char *url, cxs_live_page *page, cxs_err *err);

#endif /* CXS_LIVE_INTERNAL_H */
