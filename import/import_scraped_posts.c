/*
 * import_scraped_posts.c - the lines of one page become posts: a relative time
 * opens a post, reactions or VIEW IN TELEGRAM close it, URL lines give ids,
 * polls become posts of their own, headers and recommended blocks are kept
 * aside as non-post text (see import_scraped.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cxs_grow.h"
#include "import_scraped.h"

/* ------------------------------------------------------ building posts */

typedef struct pstate {
    scrape *sc;
    size_t page;
    long cur, last;
    char *pending_date;
    enum { M_POSTS, M_HEADER, M_RECO, M_FOOTER } mode;
    bool in_desc;
} pstate;

static cxs_status add_span(span **v, size_t *n, size_t *cap, const char *s,
                           size_t len) {
    cxs_status rc = CXS_GROW(*v, *cap, *n + 1);
    if (rc != CXS_OK)
        return rc;
    (*v)[(*n)++] = (span){s, len};
    return CXS_OK;
}

bool cxs_scraped_has_text(const spost *p) {
    for (size_t i = 0; i < p->nl; i++)
        if (p->ls[i].n > 0)
            return true;
    return false;
}

static long new_post(pstate *ps, long line_no) {
    scrape *sc = ps->sc;
    if (CXS_GROW(sc->posts, sc->capposts, sc->nposts + 1) != CXS_OK)
        return -1;
    spost *p = &sc->posts[sc->nposts];
    memset(p, 0, sizeof *p);
    p->page = ps->page;
    p->line_no = line_no;
    p->date_text = ps->pending_date;
    ps->pending_date = NULL;
    return (long)sc->nposts++;
}

static void close_cur(pstate *ps) {
    if (ps->cur >= 0)
        ps->last = ps->cur;
    ps->cur = -1;
}

static cxs_status ensure_cur(pstate *ps, long line_no) {
    if (ps->cur >= 0)
        return CXS_OK;
    ps->cur = new_post(ps, line_no);
    return ps->cur >= 0 ? CXS_OK : CXS_ERR_NOMEM;
}

static spost *P(pstate *ps, long i) {
    return i >= 0 ? &ps->sc->posts[i] : NULL;
}

/* Reaction line: numbers on the post it closes (or the one just closed
 * by VIEW IN TELEGRAM). */
static void on_react(pstate *ps, const char *s, size_t n) {
    spost *c = P(ps, ps->cur), *l = P(ps, ps->last);
    spost *t = c && (cxs_scraped_has_text(c) || c->media) ? c
               : l && !l->reactions                       ? l
                                                          : NULL;
    if (t) {
        if (!t->reactions)
            t->reactions = json_object();
        if (t->reactions)
            cxs_scraped_reactions(s, n, t->reactions);
    }
    close_cur(ps);
}

static void on_url(pstate *ps, const char *s, size_t n) {
    char slug[128];
    long id;
    if (!cxs_scraped_post_url(s, n, slug, sizeof slug, &id))
        return;
    page *pg = &ps->sc->pages[ps->page];
    if (!pg->slug)
        pg->slug = cxs_strndup(slug, strlen(slug));
    spost *c = P(ps, ps->cur), *l = P(ps, ps->last);
    spost *t = c && cxs_scraped_has_text(c) && !c->slug ? c
               : l && !l->slug                          ? l
                                                        : NULL;
    if (t) {
        t->slug = cxs_strndup(slug, strlen(slug));
        t->msgid = id;
    }
}

static void on_stamp(pstate *ps, const char *s, size_t n) {
    char d[11];
    spost *c = P(ps, ps->cur), *l = P(ps, ps->last);
    spost *t = c ? c : l;
    if (t && !t->date[0] && cxs_import_find_date(s, n, d))
        memcpy(t->date, d, 11);
}

static void set_title(page *pg, const char *s, size_t n) {
    if (!pg->title && n > 0)
        pg->title = cxs_strndup(s, n);
}

/* "Anonymous Poll": the question is the line before, options follow as
 * "NN%" / text pairs. Returns the index of the last line consumed. */
static size_t on_poll(pstate *ps, span *lines, size_t nlines, size_t i,
                      const char *kind, size_t kn) {
    const char *q = NULL;
    size_t qn = 0;
    spost *c = P(ps, ps->cur);
    while (c && c->nl > 0 && c->ls[c->nl - 1].n == 0)
        c->nl--;
    if (c && c->nl > 0) {
        q = c->ls[c->nl - 1].s;
        qn = c->ls[c->nl - 1].n;
        c->nl--;
    }
    close_cur(ps);
    long pi = new_post(ps, (long)i);
    if (pi < 0)
        return i;
    json_t *opts = json_array();
    size_t j = i + 1;
    for (;;) {
        size_t a = j;
        while (a < nlines && lines[a].n == 0)
            a++;
        if (a >= nlines || !cxs_scraped_is_percent(lines[a].s, lines[a].n))
            break;
        size_t b = a + 1;
        while (b < nlines && lines[b].n == 0)
            b++;
        if (b >= nlines ||
            cxs_scraped_classify(lines[b].s, lines[b].n) != K_TEXT)
            break;
        json_array_append_new(opts, json_pack("{s:s%, s:s%}", "text",
                                              lines[b].s, lines[b].n, "percent",
                                              lines[a].s, lines[a].n));
        j = b + 1;
    }
    spost *p = P(ps, pi);
    p->poll = json_pack("{s:s%, s:s%, s:o}", "question", q ? q : "", q ? qn : 0,
                        "kind", kind, kn, "options", opts);
    ps->cur = pi;
    close_cur(ps);
    return j - 1;
}

/* "<NAME> Telegram <n>" as the first line: a single-post page's title. */
static bool page_title_line(page *pg, const char *s, size_t n) {
    const char *t = NULL;
    for (size_t i = 0; i + 10 <= n; i++)
        if (memcmp(s + i, " Telegram ", 10) == 0)
            t = s + i;
    if (!t || t == s)
        return false;
    long v = 0;
    const char *d = t + 10;
    for (; d < s + n; d++) {
        if (*d < '0' || *d > '9' || v > 100000000)
            return false;
        v = v * 10 + (*d - '0');
    }
    char slug[128];
    size_t l = (size_t)(t - s);
    if (v == 0 || l >= sizeof slug)
        return false;
    for (size_t i = 0; i < l; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
        slug[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    slug[l] = '\0';
    pg->title_slug = cxs_strndup(slug, l);
    pg->title_msgid = v;
    return true;
}

static cxs_status nonpost(pstate *ps, const char *s, size_t n) {
    scrape *sc = ps->sc;
    return add_span(&sc->nonpost, &sc->nnon, &sc->capnon, s, n);
}

/* Header: "<title>", "Description", description lines, "Advertising". */
static cxs_status header_line(pstate *ps, enum kind k, const char *s,
                              size_t n) {
    page *pg = &ps->sc->pages[ps->page];
    if (k == K_LABEL) {
        ps->in_desc = cxs_scraped_eq_ci(s, n, "Description");
        return CXS_OK;
    }
    if (k == K_RECO) {
        ps->mode = M_RECO;
        ps->sc->cx->stats->boilerplate_dropped++;
        return CXS_OK;
    }
    if (k != K_TEXT)
        return CXS_OK;
    if (ps->in_desc && !pg->desc) {
        pg->desc = cxs_strndup(s, n);
        return CXS_OK;
    }
    return nonpost(ps, s, n);
}

/* A copy with no-break spaces as plain ones ("1 month ago"). */
static char *plain_spaces(const char *s, size_t n) {
    char *out = malloc(n + 1);
    size_t m = 0;
    for (size_t i = 0; out && i < n; i++) {
        if (i + 1 < n && (unsigned char)s[i] == 0xC2 &&
            (unsigned char)s[i + 1] == 0xA0)
            out[m++] = ' ', i++;
        else
            out[m++] = s[i];
    }
    if (out)
        out[m] = '\0';
    return out;
}

/* One line of a page in the posts part. Returns the last line index
 * consumed (polls read ahead). */
static size_t post_line(pstate *ps, span *lines, size_t nlines, size_t i,
                        enum kind k, const char *s, size_t n, cxs_status *rc) {
    page *pg = &ps->sc->pages[ps->page];
    cxs_import_stats *st = ps->sc->cx->stats;
    switch (k) {
    case K_TEXT:
        if ((*rc = ensure_cur(ps, (long)i + 1)) == CXS_OK)
            *rc = add_span(&P(ps, ps->cur)->ls, &P(ps, ps->cur)->nl,
                           &P(ps, ps->cur)->capl, lines[i].s, lines[i].n);
        break;
    case K_BLANK:
        if (ps->cur >= 0)
            *rc = add_span(&P(ps, ps->cur)->ls, &P(ps, ps->cur)->nl,
                           &P(ps, ps->cur)->capl, s, 0);
        break;
    case K_TIME:
        close_cur(ps);
        free(ps->pending_date);
        ps->pending_date = plain_spaces(s, n);
        break;
    case K_REACT: on_react(ps, s, n); break;
    case K_VIEW: close_cur(ps); break;
    case K_MEDIA:
        close_cur(ps);
        if ((*rc = ensure_cur(ps, (long)i + 1)) == CXS_OK)
            P(ps, ps->cur)->media = true;
        break;
    case K_URL: on_url(ps, s, n); break;
    case K_STAMP: on_stamp(ps, s, n); break;
    case K_POLL: return on_poll(ps, lines, nlines, i, s, n);
    case K_BY:
        set_title(pg, s + 3, n - 3);
        close_cur(ps);
        break;
    case K_PINNED:
        set_title(pg, s, cxs_scraped_pinned_title(s, n));
        close_cur(ps);
        st->boilerplate_dropped++;
        break;
    case K_RECO:
    case K_FOOTER:
        close_cur(ps);
        ps->mode = k == K_RECO ? M_RECO : M_FOOTER;
        st->boilerplate_dropped++;
        break;
    case K_CHROME:
    case K_LASTUPD:
    case K_LABEL: st->boilerplate_dropped++; break;
    }
    return i;
}

/* Splits a page into lines (trailing white space cut). */
static cxs_status page_lines(page *pg, span **lines, size_t *n) {
    size_t cap = 0, pos = 0;
    const char *l;
    size_t len;
    *lines = NULL;
    *n = 0;
    while (cxs_import_next_line(pg->data, pg->len, &pos, &l, &len)) {
        size_t m = len;
        const char *t = cxs_utf8_trim(l, &m);
        if (m == 0)
            len = 0;
        else
            len = (size_t)(t + m - l);
        if (add_span(lines, n, &cap, l, len) != CXS_OK)
            return CXS_ERR_NOMEM;
    }
    return CXS_OK;
}

/* A header exists when the second non-blank line is "Description". */
static bool has_header(span *lines, size_t n, size_t *first) {
    size_t seen = 0;
    for (size_t i = 0; i < n && seen < 2; i++) {
        if (lines[i].n == 0)
            continue;
        size_t m = lines[i].n;
        const char *t = cxs_utf8_trim(lines[i].s, &m);
        if (seen == 0)
            *first = i;
        else
            return cxs_scraped_eq_ci(t, m, "Description");
        seen++;
    }
    return false;
}

cxs_status cxs_scraped_parse_page(scrape *sc, size_t pi) {
    page *pg = &sc->pages[pi];
    span *lines;
    size_t n, first = 0;
    cxs_status rc = page_lines(pg, &lines, &n);
    pstate ps = {sc, pi, -1, -1, NULL, M_POSTS, false};
    size_t i = 0;
    if (rc == CXS_OK && has_header(lines, n, &first)) {
        ps.mode = M_HEADER;
        set_title(pg, lines[first].s, lines[first].n);
        i = first + 1;
    } else if (rc == CXS_OK) {
        while (i < n && lines[i].n == 0)
            i++;
        if (i < n && page_title_line(pg, lines[i].s, lines[i].n))
            i++;
    }
    for (; rc == CXS_OK && i < n; i++) {
        size_t m = lines[i].n;
        const char *t = cxs_utf8_trim(lines[i].s, &m);
        enum kind k = cxs_scraped_classify(t, m);
        if (ps.mode == M_FOOTER)
            continue;
        if ((ps.mode == M_HEADER || ps.mode == M_RECO) && k == K_TIME)
            ps.mode = M_POSTS;
        if (ps.mode == M_HEADER)
            rc = header_line(&ps, k, t, m);
        else if (ps.mode == M_RECO)
            rc = k == K_TEXT    ? nonpost(&ps, t, m)
                 : k == K_BLANK ? nonpost(&ps, t, 0)
                                : CXS_OK;
        else
            i = post_line(&ps, lines, n, i, k, t, m, &rc);
    }
    if (rc == CXS_OK)
        rc = nonpost(&ps, "", 0); /* a paragraph break between pages */
    free(ps.pending_date);
    free(lines);
    return rc;
}
