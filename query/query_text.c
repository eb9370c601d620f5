/*
 * query_text.c - text run through the analyzer for the query parser and
 * the synonym table (query_int.h): tokens with copies of every term they
 * may match. The analyzer's pointers live only during its callbacks, so
 * everything is copied; a finished cxs_qtext is plain data.
 */
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_grow.h"
#include "query_int.h"
#include "terms.h"

typedef struct qt_build {
    cxs_qtext *t;
    size_t cap, max;
    cxs_status st;
} qt_build;

static int on_token(void *ud, const cxs_token *tok) {
    qt_build *b = ud;
    if (b->t->n >= b->max)
        return 1;
    cxs_status rc = CXS_GROW(b->t->toks, b->cap, b->t->n + 1);
    if (rc != CXS_OK) {
        b->st = rc;
        return 1;
    }
    cxs_qtok *q = &b->t->toks[b->t->n];
    memset(q, 0, sizeof *q);
    q->form = cxs_strndup(tok->form, tok->form_len);
    if (!q->form) {
        b->st = CXS_ERR_NOMEM;
        return 1;
    }
    b->t->n++;
    q->form_len = tok->form_len;
    q->start = tok->start;
    q->end = tok->end;
    q->pos = tok->pos;
    q->kind = tok->kind;
    q->flags = tok->flags;
    return 0;
}

typedef struct term_build {
    cxs_qtok *q;
    size_t cap;
    cxs_status st;
} term_build;

/* Appends prefix + term to the token's terms, in class kind. */
static int push_term(term_build *b, cxs_term_kind kind, const char *pfx,
                     const char *term, size_t len) {
    if (b->q->nterms >= CXS_QMAX_TERMS || len == 0)
        return 0;
    cxs_status rc = CXS_GROW(b->q->terms, b->cap, b->q->nterms + 1);
    if (rc != CXS_OK) {
        b->st = rc;
        return 1;
    }
    size_t plen = strlen(pfx);
    char *s = malloc(plen + len + 1);
    if (!s) {
        b->st = CXS_ERR_NOMEM;
        return 1;
    }
    memcpy(s, pfx, plen);
    memcpy(s + plen, term, len);
    s[plen + len] = '\0';
    b->q->terms[b->q->nterms++] = (cxs_qterm){kind, s, plen + len};
    return 0;
}

/* Whether the token already looks term[0..len) up unprefixed. */
static int has_term(const cxs_qtok *q, const char *term, size_t len) {
    for (size_t i = 0; i < q->nterms; i++)
        if (q->terms[i].len == len && memcmp(q->terms[i].s, term, len) == 0)
            return 1;
    return 0;
}

static int on_term(void *ud, cxs_term_kind kind, const char *term, size_t len,
                   const cxs_token *tok) {
    (void)tok;
    term_build *b = ud;
    if (kind == CXS_TERM_LEMMA)
        b->q->has_lemma = 1;
    if (push_term(b, kind, cxs_terms_prefix(kind), term, len))
        return 1;
    /* The index stores no variant equal to a word's exact form (index.c),
     * so each variant is also looked up as an exact term, in its class. */
    if (kind != CXS_TERM_EXACT && kind != CXS_TERM_TAG &&
        !has_term(b->q, term, len))
        return push_term(b, kind, CXS_PFX_EXACT, term, len);
    return 0;
}

cxs_status cxs_qtext_analyze(cxs_stemmers *a, const char *text, size_t len,
                             size_t max_toks, cxs_qtext *out, cxs_err *err) {
    qt_build b = {out, 0, max_toks, CXS_OK};
    out->toks = NULL;
    out->n = 0;
    cxs_status rc = cxs_stemmers_tokenize(a, text, len, on_token, &b, err);
    if (rc == CXS_OK && b.st != CXS_OK)
        rc = cxs_err_set(err, b.st, "out of memory");
    for (size_t i = 0; rc == CXS_OK && i < out->n; i++) {
        cxs_qtok *q = &out->toks[i];
        cxs_token tk = {q->form, q->form_len, q->start, q->end,
                        q->pos,  q->kind,     q->flags};
        term_build tb = {q, 0, CXS_OK};
        cxs_stemmers_expand(a, &tk, CXS_LANG_UNKNOWN, on_term, &tb);
        if (tb.st != CXS_OK)
            rc = cxs_err_set(err, tb.st, "out of memory");
    }
    if (rc != CXS_OK)
        cxs_qtext_release(out);
    return rc;
}

void cxs_qtext_release(cxs_qtext *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->toks[i].nterms; j++)
            free(t->toks[i].terms[j].s);
        free(t->toks[i].terms);
        free(t->toks[i].form);
    }
    free(t->toks);
    t->toks = NULL;
    t->n = 0;
}

int cxs_qtok_match(const cxs_qtok *a, const cxs_qtok *b) {
    int stems = !a->has_lemma || !b->has_lemma;
    for (size_t i = 0; i < a->nterms; i++) {
        const cxs_qterm *x = &a->terms[i];
        if (x->kind == CXS_TERM_TAG || (x->kind == CXS_TERM_STEM && !stems))
            continue;
        for (size_t j = 0; j < b->nterms; j++) {
            const cxs_qterm *y = &b->terms[j];
            if (y->kind == x->kind && y->len == x->len &&
                memcmp(y->s, x->s, x->len) == 0)
                return 1;
        }
    }
    return 0;
}
