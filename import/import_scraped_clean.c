/*
 * import_scraped_clean.c - cleaning posts across the page set: a post printed
 * twice is collapsed, previews and repeats merged, paragraphs seen in two
 * or more posts (or outside posts) dropped as boilerplate, duplicate posts
 * removed (see import_scraped.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_scraped.h"

#define MAX_COLLAPSE_LINES 2000
#define MIN_BOILER_CHARS 40

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
cxs_status cxs_scraped_collapse(scrape *sc) {
    nlines prev = {0};
    size_t prev_page = (size_t)-1;
    long prev_i = -1;
    for (size_t i = 0; i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        nlines v;
        if (p->poll || !cxs_scraped_has_text(p))
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
    return t->hash && t->last && t->count && t->used && t->non ? CXS_OK
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
cxs_status cxs_scraped_drop_boilerplate(scrape *sc) {
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
        if (p->dropped || !cxs_scraped_has_text(p))
            continue;
        each_para(p->ls, p->nl, drop_para, &u);
        if (!cxs_scraped_has_text(p) && !p->poll)
            p->dropped = true;
    }
    pt_release(&t);
    return rc;
}

/* The same post reached twice in the set (two pages showing it): the
 * later copy is dropped. Keyed by channel/number, else by text. */
cxs_status cxs_scraped_dedupe(scrape *sc) {
    ptable t;
    cxs_status rc = pt_init(&t, sc->nposts);
    cxs_buf b;
    cxs_buf_init(&b, 0);
    for (size_t i = 0; rc == CXS_OK && i < sc->nposts; i++) {
        spost *p = &sc->posts[i];
        if (p->dropped || (!cxs_scraped_has_text(p) && !p->poll))
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
void cxs_scraped_page_ids(scrape *sc) {
    for (size_t pi = 0; pi < sc->npages; pi++) {
        page *pg = &sc->pages[pi];
        long only = -1;
        size_t live = 0;
        for (size_t i = 0; i < sc->nposts; i++) {
            spost *p = &sc->posts[i];
            if (p->page == pi && !p->dropped &&
                (cxs_scraped_has_text(p) || p->poll))
                live++, only = (long)i;
        }
        if (pg->title_slug && live == 1 && !sc->posts[only].slug) {
            sc->posts[only].slug =
                cxs_strndup(pg->title_slug, strlen(pg->title_slug));
            sc->posts[only].msgid = pg->title_msgid;
        }
    }
}
