/*
 * query.c - the cxsearch query language (query.h) parsed into a cxs_qnode
 * tree; docs/query-language.md is the user's description.
 *
 * Facts that shaped it:
 * - A query word must find a post through its exact form, its accent-free
 *   form, its lemmas or its stems (issue 3), and exact forms must rank
 *   first. So a word becomes
 *     (OR exact (SCALE 0.7 accent-free) (SCALE 0.8 lemmas) (SCALE 0.6 stems))
 *   with each class a SYN of its terms: a post with the exact form also
 *   has its lemma and stem, so it collects every class's weight; a post
 *   with another form of the word collects only some.
 * - The analyzer is the one used at index time (terms come from
 *   cxs_stemmers_expand with CXS_LANG_UNKNOWN), so query and index can
 *   never disagree on what a word is.
 * - The language is typed by anyone: nothing is an error except an
 *   oversized query. Stray operators become words, unbalanced quotes and
 *   parentheses are closed at the end, a bad date filter is read as words.
 * - Input is untrusted: at most CXS_QMAX_UNITS words/phrases/filters and
 *   CXS_QMAX_LEXEMES lexemes are read, parentheses nest at most CXS_QMAX_DEPTH
 * deep (deeper ones are flattened), and the parser is a loop with an explicit
 *   stack, so no input can exhaust the C stack or take long.
 *
 * Stages: lex (operators, words, phrases, filters) -> fix operators that
 * have no operands -> analyze words and phrases (those two in
 * query_lex.c) -> mark synonym spans -> build the tree with a stack of
 * parenthesized groups (here).
 */
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_grow.h"
#include "phrases.h"
#include "query_int.h"
#include "terms.h"

/* ---------------------------------------------------------------------
 * Tree building
 * ------------------------------------------------------------------ */

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

typedef struct group {
    cxs_qnode *clauses; /* AND: the required clauses */
    cxs_qnode *excl;    /* a list (OR node) of excluded items */
    int neg;            /* opened by "-(": the group is excluded */
    int or_pending;     /* an OR waits for its right operand */
    int last_pos;       /* the last item was a clause an OR may join */
    int alt_open;       /* the last clause is an OR built from ORs */
} group;

enum { C_EXACT, C_ASCII, C_LEMMA, C_STEM, NCLASSES };
enum { FV_CHANNEL, FV_AUTHOR, FV_LANG, FV_TAG, NFV };

/* Words considered for proximity rescoring: the first few count. */
#define PROX_MAX 8

typedef struct builder {
    double w[NCLASSES], wsyn;
    int keep_stop; /* the query is only stopwords: keep them */
    int collect;   /* building a positive item: record highlight terms */
    cxs_status st;
    const cxs_synonyms *syn;
    const cxs_phrases *phrases;
    strvec hl, prefixes, words;
    unsigned long long *hlw; /* the word bits of hl.v[i] */
    size_t hlw_cap;
    unsigned nword; /* words collected so far */
    strvec fvals[NFV];      /* filter values as typed */
    cxs_qnode *fterms[NFV]; /* OR of the filter terms of each field */
    char lo[15], hi[15];    /* date bounds, "" when open */
    char *date_from, *date_to;
    /* Top-level clauses that are synonym spans: their words are relaxed
     * too, as they would be without the synonym table. */
    unsigned char span_clause[CXS_QMAX_LEXEMES];
    /* The positive free words, in order, for proximity rescoring. */
    const cxs_qtok *prox[PROX_MAX];
    size_t nprox;
    /* Forgiving search (forgive.c): the analyzer, options, errors. */
    cxs_stemmers *forgive_a;
    const cxs_query_opts *opts;
    cxs_err *err;
} builder;

static void sv_free(strvec *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static void sv_push(builder *b, strvec *s, const char *p, size_t n) {
    cxs_status rc = CXS_GROW(s->v, s->cap, s->n + 1);
    if (rc != CXS_OK) {
        b->st = rc;
        return;
    }
    if (!(s->v[s->n] = cxs_strndup(p, n)))
        b->st = CXS_ERR_NOMEM;
    else
        s->n++;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sv_sort_unique(strvec *s) {
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[k - 1]) == 0)
            free(s->v[i]);
        else
            s->v[k++] = s->v[i];
    }
    s->n = k;
}

static cxs_qnode *nnew(builder *b, cxs_qop op) {
    cxs_qnode *n = cxs_qnode_new(op);
    if (!n)
        b->st = CXS_ERR_NOMEM;
    return n;
}

static cxs_qnode *nterm(builder *b, cxs_qop op, const char *term, size_t len) {
    cxs_qnode *n = cxs_qnode_term(op, "", term, len);
    if (!n)
        b->st = CXS_ERR_NOMEM;
    return n;
}

/* Adds kid (taken over) to parent; a NULL kid is an empty item. */
static void nadd(builder *b, cxs_qnode *parent, cxs_qnode *kid) {
    if (!kid)
        return;
    if (!parent) {
        cxs_qnode_free(kid);
        return;
    }
    if (cxs_qnode_add(parent, kid) != CXS_OK)
        b->st = CXS_ERR_NOMEM;
}

static cxs_qnode *nscale(builder *b, cxs_qnode *kid, double w) {
    if (!kid || w == 1.0)
        return kid;
    cxs_qnode *n = cxs_qnode_scale(kid, w);
    if (!n)
        b->st = CXS_ERR_NOMEM;
    return n;
}

/* An empty container is no item; a container of one is that one. */
static cxs_qnode *collapse(cxs_qnode *n) {
    if (!n || (n->op != CXS_Q_AND && n->op != CXS_Q_OR &&
               n->op != CXS_Q_SYNONYM && n->op != CXS_Q_PHRASE))
        return n;
    if (n->nkids == 0) {
        cxs_qnode_free(n);
        return NULL;
    }
    if (n->nkids > 1)
        return n;
    cxs_qnode *k = n->kids[0];
    n->nkids = 0;
    cxs_qnode_free(n);
    return k;
}

static int class_of(cxs_term_kind k) {
    switch (k) {
    case CXS_TERM_EXACT: return C_EXACT;
    case CXS_TERM_ASCII: return C_ASCII;
    case CXS_TERM_LEMMA: return C_LEMMA;
    case CXS_TERM_STEM: return C_STEM;
    case CXS_TERM_TAG: break;
    }
    return -1;
}

/* A highlight term; words: its bits in cxs_query.hl_words. */
static void hl_push(builder *b, const char *p, size_t n,
                    unsigned long long words) {
    size_t had = b->hl.n;
    sv_push(b, &b->hl, p, n);
    if (b->hl.n == had)
        return;
    if (CXS_GROW(b->hlw, b->hlw_cap, b->hl.n) != CXS_OK) {
        b->st = CXS_ERR_NOMEM;
        return;
    }
    b->hlw[b->hl.n - 1] = words;
}

static int has_prefix(const cxs_qterm *x, const char *pfx) {
    size_t pl = strlen(pfx);
    return x->len > pl && memcmp(x->s, pfx, pl) == 0;
}

/* The word's own exact form, or one of its lemma or stem terms: the terms
 * whose word cxs_query.hl_words names. Its other unprefixed terms (a
 * lemma looked up as an exact form) are forms of other words too. */
static int word_term(const cxs_qtok *t, const cxs_qterm *x) {
    if (x->kind == CXS_TERM_LEMMA)
        return has_prefix(x, CXS_PFX_LEMMA);
    if (x->kind == CXS_TERM_STEM)
        return has_prefix(x, CXS_PFX_STEM);
    return x->kind == CXS_TERM_EXACT && x->len == t->form_len &&
           memcmp(x->s, t->form, x->len) == 0;
}

/* Stopwords kept inside phrases are not highlighted on their own: every
 * "и" of a post would light up. */
static void collect_terms(builder *b, const cxs_qtok *t) {
    if ((t->flags & CXS_TOKF_STOPWORD) && !b->keep_stop)
        return;
    unsigned long long word = CXS_QWORD_BIT(b->nword);
    b->nword++;
    for (size_t i = 0; b->collect && i < t->nterms; i++) {
        const cxs_qterm *x = &t->terms[i];
        if (x->kind != CXS_TERM_TAG)
            hl_push(b, x->s, x->len, word_term(t, x) ? word : 0);
    }
}

/* A word: (OR exact (SCALE w accent-free) (SCALE w lemmas) (SCALE w
 * stems)), each class a SYN of its terms. */
static cxs_qnode *tok_group(builder *b, const cxs_qtok *t) {
    cxs_qnode *any = nnew(b, CXS_Q_OR);
    for (int c = 0; c < NCLASSES; c++) {
        cxs_qnode *syn = nnew(b, CXS_Q_SYNONYM);
        for (size_t i = 0; syn && i < t->nterms; i++)
            if (class_of(t->terms[i].kind) == c)
                nadd(b, syn,
                     nterm(b, CXS_Q_TERM, t->terms[i].s, t->terms[i].len));
        nadd(b, any, nscale(b, collapse(syn), b->w[c]));
    }
    collect_terms(b, t);
    return collapse(any);
}

/* One position of a phrase: any variant of the word, unweighted (a phrase
 * position must be a term or an OR of terms). */
static cxs_qnode *pos_or(builder *b, const cxs_qtok *t) {
    cxs_qnode *any = nnew(b, CXS_Q_OR);
    /* Only exact forms and lemmas carry positions in the index (index/
     * document.c; a word's lemmas when it has others, else its exact
     * form): stems and accent-free forms could never satisfy a phrase,
     * and each extra term costs the matcher a posting list. */
    for (size_t i = 0; any && i < t->nterms; i++)
        if (t->terms[i].kind == CXS_TERM_EXACT ||
            t->terms[i].kind == CXS_TERM_LEMMA)
            nadd(b, any, nterm(b, CXS_Q_TERM, t->terms[i].s, t->terms[i].len));
    collect_terms(b, t);
    return collapse(any);
}

/* A phrase of stopwords only ("to be or not to be"): the index keeps no
 * positions for stopwords (index/document.c), so all of its words, in any
 * order, highlighted as typed. */
static cxs_qnode *stopword_phrase(builder *b, const cxs_qtok *const *toks,
                                  size_t n) {
    int keep = b->keep_stop;
    b->keep_stop = 1;
    cxs_qnode *all = nnew(b, CXS_Q_AND);
    for (size_t i = 0; all && i < n; i++)
        nadd(b, all, tok_group(b, toks[i]));
    b->keep_stop = keep;
    return collapse(all);
}

/* Stopwords hold no positions in the index: a phrase checks the order of
 * its other words, and the stopwords between them widen the window, as
 * PostgreSQL's phraseto_tsquery turns "путь к клиенту" into
 * путь <2> клиент. Fewer and shorter posting lists also make phrases
 * cheaper: a stopword's list covers most posts. */
static cxs_qnode *phrase_of(builder *b, const cxs_qtok *const *toks, size_t n) {
    const cxs_qtok *keep[CXS_QMAX_TEXT_TOKS];
    size_t m = 0;
    for (size_t i = 0; i < n && m < CXS_QMAX_TEXT_TOKS; i++)
        if (!(toks[i]->flags & CXS_TOKF_STOPWORD))
            keep[m++] = toks[i];
    if (n == 0)
        return NULL;
    if (m == 0)
        return stopword_phrase(b, toks, n);
    if (m == 1)
        return tok_group(b, keep[0]);
    cxs_qnode *ph = nnew(b, CXS_Q_PHRASE);
    for (size_t i = 0; ph && i < m; i++)
        nadd(b, ph, pos_or(b, keep[i]));
    /* Positions of dropped stopwords widen the window, never narrow it. */
    unsigned span = keep[m - 1]->pos - keep[0]->pos + 1;
    if (ph && keep[m - 1]->pos >= keep[0]->pos && span > ph->nkids)
        ph->window = span;
    return collapse(ph);
}

/* The tokens of a text that take a phrase position: plain words and the
 * parts of compounds (the whole compound shares its first part's). */
static size_t positional(const cxs_qtext *t, const cxs_qtok **out) {
    size_t n = 0;
    for (size_t i = 0; i < t->n && n < CXS_QMAX_TEXT_TOKS; i++)
        if (!(t->toks[i].flags & CXS_TOKF_COMPOUND))
            out[n++] = &t->toks[i];
    return n;
}

/* A compound (NPS-CSI): the whole term, or its parts in order. */
static cxs_qnode *compound_node(builder *b, const cxs_qtext *t,
                                const cxs_qtok *c) {
    const cxs_qtok *parts[CXS_QMAX_TEXT_TOKS];
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const cxs_qtok *p = &t->toks[i];
        if ((p->flags & CXS_TOKF_PART) && p->start >= c->start &&
            p->end <= c->end)
            parts[n++] = p;
    }
    cxs_qnode *any = nnew(b, CXS_Q_OR);
    nadd(b, any, tok_group(b, c));
    /* A one-letter part (the "e" of e-commerce) would light up every "e"
     * of a post: the whole compound is highlighted instead. */
    int collect = b->collect;
    for (size_t i = 0; i < n && n > 1; i++)
        if (parts[i]->form_len == 1 ||
            (parts[i]->form_len == 2 &&
             (unsigned char)parts[i]->form[0] >= 0xC0))
            b->collect = 0;
    if (n > 1)
        nadd(b, any, phrase_of(b, parts, n));
    b->collect = collect;
    return collapse(any);
}

static cxs_qnode *unit_node(builder *b, const cxs_qtext *t, const cxs_qtok *k) {
    return (k->flags & CXS_TOKF_COMPOUND) ? compound_node(b, t, k)
                                          : tok_group(b, k);
}

static int dropped(const builder *b, const cxs_qtok *k) {
    return !b->keep_stop && (k->flags & CXS_TOKF_STOPWORD) &&
           !(k->flags & CXS_TOKF_COMPOUND);
}

/* Every word the analyzer found in a text, required; with prox, the
 * words are also kept for proximity rescoring. */
static cxs_qnode *text_node(builder *b, const cxs_qtext *t, int prox) {
    cxs_qnode *all = nnew(b, CXS_Q_AND);
    for (size_t i = 0; all && i < t->n; i++) {
        const cxs_qtok *k = &t->toks[i];
        if (!cxs_qtok_is_key(k) || dropped(b, k))
            continue;
        nadd(b, all, unit_node(b, t, k));
        if (prox && b->collect &&
            !(k->flags & (CXS_TOKF_COMPOUND | CXS_TOKF_STOPWORD)) &&
            b->nprox < PROX_MAX)
            b->prox[b->nprox++] = k;
    }
    return collapse(all);
}

/* Completions of a word typed so far: one class of exact terms. */
static cxs_qnode *exact_syn(builder *b, const cxs_qalt *alt) {
    cxs_qnode *syn = nnew(b, CXS_Q_SYNONYM);
    for (size_t i = 0; syn && i < alt->nexact; i++) {
        nadd(b, syn,
             nterm(b, CXS_Q_TERM, alt->exact[i], strlen(alt->exact[i])));
        if (b->collect) /* a completion: its lemmas are not asked */
            hl_push(b, alt->exact[i], strlen(alt->exact[i]), 0);
    }
    return collapse(syn);
}

/* The word as typed, or (weighted lower) its other readings (forgive.c).
 * A reading that the index knows but the typed word is not takes the
 * typed word's place for proximity. */
static cxs_qnode *with_alts(builder *b, const cxs_qlexeme *x, cxs_qnode *n) {
    for (size_t i = 0; i < x->nalts; i++)
        if (x->alts[i].drop) {
            cxs_qnode_free(n);
            return NULL;
        }
    cxs_qnode *any = nnew(b, CXS_Q_OR);
    nadd(b, any, n);
    for (size_t i = 0; any && i < x->nalts; i++) {
        const cxs_qalt *alt = &x->alts[i];
        cxs_qnode *a = alt->nexact ? exact_syn(b, alt)
                                   : text_node(b, &alt->text, 0);
        nadd(b, any, nscale(b, a, alt->w));
    }
    return collapse(any);
}

/* A free word: every word the analyzer finds in it is required. */
static cxs_qnode *word_node(builder *b, const cxs_qlexeme *x) {
    cxs_qnode *n = text_node(b, &x->text, !x->nalts);
    if (n && x->nalts)
        n = with_alts(b, x, n);
    if (n && b->collect)
        sv_push(b, &b->words, x->raw, x->rawn);
    return n;
}

static cxs_qnode *phrase_node(builder *b, const cxs_qtext *t) {
    const cxs_qtok *toks[CXS_QMAX_TEXT_TOKS];
    return phrase_of(b, toks, positional(t, toks));
}

/* word*: the last word of it is a prefix of the exact form. */
static cxs_qnode *prefix_node(builder *b, const cxs_qlexeme *x) {
    const cxs_qtok *last = NULL;
    for (size_t i = 0; i < x->text.n; i++)
        if (cxs_qtok_is_key(&x->text.toks[i]))
            last = &x->text.toks[i];
    if (!last)
        return NULL;
    cxs_qnode *all = nnew(b, CXS_Q_AND);
    for (size_t i = 0; all && &x->text.toks[i] != last; i++)
        if (cxs_qtok_is_key(&x->text.toks[i]))
            nadd(b, all, unit_node(b, &x->text, &x->text.toks[i]));
    nadd(b, all, nterm(b, CXS_Q_PREFIX, last->form, last->form_len));
    if (b->collect)
        sv_push(b, &b->prefixes, last->form, last->form_len);
    return collapse(all);
}

/* A glossary phrase the index recognized when it was written: one term
 * (phrases.h) instead of a phrase's position checks, which cost tens of
 * milliseconds when its words are common. NULL when the index does not
 * know the phrase. Its words are still recorded for the highlighter. */
static cxs_qnode *indexed_phrase(builder *b, const cxs_qtext *t,
                                 const cxs_qtok *const *toks, size_t n) {
    if (!b->phrases)
        return NULL;
    cxs_buf key = CXS_BUF_INIT;
    cxs_qnode *node = NULL;
    bool has_key = false;
    cxs_status rc = cxs_buf_appends(&key, CXS_PFX_PHRASE);
    if (rc == CXS_OK)
        rc = cxs_phrases_key(t, &key, &has_key);
    size_t pl = strlen(CXS_PFX_PHRASE);
    if (rc == CXS_OK && has_key &&
        cxs_phrases_has(b->phrases, key.data + pl, key.len - pl)) {
        node = nterm(b, CXS_Q_TERM, key.data, key.len);
        for (size_t i = 0; node && i < n; i++)
            if (!(toks[i]->flags & CXS_TOKF_STOPWORD))
                collect_terms(b, toks[i]);
    }
    if (rc != CXS_OK)
        b->st = rc;
    cxs_buf_release(&key);
    return node;
}

/* Words x[0..span) matched a synonym member: they, or (weighted lower)
 * any other member of its group. */
static cxs_qnode *span_node(builder *b, const cxs_qlexeme *x) {
    cxs_qnode *words = nnew(b, CXS_Q_AND), *alts = nnew(b, CXS_Q_OR);
    for (size_t i = 0; i < x->span; i++)
        nadd(b, words, word_node(b, &x[i]));
    size_t n = cxs_synonyms_group_size(b->syn, x->sgroup);
    for (size_t m = 0; alts && m < n; m++) {
        if (m == x->smember)
            continue;
        /* A phrase scores every one of its words: weighted as one word,
         * "клиентский опыт" does not outrank the typed "CX". */
        const cxs_qtext *t = cxs_synonyms_member(b->syn, x->sgroup, m);
        const cxs_qtok *toks[CXS_QMAX_TEXT_TOKS];
        size_t npos = positional(t, toks);
        /* The phrase's own term is weighted as one word already. */
        cxs_qnode *alt = indexed_phrase(b, t, toks, npos);
        if (alt)
            nadd(b, alts, alt);
        else if ((alt = phrase_of(b, toks, npos)))
            nadd(b, alts, npos > 1 ? nscale(b, alt, 1.0 / (double)npos) : alt);
    }
    cxs_qnode *any = nnew(b, CXS_Q_OR);
    nadd(b, any, collapse(words));
    nadd(b, any, nscale(b, collapse(alts), b->wsyn));
    return collapse(any);
}

static void group_init(builder *b, group *g, int neg) {
    memset(g, 0, sizeof *g);
    g->clauses = nnew(b, CXS_Q_AND);
    g->excl = nnew(b, CXS_Q_OR);
    g->neg = neg;
}

/* Adds an item to a group: excluded, joined to the last clause by a pending
 * OR, or as a new clause, whose index it returns (else -1). */
static long group_add(builder *b, group *g, cxs_qnode *x, int neg) {
    long added = -1;
    if (!x)
        return -1; /* an empty item leaves a pending OR pending */
    if (!g->clauses || !g->excl) {
        cxs_qnode_free(x);
        return -1;
    }
    if (neg) {
        nadd(b, g->excl, x);
        g->last_pos = 0;
        return -1;
    }
    size_t n = g->clauses->nkids;
    if (g->or_pending && g->last_pos && n) {
        if (!g->alt_open) {
            cxs_qnode *alt = nnew(b, CXS_Q_OR), *last = g->clauses->kids[n - 1];
            if (!alt) {
                cxs_qnode_free(x);
                return -1;
            }
            g->clauses->kids[n - 1] = alt; /* before add: add may free */
            nadd(b, alt, last);
            g->alt_open = 1;
        }
        nadd(b, g->clauses->kids[n - 1], x);
    } else {
        added = (long)n;
        nadd(b, g->clauses, x);
        g->alt_open = 0;
    }
    g->or_pending = 0;
    g->last_pos = 1;
    return added;
}

/* pos AND NOT any of excl (both taken over); ALL when pos is empty. */
static cxs_qnode *with_excl(builder *b, cxs_qnode *pos, cxs_qnode *excl) {
    if (!excl || excl->nkids == 0) {
        cxs_qnode_free(excl);
        return pos ? pos : nnew(b, CXS_Q_ALL);
    }
    cxs_qnode *an = nnew(b, CXS_Q_AND_NOT);
    nadd(b, an, pos ? pos : nnew(b, CXS_Q_ALL));
    for (size_t i = 0; i < excl->nkids; i++) {
        cxs_qnode *k = excl->kids[i];
        excl->kids[i] = NULL;
        nadd(b, an, k);
    }
    cxs_qnode_free(excl);
    return an;
}

/* Closes a parenthesized group into one node (NULL when empty). */
static cxs_qnode *group_node(builder *b, group *g) {
    cxs_qnode *pos = collapse(g->clauses);
    g->clauses = NULL;
    if (!g->excl || g->excl->nkids == 0) {
        cxs_qnode_free(g->excl);
        g->excl = NULL;
        return pos;
    }
    cxs_qnode *n = with_excl(b, pos, g->excl);
    g->excl = NULL;
    return n;
}

static void group_free(group *g) {
    cxs_qnode_free(g->clauses);
    cxs_qnode_free(g->excl);
    g->clauses = g->excl = NULL;
}

/* ---------------------------------------------------------------------
 * Filters, stopwords, synonym spans
 * ------------------------------------------------------------------ */

static void date_typed(builder *b, char **dst, const char *p, size_t n) {
    free(*dst);
    if (!(*dst = cxs_strndup(p, n)))
        b->st = CXS_ERR_NOMEM;
}

/* Several date filters all apply: the tightest bounds win. */
static void date_apply(builder *b, const cxs_qlexeme *x) {
    const char *dots = memmem(x->s, x->n, "..", 2);
    size_t an = dots ? (size_t)(dots - x->s) : x->n;
    const char *bs = dots ? dots + 2 : x->s;
    size_t bn = dots ? x->n - an - 2 : x->n;
    if (x->lo[0] && (!b->lo[0] || strcmp(x->lo, b->lo) > 0)) {
        memcpy(b->lo, x->lo, sizeof b->lo);
        date_typed(b, &b->date_from, x->s, an);
    }
    if (x->hi[0] && (!b->hi[0] || strcmp(x->hi, b->hi) < 0)) {
        memcpy(b->hi, x->hi, sizeof b->hi);
        date_typed(b, &b->date_to, bs, bn);
    }
}

static cxs_qnode *date_node(builder *b, const char *lo, const char *hi) {
    cxs_qnode *r =
        cxs_qnode_range(CXS_SLOT_DATE, *lo ? lo : NULL, *hi ? hi : NULL);
    if (!r)
        b->st = CXS_ERR_NOMEM;
    return r;
}

/* Filters apply to the whole query wherever they are typed; an excluded
 * one (-channel:x) excludes at the top. */
static void filter_apply(builder *b, const cxs_qlexeme *x, group *top) {
    if (x->field == CXS_QF_DATE) {
        if (x->neg)
            group_add(b, top, date_node(b, x->lo, x->hi), 1);
        else
            date_apply(b, x);
        return;
    }
    cxs_qnode *t = nterm(b, CXS_Q_TERM, x->fterm, strlen(x->fterm));
    if (x->neg) {
        group_add(b, top, t, 1);
        return;
    }
    int f = (int)x->field; /* F_* and FV_* agree up to CXS_QF_TAG */
    if (!b->fterms[f] && !(b->fterms[f] = nnew(b, CXS_Q_OR))) {
        cxs_qnode_free(t);
        return;
    }
    nadd(b, b->fterms[f], t);
    size_t skip = x->field == CXS_QF_TAG && x->n && x->s[0] == '#';
    sv_push(b, &b->fvals[f], x->s + skip, x->n - skip);
}

/* (AND channels authors langs tags dates), or NULL without filters. */
static cxs_qnode *filters_node(builder *b) {
    cxs_qnode *all = nnew(b, CXS_Q_AND);
    for (int f = 0; f < NFV; f++) {
        nadd(b, all, collapse(b->fterms[f]));
        b->fterms[f] = NULL;
    }
    if (b->lo[0] || b->hi[0])
        nadd(b, all, date_node(b, b->lo, b->hi));
    return collapse(all);
}

/* Stopwords stay only when the query has nothing else to look for. */
static int only_stopwords(const cxs_qlexer *L) {
    for (size_t i = 0; i < L->n; i++) {
        const cxs_qlexeme *x = &L->lx[i];
        if (x->neg || (x->kind != CXS_LX_WORD && x->kind != CXS_LX_PHRASE))
            continue;
        if ((x->kind == CXS_LX_PHRASE || x->prefix) && x->text.n)
            return 0;
        for (size_t k = 0; k < x->text.n; k++) {
            const cxs_qtok *t = &x->text.toks[k];
            if (cxs_qtok_is_key(t) && (!(t->flags & CXS_TOKF_STOPWORD) ||
                                       (t->flags & CXS_TOKF_COMPOUND)))
                return 0;
        }
    }
    return 1;
}

static int span_word(const cxs_qlexeme *x) {
    return x->kind == CXS_LX_WORD && !x->neg && !x->prefix && x->text.n > 0;
}

/* Tries a synonym member at word i; returns the words it covers. */
static size_t span_at(const builder *b, cxs_qlexer *L, size_t i) {
    const cxs_qtok *toks[CXS_QMAX_SPAN];
    size_t owner[CXS_QMAX_SPAN], nt = 0, g = 0, m = 0;
    int last[CXS_QMAX_SPAN] = {0};
    for (size_t j = i; j < L->n && span_word(&L->lx[j]); j++) {
        const cxs_qtext *t = &L->lx[j].text;
        for (size_t k = 0; k < t->n; k++) {
            if (!cxs_qtok_is_key(&t->toks[k]))
                continue;
            if (nt == CXS_QMAX_SPAN)
                goto full;
            toks[nt] = &t->toks[k];
            owner[nt++] = j;
        }
        if (nt)
            last[nt - 1] = 1;
    }
full:;
    size_t k = nt ? cxs_synonyms_match(b->syn, toks, nt, &g, &m) : 0;
    if (!k || !last[k - 1])
        return 0; /* no member, or one that ends inside a word */
    size_t j = owner[k - 1];
    if (j + 1 < L->n && L->lx[j + 1].kind == CXS_LX_OR)
        return 0; /* the last word is an OR operand */
    L->lx[i].span = j - i + 1;
    L->lx[i].sgroup = g;
    L->lx[i].smember = m;
    for (size_t w = i + 1; w <= j; w++)
        L->lx[w].in_span = 1;
    return j - i + 1;
}

static void mark_spans(const builder *b, cxs_qlexer *L) {
    if (!b->syn)
        return;
    for (size_t i = 0; i < L->n;) {
        size_t n = 0;
        if (span_word(&L->lx[i]) && (i == 0 || L->lx[i - 1].kind != CXS_LX_OR))
            n = span_at(b, L, i);
        i += n ? n : 1;
    }
}

/* ---------------------------------------------------------------------
 * Parsing: a loop over the lexemes with a bounded stack of groups
 * ------------------------------------------------------------------ */

typedef struct parser {
    group stack[CXS_QMAX_DEPTH + 1];
    size_t depth;
    size_t flattened; /* '(' past CXS_QMAX_DEPTH, whose ')' are ignored too */
    int negdepth;     /* open excluded groups: nothing in them is shown */
} parser;

static void close_group(builder *b, parser *p) {
    group *g = &p->stack[p->depth--];
    p->negdepth -= g->neg;
    group_add(b, &p->stack[p->depth], group_node(b, g), g->neg);
}

static cxs_qnode *item_node(builder *b, const cxs_qlexeme *x) {
    if (x->kind == CXS_LX_PHRASE)
        return phrase_node(b, &x->text);
    if (x->span)
        return span_node(b, x);
    return x->prefix ? prefix_node(b, x) : word_node(b, x);
}

static void parse_one(builder *b, parser *p, const cxs_qlexeme *x) {
    group *g = &p->stack[p->depth];
    switch (x->kind) {
    case CXS_LX_LPAREN:
        if (p->depth == CXS_QMAX_DEPTH) {
            p->flattened++;
            break;
        }
        group_init(b, &p->stack[++p->depth], x->neg);
        p->negdepth += x->neg;
        break;
    case CXS_LX_RPAREN:
        if (p->flattened)
            p->flattened--;
        else if (p->depth) /* a ')' with no '(' is ignored */
            close_group(b, p);
        break;
    case CXS_LX_OR: g->or_pending = 1; break;
    case CXS_LX_FILTER: filter_apply(b, x, &p->stack[0]); break;
    case CXS_LX_WORD:
    case CXS_LX_PHRASE:
        if (x->in_span)
            break;
        b->collect = !x->neg && p->negdepth == 0;
        long k = group_add(b, g, item_node(b, x), x->neg);
        if (x->span && p->depth == 0 && k >= 0 && k < CXS_QMAX_LEXEMES)
            b->span_clause[k] = 1;
        b->collect = 0;
        break;
    default: break;
    }
}

/* Turns a copy of the top clauses into "as many as possible" (OR),
 * opening the words of synonym spans too. Returns how many items the OR
 * then holds: below two, relaxing changes nothing. */
static size_t relax(const builder *b, cxs_qnode *rel) {
    size_t units = rel->nkids;
    rel->op = CXS_Q_OR;
    for (size_t i = 0; i < rel->nkids && i < CXS_QMAX_LEXEMES; i++) {
        cxs_qnode *c = rel->kids[i];
        if (!b->span_clause[i])
            continue;
        if (c->op == CXS_Q_OR && c->nkids == 2 && c->kids[0]->op == CXS_Q_AND)
            c = c->kids[0]; /* (OR (AND words) (SCALE synonyms)) */
        if (c->op == CXS_Q_AND) {
            c->op = CXS_Q_OR;
            units += c->nkids - 1;
        }
    }
    return units;
}

/* The words for proximity rescoring (cxs_query.prox): each word's exact
 * and lemma terms, what pos_or would accept. */
static void prox_words(builder *b, cxs_query *out) {
    if (b->nprox < 2)
        return;
    out->prox = calloc(b->nprox, sizeof *out->prox);
    if (!out->prox) {
        b->st = CXS_ERR_NOMEM;
        return;
    }
    out->nprox = b->nprox;
    for (size_t i = 0; i < b->nprox; i++) {
        const cxs_qtok *t = b->prox[i];
        strvec v = {0};
        for (size_t k = 0; k < t->nterms; k++)
            if (t->terms[k].kind == CXS_TERM_EXACT ||
                t->terms[k].kind == CXS_TERM_LEMMA)
                sv_push(b, &v, t->terms[k].s, t->terms[k].len);
        sv_sort_unique(&v);
        out->prox[i].terms = v.v;
        out->prox[i].n = v.n;
    }
}

/* q restricted by the filter f, which adds no weight (both taken over;
 * f may be NULL). */
static cxs_qnode *filtered(builder *b, cxs_qnode *q, cxs_qnode *f) {
    if (!f || !q) {
        cxs_qnode_free(f);
        return q;
    }
    cxs_qnode *fl = nnew(b, CXS_Q_FILTER);
    nadd(b, fl, q);
    nadd(b, fl, f);
    return fl;
}

/* Builds strict and relaxed from the top group and the filters. */
static void finish(builder *b, group *top, cxs_query *out) {
    cxs_qnode *f = filters_node(b), *rel = NULL;
    if (top->clauses && top->clauses->nkids > 0) {
        if (!(rel = cxs_qnode_clone(top->clauses)))
            b->st = CXS_ERR_NOMEM;
        else if (relax(b, rel) < 2) {
            cxs_qnode_free(rel);
            rel = NULL;
        } else {
            rel = collapse(rel);
        }
    }
    cxs_qnode *ex2 = rel && top->excl ? cxs_qnode_clone(top->excl) : NULL;
    cxs_qnode *f2 = rel && f ? cxs_qnode_clone(f) : NULL;
    if ((rel && top->excl && !ex2) || (rel && f && !f2))
        b->st = CXS_ERR_NOMEM;
    prox_words(b, out);
    cxs_qnode *strict = with_excl(b, collapse(top->clauses), top->excl);
    top->clauses = top->excl = NULL;
    out->strict = filtered(b, strict, f);
    if (rel)
        out->relaxed = filtered(b, with_excl(b, rel, ex2), f2);
    else
        cxs_qnode_free(f2);
}

static void move_vec(strvec *s, char ***v, size_t *n) {
    *v = s->v;
    *n = s->n;
    memset(s, 0, sizeof *s);
}

typedef struct hl_pair {
    char *term;
    unsigned long long words;
} hl_pair;

static int cmp_hl_pair(const void *a, const void *b) {
    return strcmp(((const hl_pair *)a)->term, ((const hl_pair *)b)->term);
}

/* Sorts the highlight terms, merging equal ones and their word bits. */
static void hl_sort_unique(builder *b) {
    size_t n = b->hl.n, k = 0;
    hl_pair *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        b->st = CXS_ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (hl_pair){b->hl.v[i], b->hlw[i]};
    qsort(v, n, sizeof *v, cmp_hl_pair);
    for (size_t i = 0; i < n; i++) {
        if (k && strcmp(v[i].term, b->hl.v[k - 1]) == 0) {
            b->hlw[k - 1] |= v[i].words;
            free(v[i].term);
            continue;
        }
        b->hl.v[k] = v[i].term;
        b->hlw[k++] = v[i].words;
    }
    b->hl.n = k;
    free(v);
}

static void hand_over(builder *b, cxs_query *out) {
    sv_sort_unique(&b->prefixes);
    move_vec(&b->hl, &out->hl_terms, &out->nhl_terms);
    out->hl_words = b->hlw;
    b->hlw = NULL;
    b->hlw_cap = 0;
    move_vec(&b->prefixes, &out->hl_prefixes, &out->nhl_prefixes);
    move_vec(&b->words, &out->words, &out->nwords);
    cxs_query_filters *f = &out->filters;
    move_vec(&b->fvals[FV_CHANNEL], &f->channels, &f->nchannels);
    move_vec(&b->fvals[FV_AUTHOR], &f->authors, &f->nauthors);
    move_vec(&b->fvals[FV_LANG], &f->langs, &f->nlangs);
    move_vec(&b->fvals[FV_TAG], &f->tags, &f->ntags);
    f->date_from = b->date_from;
    f->date_to = b->date_to;
    b->date_from = b->date_to = NULL;
}

static void builder_init(builder *b, const cxs_query_opts *o) {
    static const cxs_query_opts none = {0};
    if (!o)
        o = &none;
    memset(b, 0, sizeof *b);
    b->w[C_EXACT] = o->w_exact > 0 ? o->w_exact : 1.0;
    b->w[C_ASCII] = o->w_ascii > 0 ? o->w_ascii : 0.7;
    b->w[C_LEMMA] = o->w_lemma > 0 ? o->w_lemma : 0.8;
    b->w[C_STEM] = o->w_stem > 0 ? o->w_stem : 0.6;
    b->wsyn = o->w_synonym > 0 ? o->w_synonym : 0.5;
    b->syn = o->syn;
    b->phrases = o->phrases;
}

static void builder_release(builder *b) {
    sv_free(&b->hl);
    free(b->hlw);
    sv_free(&b->prefixes);
    sv_free(&b->words);
    for (int f = 0; f < NFV; f++) {
        sv_free(&b->fvals[f]);
        cxs_qnode_free(b->fterms[f]);
    }
    free(b->date_from);
    free(b->date_to);
}

static void build(builder *b, cxs_qlexer *L, cxs_query *out) {
    parser *p = calloc(1, sizeof *p);
    if (!p) {
        b->st = CXS_ERR_NOMEM;
        return;
    }
    b->keep_stop = only_stopwords(L);
    mark_spans(b, L);
    if (b->st == CXS_OK && b->forgive_a &&
        cxs_qforgive_run(b->forgive_a, L, b->opts, b->err) != CXS_OK)
        b->st = b->err && b->err->code != CXS_OK ? b->err->code
                                                 : CXS_ERR_NOMEM;
    group_init(b, &p->stack[0], 0);
    for (size_t i = 0; i < L->n; i++)
        parse_one(b, p, &L->lx[i]);
    while (p->depth) /* unclosed '(' close at the end */
        close_group(b, p);
    finish(b, &p->stack[0], out);
    group_free(&p->stack[0]);
    free(p);
    if (b->st == CXS_OK)
        hl_sort_unique(b);
}

cxs_status cxs_query_parse(cxs_stemmers *a, const char *q, size_t len,
                           const cxs_query_opts *opts, cxs_query *out,
                           cxs_err *err) {
    size_t max = opts && opts->max_len ? opts->max_len : CXS_QDEFAULT_MAX_LEN;
    memset(out, 0, sizeof *out);
    if (len > max)
        return cxs_err_set(err, CXS_ERR_TOO_LARGE,
                           "query is %zu bytes, over the limit of %zu", len,
                           max);
    cxs_qlexer L = {q ? q : "", q ? len : 0, 0, NULL, 0, 0, 0, 0, 0,
                    NULL, 0, NULL};
    builder b;
    builder_init(&b, opts);
    cxs_status rc = cxs_qlex_run(&L, err);
    if (rc == CXS_OK)
        rc = cxs_qlex_analyze(a, &L, err);
    if (rc == CXS_OK) {
        b.forgive_a = a;
        b.opts = opts;
        b.err = err;
        build(&b, &L, out);
        if (b.st != CXS_OK && (!err || err->code == CXS_OK))
            rc = cxs_err_set(err, b.st, "out of memory");
        else if (b.st != CXS_OK)
            rc = b.st;
    }
    if (rc == CXS_OK) {
        hand_over(&b, out);
        out->rewrites = L.rw;
        out->nrewrites = L.nrw;
        out->suggestion = L.suggestion;
        L.rw = NULL;
        L.nrw = 0;
        L.suggestion = NULL;
    }
    else
        cxs_query_release(out);
    builder_release(&b);
    cxs_qlex_release(&L);
    return rc;
}

static void free_vec(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cxs_query_release(cxs_query *q) {
    if (!q)
        return;
    cxs_qnode_free(q->strict);
    cxs_qnode_free(q->relaxed);
    free_vec(q->hl_terms, q->nhl_terms);
    free(q->hl_words);
    free_vec(q->hl_prefixes, q->nhl_prefixes);
    free_vec(q->words, q->nwords);
    for (size_t i = 0; i < q->nprox; i++)
        free_vec(q->prox[i].terms, q->prox[i].n);
    free(q->prox);
    cxs_query_filters *f = &q->filters;
    free_vec(f->channels, f->nchannels);
    free_vec(f->authors, f->nauthors);
    free_vec(f->langs, f->nlangs);
    free_vec(f->tags, f->ntags);
    free(f->date_from);
    free(f->date_to);
    for (size_t i = 0; i < q->nrewrites; i++) {
        free(q->rewrites[i].typed);
        free(q->rewrites[i].read_as);
    }
    free(q->rewrites);
    free(q->suggestion);
    memset(q, 0, sizeof *q);
}
