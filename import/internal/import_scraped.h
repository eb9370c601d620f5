/*
 * import_scraped.h - what the four files of the scraped-page reader share
 * (import_scraped*.c); private to import/.
 *
 * The reader runs in four steps, one file each: lines are classified
 * (import_scraped_lines.c), the lines of each page become posts
 * (import_scraped_posts.c), posts are cleaned across the page set:
 * repeats collapsed, boilerplate paragraphs dropped, duplicates merged
 * (import_scraped_clean.c), and the survivors are emitted
 * (import_scraped.c, which also holds the entry point). The rules are told
 * at the top of import_scraped.c and in docs/importing.md.
 *
 * Memory: a scrape owns its pages, posts and spans; spans point into the
 * pages' data. Not thread-safe: one scrape, one thread. Errors: cxs_status.
 */
#ifndef CXS_IMPORT_SCRAPED_H
#define CXS_IMPORT_SCRAPED_H

#include <stdbool.h>
#include <stddef.h>

#include "import_internal.h"

typedef struct span {
    const char *s;
    size_t n;
} span;

typedef struct spost {
    size_t page;
    long line_no;
    span *ls;
    size_t nl, capl;
    char *date_text;
    char date[11];
    json_t *reactions, *poll;
    char *slug;
    long msgid;
    bool media, dropped;
} spost;

typedef struct page {
    const char *path;
    char *data;
    size_t len;
    char *title, *slug, *desc;
    long title_msgid; /* from a "<NAME> Telegram <n>" page title */
    char *title_slug;
} page;

typedef struct scrape {
    cxs_import_ctx *cx;
    page *pages;
    size_t npages;
    spost *posts;
    size_t nposts, capposts;
    span *nonpost; /* lines of headers and recommended blocks */
    size_t nnon, capnon;
} scrape;

/* ---- line kinds (import_scraped_lines.c) ---- */

enum kind {
    K_TEXT,
    K_BLANK,
    K_TIME,
    K_LASTUPD,
    K_REACT,
    K_VIEW,
    K_CHROME,
    K_MEDIA,
    K_PINNED,
    K_POLL,
    K_URL,
    K_RECO,
    K_FOOTER,
    K_BY,
    K_STAMP,
    K_LABEL
};

/* The kind of one line of a page. */
enum kind cxs_scraped_classify(const char *s, size_t n);

/* Whether s[0..n) equals the ASCII literal lit, ignoring case. */
bool cxs_scraped_eq_ci(const char *s, size_t n, const char *lit);

/* Reads a reaction line ("🔥28❤8") into out (emoji -> count). */
bool cxs_scraped_reactions(const char *s, size_t n, json_t *out);

/* Reads a post URL line host/<slug>/<n>: slug (cap bytes) and *msgid. */
bool cxs_scraped_post_url(const char *s, size_t n, char *slug, size_t cap,
                          long *msgid);

/* Length of the channel title of a "<title> pinned «...»" line, or 0. */
size_t cxs_scraped_pinned_title(const char *s, size_t n);

/* Whether s[0..n) is a poll option's share ("42%"). */
bool cxs_scraped_is_percent(const char *s, size_t n);

/* ---- posts from lines (import_scraped_posts.c) ---- */

/* Whether a post has any text line left. */
bool cxs_scraped_has_text(const spost *p);

/* Turns page pi's lines into posts appended to sc->posts. */
CXS_MUST_CHECK cxs_status cxs_scraped_parse_page(scrape *sc, size_t pi);

/* ---- cleaning across the page set (import_scraped_clean.c) ---- */

/* Collapses a post printed twice, drops previews and merges repeats. */
CXS_MUST_CHECK cxs_status cxs_scraped_collapse(scrape *sc);

/* Removes paragraphs found in two or more posts or outside posts. */
CXS_MUST_CHECK cxs_status cxs_scraped_drop_boilerplate(scrape *sc);

/* Drops a post whose text another post of the set already holds. */
CXS_MUST_CHECK cxs_status cxs_scraped_dedupe(scrape *sc);

/* Gives posts without a URL the id that the page title names. */
void cxs_scraped_page_ids(scrape *sc);

#endif /* CXS_IMPORT_SCRAPED_H */
