/*
 * phrases.c - see phrases.h.
 *
 * Facts that shaped it:
 * - A phrase word matches a post's word when they share a term the index
 *   keeps with a position: what the query side's phrase positions accept
 *   (exact and lemma terms, query/query.c) against what the writer stores
 *   with positions (index/document.c). The writer feeds exactly those
 *   terms to cxs_phrase_doc_add, so finding a phrase here and matching
 *   it by positions at query time agree.
 * - Stopwords hold no positions: they are left out of the phrase's words
 *   and only widen its span, as in a phrase query.
 * - A post is scanned once: a sorted table of every phrase's first-word
 *   terms gives the candidates at each position, and each candidate is
 *   followed forward within its span. Glossaries are small (dozens of
 *   phrases), posts a few hundred words.
 */
#include "phrases.h"
#include "cxs_grow.h"
#include "query_int.h"

#include <stdlib.h>
#include <string.h>

#include "terms.h"

#define PHRASE_MAX_WORDS 16

typedef struct pword {
    char **terms; /* sorted by strcmp */
    size_t n;
} pword;

typedef struct phrase {
    char *term; /* CXS_PFX_PHRASE + key */
    size_t term_len;
    size_t k;                       /* words */
    unsigned rel[PHRASE_MAX_WORDS]; /* position relative to the first */
    pword w[PHRASE_MAX_WORDS];
} phrase;

typedef struct first_entry {
    const char *term;
    size_t phrase;
} first_entry;

struct cxs_phrases {
    phrase *v;
    size_t n;
    first_entry *first; /* sorted by term */
    size_t nfirst;
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_first(const void *a, const void *b) {
    return strcmp(((const first_entry *)a)->term,
                  ((const first_entry *)b)->term);
}

static void phrase_release(phrase *p) {
    free(p->term);
    for (size_t i = 0; i < p->k; i++) {
        for (size_t j = 0; j < p->w[i].n; j++)
            free(p->w[i].terms[j]);
        free(p->w[i].terms);
    }
}

void cxs_phrases_free(cxs_phrases *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        phrase_release(&p->v[i]);
    free(p->v);
    free(p->first);
    free(p);
}

/* The words of t that take a position in a phrase: not compound wholes
 * (their parts do), not stopwords. */
static size_t phrase_words(const cxs_qtext *t, const cxs_qtok **out) {
    size_t n = 0;
    for (size_t i = 0; i < t->n && n < PHRASE_MAX_WORDS; i++) {
        const cxs_qtok *k = &t->toks[i];
        if (!(k->flags & (CXS_TOKF_COMPOUND | CXS_TOKF_STOPWORD)))
            out[n++] = k;
    }
    return n;
}

cxs_status cxs_phrases_key(const cxs_qtext *t, cxs_buf *out, bool *has_key) {
    const cxs_qtok *w[PHRASE_MAX_WORDS];
    size_t n = phrase_words(t, w);
    *has_key = n >= 2;
    if (n < 2)
        return CXS_OK;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < n && rc == CXS_OK; i++) {
        unsigned gap = i ? w[i]->pos - w[i - 1]->pos : 0;
        for (unsigned g = 0; g < gap && g < 8 && rc == CXS_OK; g++)
            rc = cxs_buf_appendc(out, ' ');
        if (rc == CXS_OK)
            rc = cxs_buf_append(out, w[i]->form, w[i]->form_len);
    }
    return rc;
}

/* A word's terms that a phrase position accepts (as pos_or in query.c). */
static cxs_status word_terms(const cxs_qtok *k, pword *w) {
    w->terms = calloc(k->nterms ? k->nterms : 1, sizeof *w->terms);
    if (!w->terms)
        return CXS_ERR_NOMEM;
    for (size_t i = 0; i < k->nterms; i++) {
        const cxs_qterm *t = &k->terms[i];
        if (t->kind != CXS_TERM_EXACT && t->kind != CXS_TERM_LEMMA)
            continue;
        if (!(w->terms[w->n] = malloc(t->len + 1)))
            return CXS_ERR_NOMEM;
        memcpy(w->terms[w->n], t->s, t->len);
        w->terms[w->n++][t->len] = '\0';
    }
    qsort(w->terms, w->n, sizeof *w->terms, cmp_str);
    return CXS_OK;
}

static cxs_status compile(const cxs_qtext *t, phrase *p, cxs_buf *key) {
    const cxs_qtok *w[PHRASE_MAX_WORDS];
    memset(p, 0, sizeof *p);
    cxs_buf_reset(key);
    bool has_key = false;
    cxs_status rc = cxs_buf_appends(key, CXS_PFX_PHRASE);
    if (rc == CXS_OK)
        rc = cxs_phrases_key(t, key, &has_key);
    if (rc != CXS_OK || !has_key)
        return rc != CXS_OK ? rc : CXS_ERR_INVALID;
    if (key->len > 240) /* Xapian's term length limit is 245 */
        return CXS_ERR_INVALID;
    if (!(p->term = malloc(key->len + 1)))
        return CXS_ERR_NOMEM;
    memcpy(p->term, key->data, key->len);
    p->term[key->len] = '\0';
    p->term_len = key->len;
    size_t n = phrase_words(t, w);
    for (size_t i = 0; i < n && rc == CXS_OK; i++, p->k++) {
        p->rel[i] = w[i]->pos - w[0]->pos;
        rc = word_terms(w[i], &p->w[i]);
    }
    return rc;
}

static int has_term(const cxs_phrases *s, const char *term) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].term, term) == 0)
            return 1;
    return 0;
}

/* Compiles one line and appends it; lines that are no phrase are skipped. */
static cxs_status add_line(cxs_phrases *s, cxs_stemmers *a, const char *line,
                           size_t len, cxs_buf *key, cxs_err *err) {
    cxs_qtext t = {0};
    cxs_status rc =
        cxs_qtext_analyze(a, line, len, 4 * PHRASE_MAX_WORDS, &t, err);
    if (rc != CXS_OK)
        return rc;
    phrase *v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v) {
        cxs_qtext_release(&t);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    s->v = v;
    rc = compile(&t, &s->v[s->n], key);
    cxs_qtext_release(&t);
    if (rc == CXS_OK && !has_term(s, s->v[s->n].term)) {
        s->n++;
        return CXS_OK;
    }
    phrase_release(&s->v[s->n]);
    return rc == CXS_ERR_NOMEM ? cxs_err_set(err, rc, "out of memory") : CXS_OK;
}

static cxs_status index_first_words(cxs_phrases *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->v[i].w[0].n;
    s->first = calloc(n ? n : 1, sizeof *s->first);
    if (!s->first)
        return CXS_ERR_NOMEM;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->v[i].w[0].n; j++)
            s->first[s->nfirst++] = (first_entry){s->v[i].w[0].terms[j], i};
    qsort(s->first, s->nfirst, sizeof *s->first, cmp_first);
    return CXS_OK;
}

cxs_status cxs_phrases_new(cxs_stemmers *a, const char *list, size_t len,
                           cxs_phrases **out, cxs_err *err) {
    *out = NULL;
    cxs_phrases *s = calloc(1, sizeof *s);
    if (!s)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_buf key = CXS_BUF_INIT;
    cxs_status rc = CXS_OK;
    for (size_t at = 0; at < len && rc == CXS_OK;) {
        const char *nl = memchr(list + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (list + at)) : len - at;
        if (n)
            rc = add_line(s, a, list + at, n, &key, err);
        at += n + 1;
    }
    cxs_buf_release(&key);
    if (rc == CXS_OK && index_first_words(s) != CXS_OK)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc != CXS_OK) {
        cxs_phrases_free(s);
        return rc;
    }
    *out = s;
    return CXS_OK;
}

int cxs_phrases_has(const cxs_phrases *p, const char *key, size_t len) {
    size_t pl = strlen(CXS_PFX_PHRASE);
    for (size_t i = 0; p && i < p->n; i++)
        if (p->v[i].term_len == pl + len &&
            memcmp(p->v[i].term + pl, key, len) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ a post */

void cxs_phrase_doc_reset(cxs_phrase_doc *d) {
    cxs_buf_reset(&d->terms);
    d->nslots = 0;
}

void cxs_phrase_doc_release(cxs_phrase_doc *d) {
    cxs_buf_release(&d->terms);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

cxs_status cxs_phrase_doc_add(cxs_phrase_doc *d, unsigned pos, const char *term,
                              size_t len) {
    if (d->nslots && pos < d->slots[d->nslots - 1].pos)
        return CXS_OK;
    if (!d->nslots || pos > d->slots[d->nslots - 1].pos) {
        cxs_status rc = CXS_GROW(d->slots, d->cap, d->nslots + 1);
        if (rc != CXS_OK)
            return rc;
        d->slots[d->nslots++] = (cxs_phrase_slot){pos, d->terms.len};
    }
    cxs_status rc = cxs_buf_append(&d->terms, term, len);
    return rc == CXS_OK ? cxs_buf_appendc(&d->terms, '\0') : rc;
}

/* Whether slot i of d holds one of the word's terms. */
static int slot_matches(const cxs_phrase_doc *d, size_t i, const pword *w) {
    size_t end = i + 1 < d->nslots ? d->slots[i + 1].off : d->terms.len;
    for (size_t at = d->slots[i].off; at < end;) {
        const char *t = d->terms.data + at;
        if (bsearch(&t, w->terms, w->n, sizeof *w->terms, cmp_str))
            return 1;
        at += strlen(t) + 1;
    }
    return 0;
}

/* Whether phrase p occurs with its first word at slot i: its other words
 * follow in order, within the phrase's span (as OP_PHRASE's window). */
static int occurs_at(const cxs_phrase_doc *d, size_t i, const phrase *p) {
    unsigned window = p->rel[p->k - 1] + 1;
    size_t j = 1;
    for (size_t m = i + 1; m < d->nslots && j < p->k; m++) {
        if (d->slots[m].pos - d->slots[i].pos >= window)
            break;
        if (slot_matches(d, m, &p->w[j]))
            j++;
    }
    return j == p->k;
}

/* Calls fn for each phrase whose first word has term t, once per phrase
 * and slot (done[] marks phrases already tried at this slot). */
static cxs_status try_first(const cxs_phrases *p, const cxs_phrase_doc *d,
                            size_t slot, const char *t, unsigned char *done,
                            cxs_status (*fn)(void *, const char *, size_t),
                            void *ud) {
    first_entry key = {t, 0};
    first_entry *e =
        bsearch(&key, p->first, p->nfirst, sizeof *p->first, cmp_first);
    if (!e)
        return CXS_OK;
    while (e > p->first && strcmp(e[-1].term, t) == 0)
        e--;
    cxs_status rc = CXS_OK;
    for (; rc == CXS_OK && e < p->first + p->nfirst && !strcmp(e->term, t);
         e++) {
        const phrase *ph = &p->v[e->phrase];
        if (done[e->phrase])
            continue;
        done[e->phrase] = 1;
        if (occurs_at(d, slot, ph))
            rc = fn(ud, ph->term, ph->term_len);
    }
    return rc;
}

cxs_status cxs_phrases_find(const cxs_phrases *p, const cxs_phrase_doc *d,
                            cxs_status (*fn)(void *ud, const char *term,
                                             size_t len),
                            void *ud) {
    if (!p || !p->n || !d->nslots)
        return CXS_OK;
    unsigned char *done = malloc(p->n);
    if (!done)
        return CXS_ERR_NOMEM;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < d->nslots && rc == CXS_OK; i++) {
        memset(done, 0, p->n);
        size_t end = i + 1 < d->nslots ? d->slots[i + 1].off : d->terms.len;
        for (size_t at = d->slots[i].off; at < end && rc == CXS_OK;) {
            const char *t = d->terms.data + at;
            rc = try_first(p, d, i, t, done, fn, ud);
            at += strlen(t) + 1;
        }
    }
    free(done);
    return rc;
}

/* See phrases.h. */
cxs_status cxs_phrases_glossary(const cxs_synonyms *syn, cxs_buf *out) {
    cxs_buf key = CXS_BUF_INIT;
    cxs_status rc = CXS_OK;
    for (size_t g = 0; g < cxs_synonyms_ngroups(syn) && rc == CXS_OK; g++)
        for (size_t m = 0; m < cxs_synonyms_group_size(syn, g) && rc == CXS_OK;
             m++) {
            cxs_buf_reset(&key);
            bool has_key = false;
            rc = cxs_phrases_key(cxs_synonyms_member(syn, g, m), &key,
                                 &has_key);
            if (rc == CXS_OK && has_key)
                rc = cxs_buf_appends(out, cxs_synonyms_member_text(syn, g, m));
            if (rc == CXS_OK && has_key)
                rc = cxs_buf_appendc(out, '\n');
        }
    cxs_buf_release(&key);
    return rc;
}
