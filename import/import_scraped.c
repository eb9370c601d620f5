/*
 * import_scraped.c - channel pages scraped from catalogue and mirror sites
 * and saved as text: a channel header, then posts separated by relative
 * times ("2 months, 1 week ago"), reaction lines ("🔥28❤8") and "VIEW IN
 * TELEGRAM" markers, mixed with ads, recommended channels, filler news
 * and page chrome.
 *
 * The rules are general, not a list of the seed files' sentences
 * (docs/importing.md tells them in full):
 * - Line kinds: relative-time lines split posts (the last of a run dates
 *   the next post); reaction lines and VIEW IN TELEGRAM close a post
 *   (reactions become numbers in extra "reactions", never text); a URL
 *   line host/<channel>/<n> gives the post's id and url; "<title> pinned
 *   «...»" notices are dropped (they quote another post) and name the
 *   channel; "Anonymous Poll"-style markers turn the line before them and
 *   the "NN%" / option pairs after them into a poll post of its own.
 * - Page chrome (fixed phrases of catalogue sites: view-in-Telegram, media
 *   not supported, share, open in Telegram, "Last updated" cards) is
 *   dropped; "We recommend to visit" opens a recommended-channels block
 *   that lasts until the next post; "Telegram News" opens the filler
 *   footer that lasts to the end of the page.
 * - Repeats: a post printed twice (the second copy may lack its first
 *   lines, its emoji, or text after an emoji) is collapsed to its first
 *   copy; a preview line that repeats the post's first line is dropped; a
 *   post repeating the previous one is merged into it; a paragraph found
 *   in two or more posts of the page set, or in the pages' non-post
 *   regions, is boilerplate and removed (posts left empty are dropped).
 * - Identity: "<channel>/<n>" from a post URL, else the text hash with the
 *   channel (the slug when the page shows one, else its title).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cxs_grow.h"
#include "import_internal.h"

#define MAX_COLLAPSE_LINES 2000
#define MIN_BOILER_CHARS 40

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

/* ------------------------------------------------------ line kinds */

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

static bool eq_ci(const char *s, size_t n, const char *lit) {
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

static bool starts_ci(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return n >= l && strncasecmp(s, lit, l) == 0;
}

static bool is_unit(const char *w, size_t n) {
    static const char *const units[] = {
        "second", "minute", "hour", "day",  "week",  "month", "year", "секунд",
        "минут",  "час",    "дн",   "день", "недел", "месяц", "год",  "лет"};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t l = strlen(units[i]);
        if (n >= l && strncasecmp(w, units[i], l) == 0 && n <= l + 4)
            return true;
    }
    return false;
}

/* "3 weeks ago", "1 month, 3 weeks ago", "2 месяца назад", "just now". */
static bool is_time(const char *s, size_t n) {
    if (eq_ci(s, n, "just now") || eq_ci(s, n, "yesterday"))
        return true;
    size_t tail;
    if (n > 4 && strncasecmp(s + n - 4, " ago", 4) == 0)
        tail = 4;
    else if (n > 11 && memcmp(s + n - 11, " назад", 11) == 0)
        tail = 11;
    else
        return false;
    size_t i = 0, end = n - tail, units = 0;
    while (i < end) {
        size_t j = i;
        if (s[i] >= '0' && s[i] <= '9') {
            while (j < end && s[j] >= '0' && s[j] <= '9')
                j++;
        } else if (starts_ci(s + i, end - i, "an ")) {
            j = i + 2;
        } else if (starts_ci(s + i, end - i, "a ")) {
            j = i + 1;
        } else {
            return false;
        }
        while (j < end && s[j] == ' ')
            j++;
        size_t w = j;
        while (w < end && s[w] != ' ' && s[w] != ',')
            w++;
        if (!is_unit(s + j, w - j))
            return false;
        units++;
        i = w;
        while (i < end && (s[i] == ',' || s[i] == ' '))
            i++;
    }
    return units > 0;
}

/* A run of non-word, non-digit, non-space code points (an emoji with its
 * modifiers) followed by a count ("12", "1.2K"), one or more times. */
static bool parse_reactions(const char *s, size_t n, json_t *out) {
    size_t i = 0, pairs = 0;
    while (i < n) {
        size_t e = i;
        while (e < n) {
            unsigned cp;
            size_t k = cxs_utf8_decode(s + e, n - e, &cp);
            if ((cp >= '0' && cp <= '9') || cp == ' ' || cp == '\t' ||
                (cxs_utf8_is_word(cp) && cp != 0x200D) || cp == 0xFFFD)
                break;
            e += k;
        }
        if (e == i || e >= n || s[e] < '0' || s[e] > '9')
            return false;
        size_t d = e;
        double v = 0;
        while (d < n && s[d] >= '0' && s[d] <= '9')
            v = v * 10 + (s[d++] - '0');
        if (d + 1 < n && (s[d] == '.' || s[d] == ',') && s[d + 1] >= '0' &&
            s[d + 1] <= '9' && d + 2 <= n) {
            double f = 0.1;
            for (d++; d < n && s[d] >= '0' && s[d] <= '9'; d++, f /= 10)
                v += (s[d] - '0') * f;
        }
        if (d < n && (s[d] == 'K' || s[d] == 'k'))
            v *= 1000, d++;
        else if (d < n && s[d] == 'M')
            v *= 1000000, d++;
        if (out) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(e - i), s + i);
            json_int_t old = json_integer_value(json_object_get(out, key));
            json_object_set_new(out, key, json_integer(old + (json_int_t)v));
        }
        pairs++;
        i = d;
    }
    return pairs > 0;
}

/* host/<slug>/<n> alone on a line (tgoop.com/cxlogic/485, https://t.me/..).
 * Fills slug and msgid when given. */
static bool parse_post_url(const char *s, size_t n, char *slug, size_t cap,
                           long *msgid) {
    if (starts_ci(s, n, "https://"))
        s += 8, n -= 8;
    else if (starts_ci(s, n, "http://"))
        s += 7, n -= 7;
    const char *a = memchr(s, '/', n);
    if (!a || !memchr(s, '.', (size_t)(a - s)) || memchr(s, ' ', n))
        return false;
    const char *b = memchr(a + 1, '/', n - (size_t)(a + 1 - s));
    if (!b || b - a - 1 < 3 || (slug && (size_t)(b - a - 1) >= cap))
        return false;
    for (const char *p = a + 1; p < b; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    const char *d = b + 1, *end = s + n;
    if (d == end)
        return false;
    long v = 0;
    for (; d < end; d++) {
        if (*d < '0' || *d > '9' || v > 100000000)
            return false;
        v = v * 10 + (*d - '0');
    }
    if (slug) {
        size_t l = (size_t)(b - a - 1);
        for (size_t i = 0; i < l; i++) {
            char c = a[1 + i];
            slug[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        }
        slug[l] = '\0';
        *msgid = v;
    }
    return true;
}

/* "<title> pinned «...»": returns the title's length, or 0. */
static size_t pinned_title(const char *s, size_t n) {
    static const char *const marks[] = {" pinned «", " pinned \"", " pinned “",
                                        " pinned a ", " pinned an "};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        size_t l = strlen(marks[i]);
        for (size_t j = 1; j + l <= n; j++)
            if (memcmp(s + j, marks[i], l) == 0)
                return j;
    }
    return 0;
}

static bool is_percent(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0 || i > 3)
        return false;
    if (i < n && (s[i] == '.' || s[i] == ','))
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    while (i < n && s[i] == ' ')
        i++;
    return i + 1 == n && s[i] == '%';
}

static enum kind classify_plain(const char *s, size_t n);

/* Pages put no-break spaces inside "1 month" and elsewhere: short lines
 * are classified with them turned into plain spaces. */
static enum kind classify(const char *s, size_t n) {
    char tmp[256];
    if (n >= sizeof tmp || !memmem(s, n, "\xC2\xA0", 2))
        return classify_plain(s, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && (unsigned char)s[i] == 0xC2 &&
            (unsigned char)s[i + 1] == 0xA0) {
            tmp[m++] = ' ';
            i++;
        } else {
            tmp[m++] = s[i];
        }
    }
    return classify_plain(tmp, m);
}

static enum kind classify_plain(const char *s, size_t n) {
    static const char *const chrome[] = {
        "Please open Telegram to view this post",
        "Share with your friend now:",
        "View MORE",
        "Open in Telegram",
        "Description",
        "Advertising",
        "Date: |",
        "Last Update:",
        "Create:",
        "Join Channel",
        "Subscribe"};
    static const char *const polls[] = {"Anonymous Poll", "Public Poll",
                                        "Anonymous Quiz", "Quiz", "Poll"};
    if (n == 0)
        return K_BLANK;
    if (is_time(s, n))
        return K_TIME;
    if (starts_ci(s, n, "Last updated ") && is_time(s + 13, n - 13))
        return K_LASTUPD;
    if (eq_ci(s, n, "VIEW IN TELEGRAM"))
        return K_VIEW;
    if (eq_ci(s, n, "This media is not supported in your browser"))
        return K_MEDIA;
    if (eq_ci(s, n, "We recommend to visit"))
        return K_RECO;
    if (eq_ci(s, n, "Telegram News"))
        return K_FOOTER;
    for (size_t i = 0; i < sizeof chrome / sizeof *chrome; i++)
        if (eq_ci(s, n, chrome[i]))
            return i == 4 || i == 5 ? K_LABEL : K_CHROME;
    if (starts_ci(s, n, "Create: ") || starts_ci(s, n, "Last Update: "))
        return K_STAMP;
    for (size_t i = 0; i < sizeof polls / sizeof *polls; i++)
        if (eq_ci(s, n, polls[i]))
            return K_POLL;
    if (n > 3 && strncmp(s, "BY ", 3) == 0)
        return K_BY;
    if (parse_post_url(s, n, NULL, 0, NULL))
        return K_URL;
    if (pinned_title(s, n))
        return K_PINNED;
    if (!memchr(s, ' ', n) && parse_reactions(s, n, NULL))
        return K_REACT;
    return K_TEXT;
}

bool cxs_import_looks_scraped(const char *data, size_t len) {
    size_t pos = 0, score = 0, lines = 0;
    const char *l;
    size_t n;
    while (lines++ < 4000 && cxs_import_next_line(data, len, &pos, &l, &n)) {
        l = cxs_utf8_trim(l, &n);
        if (n == 0 || n > 200)
            continue;
        switch (classify(l, n)) {
        case K_TIME:
        case K_REACT:
        case K_VIEW:
        case K_LASTUPD:
        case K_RECO:
        case K_URL:
        case K_MEDIA:
        case K_FOOTER: score++; break;
        default: break;
        }
        if (score >= 3)
            return true;
    }
    return false;
}

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

static bool has_text(const spost *p) {
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
    spost *t = c && (has_text(c) || c->media) ? c
               : l && !l->reactions           ? l
                                              : NULL;
    if (t) {
        if (!t->reactions)
            t->reactions = json_object();
        if (t->reactions)
            parse_reactions(s, n, t->reactions);
    }
    close_cur(ps);
}

static void on_url(pstate *ps, const char *s, size_t n) {
    char slug[128];
    long id;
    if (!parse_post_url(s, n, slug, sizeof slug, &id))
        return;
    page *pg = &ps->sc->pages[ps->page];
    if (!pg->slug)
        pg->slug = cxs_strndup(slug, strlen(slug));
    spost *c = P(ps, ps->cur), *l = P(ps, ps->last);
    spost *t = c && has_text(c) && !c->slug ? c : l && !l->slug ? l : NULL;
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
        if (a >= nlines || !is_percent(lines[a].s, lines[a].n))
            break;
        size_t b = a + 1;
        while (b < nlines && lines[b].n == 0)
            b++;
        if (b >= nlines || classify(lines[b].s, lines[b].n) != K_TEXT)
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
        ps->in_desc = eq_ci(s, n, "Description");
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
        set_title(pg, s, pinned_title(s, n));
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
            return eq_ci(t, m, "Description");
        seen++;
    }
    return false;
}

static cxs_status parse_page(scrape *sc, size_t pi) {
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
        enum kind k = classify(t, m);
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

/* ------------------------------------------------------------ cleaning */

/* A line reduced for comparison: letters, digits and plain punctuation
 * kept, emoji, markup (*_`~) and ellipses dropped, spaces collapsed. */
static char *norm_line(const char *s, size_t n) {
    cxs_buf b;
    cxs_buf_init(&b, 0);
    bool space = false;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += cxs_utf8_decode(s + i, n - i, &cp);
        bool keep = cxs_utf8_is_word(cp) ||
                    (cp > ' ' && cp < 0x7F && !strchr("*_`~", (int)cp)) ||
                    cp == 0xAB || cp == 0xBB || cp == 0x2014 || cp == 0x2013;
        if (cp == ' ' || cp == '\t' || cp == 0xA0) {
            space = b.len > 0;
            continue;
        }
        if (!keep)
            continue;
        if (space)
            cxs_buf_appendc(&b, ' ');
        space = false;
        cxs_utf8_append_cp(&b, cp);
    }
    while (b.len >= 3 && memcmp(b.data + b.len - 3, "...", 3) == 0)
        b.len -= 3;
    while (b.len > 0 && b.data[b.len - 1] == ' ')
        b.len--;
    if (b.data)
        b.data[b.len] = '\0';
    return cxs_buf_detach(&b);
}

/* b (from a second copy) matches a: equal, or a prefix of a. */
static bool line_match(const char *a, const char *b) {
    size_t nb = strlen(b);
    return nb > 0 && strncmp(a, b, nb) == 0;
}

typedef struct nlines {
    size_t *idx; /* index in post->ls of each non-blank line */
    char **norm; /* its normalized form */
    size_t n;
} nlines;

static void nl_free(nlines *v) {
    for (size_t i = 0; i < v->n; i++)
        free(v->norm[i]);
    free(v->norm);
    free(v->idx);
    memset(v, 0, sizeof *v);
}

static bool nl_build(const spost *p, nlines *v) {
    memset(v, 0, sizeof *v);
    v->idx = malloc((p->nl + 1) * sizeof *v->idx);
    v->norm = malloc((p->nl + 1) * sizeof *v->norm);
    if (!v->idx || !v->norm)
        return false;
    for (size_t i = 0; i < p->nl; i++) {
        if (p->ls[i].n == 0)
            continue;
        v->idx[v->n] = i;
        v->norm[v->n] = norm_line(p->ls[i].s, p->ls[i].n);
        if (!v->norm[v->n])
            return false;
        v->n++;
    }
    return true;
}

/* Is L[k..n) a degraded copy of L[0..k)? It must start within the first
 * lines of the copy, keep its order, and end on its last line. */
static bool second_copy_at(char **L, size_t n, size_t k) {
    if (!line_match(L[k - 1], L[n - 1]))
        return false;
    size_t j = k;
    while (j < n && !L[j][0])
        j++;
    size_t i = 0;
    while (j < n && i < k && i <= 3 && !line_match(L[i], L[j]))
        i++;
    if (j >= n || i >= k || i > 3)
        return false;
    size_t chars = strlen(L[j]), lines = 1;
    if (j == n - 1)
        return k - 1 <= 3 && chars >= 20;
    for (j++; j < n - 1; j++) {
        if (!L[j][0])
            continue;
        for (i++; i < k - 1 && !line_match(L[i], L[j]); i++)
            ;
        if (i >= k - 1)
            return false;
        chars += strlen(L[j]);
        lines++;
    }
    return i < k - 1;
}

/* Collapses a post printed twice to its first copy. */
static bool collapse_copy(spost *p, const nlines *v) {
    if (v->n < 2 || v->n > MAX_COLLAPSE_LINES)
        return false;
    for (size_t k = 1; k < v->n; k++) {
        if (second_copy_at(v->norm, v->n, k)) {
            p->nl = v->idx[k - 1] + 1;
            return true;
        }
    }
    return false;
}

/* A preview line ("**Title …**") before the line it previews. */
static bool drop_preview(spost *p, const nlines *v) {
    if (v->n < 2)
        return false;
    const span *l0 = &p->ls[v->idx[0]];
    bool marked = l0->n > 0 && (l0->s[0] == '*' || l0->s[0] == '_');
    bool cut = (l0->n >= 3 && memcmp(l0->s + l0->n - 3, "…", 3) == 0) ||
               (l0->n >= 5 && memcmp(l0->s + l0->n - 5, "…**", 5) == 0);
    const char *a = v->norm[0], *b = v->norm[1];
    size_t na = strlen(a);
    if (na < 5 ||
        !(strcmp(a, b) == 0 || ((marked || cut) && strncmp(b, a, na) == 0)))
        return false;
    for (size_t i = 0; i <= v->idx[0]; i++)
        p->ls[i].n = 0;
    return true;
}

/* Does post b repeat post a (its lines, in order, as a's)? */
static bool repeats(const nlines *a, const nlines *b) {
    if (b->n == 0 || a->n == 0)
        return false;
    size_t i = 0, ca = 0, cb = 0;
    for (size_t x = 0; x < a->n; x++)
        ca += strlen(a->norm[x]);
    for (size_t j = 0; j < b->n; j++) {
        if (!b->norm[j][0])
            continue;
        while (i < a->n && !line_match(a->norm[i], b->norm[j]))
            i++;
        if (i++ >= a->n)
            return false;
        cb += strlen(b->norm[j]);
    }
    return cb * 2 >= ca;
}

static void merge_into(spost *a, spost *b) {
    if (!a->reactions && b->reactions) {
        a->reactions = b->reactions;
        b->reactions = NULL;
    }
    if (!a->slug && b->slug) {
        a->slug = b->slug;
        a->msgid = b->msgid;
        b->slug = NULL;
    }
    if (!a->date[0])
        memcpy(a->date, b->date, sizeof a->date);
    b->dropped = true;
}

static bool same_url(const spost *a, const spost *b) {
    return !b->slug ||
           (a->slug && strcmp(a->slug, b->slug) == 0 && a->msgid == b->msgid);
}

/* Within-post repeats, then a post repeating the previous one. */
static cxs_status collapse_all(scrape *sc) {
    nlines prev = {0};
    size_t prev_page = (size_t)-1;
    long prev_i = -1;
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        nlines v;
        if (p->poll || !has_text(p))
            continue;
        if (!nl_build(p, &v)) {
            nl_free(&v);
            nl_free(&prev);
            return CXS_ERR_NOMEM;
        }
        bool changed = false;
        if (collapse_copy(p, &v))
            sc->cx->stats->duplicates++, changed = true;
        if (drop_preview(p, &v))
            sc->cx->stats->duplicates++, changed = true;
        if (changed) {
            nl_free(&v);
            if (!nl_build(p, &v)) {
                nl_free(&v);
                nl_free(&prev);
                return CXS_ERR_NOMEM;
            }
        }
        if (prev_i >= 0 && prev_page == p->page &&
            same_url(&sc->posts[prev_i], p) && repeats(&prev, &v)) {
            merge_into(&sc->posts[prev_i], p);
            sc->cx->stats->duplicates++;
            nl_free(&v);
            continue;
        }
        nl_free(&prev);
        prev = v;
        prev_i = (long)i;
        prev_page = p->page;
    }
    nl_free(&prev);
    return CXS_OK;
}

/* ------------------------------------------------- paragraphs and keys */

typedef struct ptable {
    unsigned long long *hash;
    long *last;                /* last post counted */
    size_t *count;             /* distinct posts holding the paragraph */
    unsigned char *used, *non; /* slot taken; seen in a non-post region */
    size_t cap;
} ptable;

/* A table for n keys, at most half full. */
static cxs_status pt_init(ptable *t, size_t n) {
    memset(t, 0, sizeof *t);
    t->cap = 64;
    while (t->cap < n * 2)
        t->cap *= 2;
    t->hash = calloc(t->cap, sizeof *t->hash);
    t->last = calloc(t->cap, sizeof *t->last);
    t->count = calloc(t->cap, sizeof *t->count);
    t->used = calloc(t->cap, 1);
    t->non = calloc(t->cap, 1);
    return t->hash && t->last && t->count && t->used && t->non
               ? CXS_OK
               : CXS_ERR_NOMEM;
}

static void pt_release(ptable *t) {
    free(t->hash);
    free(t->last);
    free(t->count);
    free(t->used);
    free(t->non);
    memset(t, 0, sizeof *t);
}

static size_t pt_slot(const ptable *t, unsigned long long h) {
    size_t i = (size_t)(h ^ (h >> 29)) & (t->cap - 1);
    while (t->used[i] && t->hash[i] != h)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* Counts a paragraph once per post (post -1: a non-post region). */
static void pt_add(ptable *t, unsigned long long h, long post) {
    size_t i = pt_slot(t, h);
    if (!t->used[i]) {
        t->used[i] = 1;
        t->hash[i] = h;
        t->last[i] = -1;
    }
    if (post < 0) {
        t->non[i] = 1;
    } else if (t->last[i] != post) {
        t->last[i] = post;
        t->count[i]++;
    }
}

/* Walks the paragraphs (runs of non-blank lines) of a span list. */
typedef void (*para_fn)(void *ud, span *v, size_t from, size_t to,
                        unsigned long long h, size_t chars);

static void each_para(span *v, size_t n, para_fn fn, void *ud) {
    cxs_buf b;
    cxs_buf_init(&b, 0);
    for (size_t i = 0; i < n;) {
        while (i < n && v[i].n == 0)
            i++;
        size_t j = i;
        cxs_buf_reset(&b);
        while (j < n && v[j].n > 0) {
            cxs_buf_append(&b, v[j].s, v[j].n);
            cxs_buf_appendc(&b, '\n');
            j++;
        }
        /* out of memory: the paragraph is not counted, as if unseen */
        if (j > i && b.data && cxs_buf_status(&b) == CXS_OK)
            fn(ud, v, i, j, cxs_post_text_hash(b.data, b.len), b.len);
        i = j;
    }
    cxs_buf_release(&b);
}

typedef struct para_ud {
    ptable *t;
    long post;
    scrape *sc;
} para_ud;

static void count_para(void *ud, span *v, size_t from, size_t to,
                       unsigned long long h, size_t chars) {
    (void)v, (void)from, (void)to, (void)chars;
    para_ud *u = ud;
    pt_add(u->t, h, u->post);
}

static void drop_para(void *ud, span *v, size_t from, size_t to,
                      unsigned long long h, size_t chars) {
    para_ud *u = ud;
    size_t i = pt_slot(u->t, h);
    bool non = u->t->non[i] && chars >= 20;
    bool rep = u->t->count[i] >= 2 && chars >= MIN_BOILER_CHARS;
    if (!non && !rep)
        return;
    for (size_t k = from; k < to; k++)
        v[k].n = 0;
    u->sc->cx->stats->boilerplate_dropped++;
}

/* Removes paragraphs found in two or more posts or in non-post regions. */
static cxs_status drop_boilerplate(scrape *sc) {
    size_t lines = sc->nnon;
    for (size_t i = 0; i < sc->nposts; i++)
        lines += sc->posts[i].nl;
    ptable t;
    cxs_status rc = pt_init(&t, lines);
    para_ud u = {&t, -1, sc};
    if (rc == CXS_OK)
        each_para(sc->nonpost, sc->nnon, count_para, &u);
    for (size_t i = 0; rc == CXS_OK && i < sc->nposts; i++) {
        u.post = (long)i;
        if (!sc->posts[i].dropped)
            each_para(sc->posts[i].ls, sc->posts[i].nl, count_para, &u);
    }
    for (size_t i = 0; rc == CXS_OK && i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        if (p->dropped || !has_text(p))
            continue;
        each_para(p->ls, p->nl, drop_para, &u);
        if (!has_text(p) && !p->poll)
            p->dropped = true;
    }
    pt_release(&t);
    return rc;
}

/* The same post reached twice in the set (two pages showing it): the
 * later copy is dropped. Keyed by channel/number, else by text. */
static cxs_status dedupe(scrape *sc) {
    ptable t;
    cxs_status rc = pt_init(&t, sc->nposts);
    cxs_buf b;
    cxs_buf_init(&b, 0);
    for (size_t i = 0; rc == CXS_OK && i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        if (p->dropped || (!has_text(p) && !p->poll))
            continue;
        cxs_buf_reset(&b);
        if (p->slug)
            cxs_buf_appendf(&b, "%s/%ld", p->slug, p->msgid);
        for (size_t k = 0; !p->slug && k < p->nl; k++) {
            cxs_buf_append(&b, p->ls[k].s, p->ls[k].n);
            cxs_buf_appendc(&b, '\n');
        }
        if (p->poll && !p->slug) {
            char *q = json_dumps(p->poll, JSON_SORT_KEYS);
            if (q)
                cxs_buf_appends(&b, q);
            free(q);
        }
        if ((rc = cxs_buf_status(&b)) != CXS_OK)
            break;
        if (!b.data)
            continue;
        unsigned long long h = cxs_post_text_hash(b.data, b.len);
        size_t s = pt_slot(&t, h);
        if (t.used[s]) {
            p->dropped = true;
            sc->cx->stats->duplicates++;
            continue;
        }
        t.used[s] = 1;
        t.hash[s] = h;
    }
    cxs_buf_release(&b);
    pt_release(&t);
    return rc;
}

/* A single-post page ("NAME Telegram 485") names its post's number. */
static void page_ids(scrape *sc) {
    for (size_t pi = 0; pi < sc->npages; pi++) {
        page *pg = &sc->pages[pi];
        long only = -1;
        size_t live = 0;
        for (size_t i = 0; i < sc->nposts; i++) {
            spost *p = &sc->posts[i];
            if (p->page == pi && !p->dropped && (has_text(p) || p->poll))
                live++, only = (long)i;
        }
        if (pg->title_slug && live == 1 && !sc->posts[only].slug) {
            sc->posts[only].slug =
                cxs_strndup(pg->title_slug, strlen(pg->title_slug));
            sc->posts[only].msgid = pg->title_msgid;
        }
    }
}

/* ------------------------------------------------------------ emitting */

/* The post's text, built whole (the cap is cxs_import_emit's): poll
 * first, then its lines, paragraphs kept. */
static cxs_status post_text(const spost *p, cxs_post *q) {
    cxs_buf b;
    cxs_buf_init(&b, 0);
    if (p->poll) {
        cxs_buf_appends(
            &b, json_string_value(json_object_get(p->poll, "question")));
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(p->poll, "options"), i, o)
            cxs_buf_appendf(&b, "\n- %s",
                            json_string_value(json_object_get(o, "text")));
    }
    bool blank = false;
    for (size_t i = 0; i < p->nl; i++) {
        if (p->ls[i].n == 0) {
            blank = b.len > 0;
            continue;
        }
        if (b.len > 0)
            cxs_buf_appends(&b, blank ? "\n\n" : "\n");
        blank = false;
        cxs_buf_append(&b, p->ls[i].s, p->ls[i].n);
    }
    cxs_status rc = cxs_buf_status(&b);
    q->text = cxs_buf_detach(&b);
    return rc != CXS_OK ? rc : q->text ? CXS_OK : CXS_ERR_NOMEM;
}

static cxs_status set_s(char **f, const char *s) {
    return s ? cxs_post_set(f, s, strlen(s)) : CXS_OK;
}

static cxs_status fill_post(const scrape *sc, const spost *p, cxs_post *q) {
    const page *pg = &sc->pages[p->page];
    const char *chan = p->slug     ? p->slug
                       : pg->slug  ? pg->slug
                       : pg->title ? pg->title
                                   : pg->title_slug;
    char buf[256];
    cxs_status rc = post_text(p, q);
    if (rc == CXS_OK)
        rc = set_s(&q->channel, chan);
    if (rc == CXS_OK && p->slug) {
        snprintf(buf, sizeof buf, "%s/%ld", p->slug, p->msgid);
        rc = set_s(&q->id, buf);
        snprintf(buf, sizeof buf, "https://t.me/%s/%ld", p->slug, p->msgid);
        if (rc == CXS_OK)
            rc = set_s(&q->url, buf);
    }
    if (rc == CXS_OK && p->date[0])
        rc = set_s(&q->date, p->date);
    if (rc == CXS_OK)
        rc = set_s(&q->source_file, pg->path);
    q->source_line = p->line_no;
    if (rc == CXS_OK && !(q->extra = json_object()))
        rc = CXS_ERR_NOMEM;
    if (rc != CXS_OK)
        return rc;
    if (p->date_text)
        json_object_set_new(q->extra, "date_text", json_string(p->date_text));
    if (p->reactions && json_object_size(p->reactions))
        json_object_set(q->extra, "reactions", p->reactions);
    if (p->poll)
        json_object_set(q->extra, "poll", p->poll);
    if (pg->title && chan != pg->title)
        json_object_set_new(q->extra, "channel_title", json_string(pg->title));
    if (p->media)
        json_object_set_new(q->extra, "media", json_string("media"));
    return CXS_OK;
}

static cxs_status emit_all(scrape *sc, cxs_err *err) {
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        if (p->dropped || (!has_text(p) && !p->poll))
            continue;
        cxs_post q = CXS_POST_INIT;
        cxs_status rc = fill_post(sc, p, &q);
        if (rc != CXS_OK) {
            cxs_post_release(&q);
            return cxs_err_set(err, rc, "out of memory");
        }
        if ((rc = cxs_import_emit(sc->cx, &q, err)) != CXS_OK)
            return rc;
    }
    return CXS_OK;
}

/* ------------------------------------------------------------- entry */

static void load_page(scrape *sc, size_t i, const char *path) {
    page *pg = &sc->pages[i];
    pg->path = path;
    char *raw;
    size_t len;
    cxs_err e = {0};
    cxs_buf b;
    cxs_buf_init(&b, 0);
    sc->cx->err_line = 0;
    cxs_status rc =
        cxs_import_read_file(path, sc->cx->max_bytes, &raw, &len, &e);
    if (rc == CXS_OK) {
        rc = cxs_import_clean_text(sc->cx, path, raw, len, &b, &e);
        free(raw);
    }
    if (rc != CXS_OK) {
        cxs_import_warn(sc->cx, path, sc->cx->err_line, "file skipped: %s",
                        e.msg);
        sc->cx->stats->files_skipped++;
        cxs_buf_release(&b);
        return;
    }
    pg->len = b.len;
    pg->data = cxs_buf_detach(&b);
    sc->cx->stats->files_read++;
}

static void scrape_free(scrape *sc) {
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        free(p->ls);
        free(p->date_text);
        free(p->slug);
        json_decref(p->reactions);
        json_decref(p->poll);
    }
    for (size_t i = 0; i < sc->npages; i++) {
        page *pg = &sc->pages[i];
        free(pg->data);
        free(pg->title);
        free(pg->slug);
        free(pg->desc);
        free(pg->title_slug);
    }
    free(sc->posts);
    free(sc->pages);
    free(sc->nonpost);
}

cxs_status cxs_import_scraped_files(cxs_import_ctx *cx, char **paths,
                                    size_t npaths, cxs_err *err) {
    scrape sc = {0};
    sc.cx = cx;
    sc.pages = calloc(npaths ? npaths : 1, sizeof *sc.pages);
    if (!sc.pages)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    sc.npages = npaths;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < npaths; i++)
        load_page(&sc, i, paths[i]);
    for (size_t i = 0; rc == CXS_OK && i < npaths; i++)
        if (sc.pages[i].data)
            rc = parse_page(&sc, i);
    if (rc == CXS_OK)
        rc = collapse_all(&sc);
    if (rc == CXS_OK)
        rc = dedupe(&sc);
    if (rc == CXS_OK)
        rc = drop_boilerplate(&sc);
    if (rc == CXS_OK) {
        page_ids(&sc);
        rc = emit_all(&sc, err);
    } else {
        cxs_err_set(err, rc, "out of memory");
    }
    scrape_free(&sc);
    return rc;
}
