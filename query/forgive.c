/*
 * forgive.c - forgiving search: other readings of the free words the
 * index does not know (query.h, cxs_forgive; docs/query-language.md).
 *
 * Facts that shaped it:
 * - Only a word the index holds in none of its forms (exact, accent-free,
 *   lemma, stem) is read otherwise: a correct word is never "corrected"
 *   (Xapian's did-you-mean turned "поведенческая экономика" into
 *   "поведенческая экономит"), and known words cost one term lookup each.
 * - The readings are tried from the most to the least certain: the other
 *   keyboard layout (a known word after swapping is hardly chance), then
 *   Russian in Latin letters, then typos. Each reading becomes an
 *   alternative of the word, weighted below it (query.c), so a direct
 *   match always ranks first, one typo above two.
 * - Typos are not forgiven where a wrong letter changes the meaning or
 *   nobody types by hand: phrases, excluded words, prefixes, numbers,
 *   URLs, @mentions, hashtags, words with digits (ids), acronyms (written
 *   in capitals), short words. Counting is in characters (lexicon.h).
 * - Bounded work: at most FORGIVE_MAX_WORDS words per query are looked up
 *   in the lexicon, each lookup is bounded (CXS_LEX_MAX_ROWS), and at most
 *   max_candidates readings are analyzed per word.
 */
#include <stdlib.h>
#include <string.h>

#include "cxs_utf8.h"
#include "layout.h"
#include "query_int.h"
#include "terms.h"

#define FORGIVE_MAX_WORDS 8 /* words looked up per query */
#define W_LAYOUT 0.9
#define W_TRANSLIT 0.8
#define W_TYPO1 0.5
#define W_TYPO2 0.3
#define W_PREFIX 0.7
#define PREFIX_MAX 8 /* completions of the word typed so far */

typedef struct fctx {
    cxs_stemmers *a;
    const cxs_query_opts *o;
    cxs_qlexer *L;
    unsigned one, two, maxc, ptypo;
    size_t budget;
    cxs_status st;
    cxs_err *err;
} fctx;

const char *cxs_rewrite_why_name(cxs_rewrite_why why) {
    switch (why) {
    case CXS_RW_TYPO: return "typo";
    case CXS_RW_LAYOUT: return "layout";
    case CXS_RW_TRANSLIT: return "translit";
    case CXS_RW_PREFIX: return "prefix";
    case CXS_RW_SYNONYM: return "synonym";
    }
    return "typo";
}

void cxs_qforgive_release(cxs_qlexeme *x) {
    for (size_t i = 0; i < x->nalts; i++) {
        cxs_qtext_release(&x->alts[i].text);
        for (size_t k = 0; k < x->alts[i].nexact; k++)
            free(x->alts[i].exact[k]);
        free(x->alts[i].exact);
    }
    free(x->alts);
    x->alts = NULL;
    x->nalts = 0;
}

static size_t nchars(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static int term_known(const fctx *c, const cxs_qterm *t) {
    if (c->o->termfreq)
        return c->o->termfreq(c->o->termfreq_ud, t->s, t->len) > 0;
    return t->kind == CXS_TERM_EXACT &&
           cxs_lexicon_freq(c->o->lexicon, t->s, t->len) > 0;
}

static int tok_known(const fctx *c, const cxs_qtok *t) {
    for (size_t i = 0; i < t->nterms; i++)
        if (term_known(c, &t->terms[i]))
            return 1;
    return 0;
}

/* Every key word of t that is not a stopword is known (and there is one). */
static int text_known(const fctx *c, const cxs_qtext *t) {
    int words = 0;
    for (size_t i = 0; i < t->n; i++) {
        const cxs_qtok *k = &t->toks[i];
        if (!cxs_qtok_is_key(k) || (k->flags & CXS_TOKF_STOPWORD))
            continue;
        if (!tok_known(c, k))
            return 0;
        words++;
    }
    return words > 0;
}

static int forgivable(const cxs_qlexeme *x) {
    return x->kind == CXS_LX_WORD && !x->neg && !x->prefix && !x->span &&
           !x->in_span && x->text.n > 0;
}

/* The one word of a lexeme that typos may be forgiven in, or NULL. */
static const cxs_qtok *typo_word(const cxs_qlexeme *x) {
    const cxs_qtok *w = NULL;
    for (size_t i = 0; i < x->text.n; i++) {
        const cxs_qtok *k = &x->text.toks[i];
        if (!cxs_qtok_is_key(k))
            continue;
        if (w || k->kind != CXS_TOK_WORD ||
            (k->flags & (CXS_TOKF_CAPS | CXS_TOKF_COMPOUND)))
            return NULL;
        w = k;
    }
    for (size_t i = 0; w && i < w->form_len; i++)
        if (w->form[i] >= '0' && w->form[i] <= '9')
            return NULL;
    return w;
}

static cxs_qalt *push_alt(fctx *c, cxs_qlexeme *x, cxs_rewrite_why why,
                          double w) {
    cxs_qalt *v = realloc(x->alts, (x->nalts + 1) * sizeof *v);
    if (!v) {
        c->st = CXS_ERR_NOMEM;
        return NULL;
    }
    x->alts = v;
    cxs_qalt *alt = &v[x->nalts++];
    memset(alt, 0, sizeof *alt);
    alt->why = why;
    alt->w = w;
    return alt;
}

/* A copy of what was typed with invalid UTF-8 repaired (U+FFFD): the
 * query's bytes are anyone's. NULL on OOM. */
static char *fixed_copy(const char *s, size_t n) {
    cxs_buf b = CXS_BUF_INIT;
    char *out = cxs_utf8_append_fixed(&b, s, n, NULL) == CXS_OK
                    ? cxs_buf_detach(&b)
                    : NULL;
    cxs_buf_release(&b);
    return out;
}

static void record(fctx *c, const cxs_qlexeme *x, const char *as, size_t n,
                   cxs_rewrite_why why) {
    cxs_qlexer *L = c->L;
    cxs_rewrite *v = realloc(L->rw, (L->nrw + 1) * sizeof *v);
    if (!v) {
        c->st = CXS_ERR_NOMEM;
        return;
    }
    L->rw = v;
    cxs_rewrite *r = &v[L->nrw];
    r->typed = fixed_copy(x->raw, x->rawn);
    r->read_as = cxs_strndup(as, n);
    r->why = why;
    r->start = (size_t)(x->raw - L->q);
    r->len = x->rawn;
    if (!r->typed || !r->read_as) {
        free(r->typed);
        free(r->read_as);
        c->st = CXS_ERR_NOMEM;
        return;
    }
    L->nrw++;
}

/* Whether t is a form of a word some earlier reading of x already
 * searches in all its forms ("кастомизации" after "кастомизация"): a
 * second reading would only add its weight again, and a form two edits
 * away could outrank the word one edit away. */
static int form_of_earlier(const cxs_qlexeme *x, const cxs_qtext *t) {
    for (size_t i = 0; i < x->nalts; i++) {
        const cxs_qtext *e = &x->alts[i].text;
        if (e->n && t->n && cxs_qtok_match(&e->toks[0], &t->toks[0]))
            return 1;
    }
    return 0;
}

/* Adds text as a reading of x when the index knows it (or always, with
 * force), unless an earlier reading covers it. Returns 1 when added. */
static int text_alt(fctx *c, cxs_qlexeme *x, const char *s, size_t n,
                    cxs_rewrite_why why, double w, int force) {
    cxs_qtext t = {0};
    cxs_status rc = cxs_qtext_analyze(c->a, s, n, CXS_QMAX_TEXT_TOKS, &t, c->err);
    if (rc != CXS_OK) {
        c->st = rc;
        return 0;
    }
    if ((!force && !text_known(c, &t)) || form_of_earlier(x, &t)) {
        cxs_qtext_release(&t);
        return 0;
    }
    cxs_qalt *alt = push_alt(c, x, why, w);
    if (!alt) {
        cxs_qtext_release(&t);
        return 0;
    }
    alt->text = t;
    return 1;
}

/* Two typos need both thresholds (as Meilisearch's minWordSizeForTypos,
 * where twoTypos below oneTypo allows nothing more). */
static unsigned typos_allowed(const fctx *c, size_t chars) {
    return chars >= c->one && chars >= c->two ? 2 : chars >= c->one ? 1 : 0;
}

/* Only the closest candidates count (SymSpell's "closest"), so that a
 * post with a word one typo away always ranks above one with a word two
 * typos away, which weights alone cannot promise (BM25 rates a rare word
 * far above a common one). A farther word is kept only when it is far
 * more common than every closer one (FAR_MORE): a closer word seen once is
 * more likely a typo of the corpus than what was meant. cand is sorted by
 * distance, then frequency. */
#define FAR_MORE 10
static int closest_enough(const cxs_lexcand *cand, size_t i) {
    return cand[i].dist == cand[0].dist ||
           (unsigned long long)cand[i].freq >=
               (unsigned long long)cand[0].freq * FAR_MORE;
}

/* The index's words within the typos allowed of form, as readings of x
 * weighted by wmul and the edits. Returns how many. */
static size_t typo_alts(fctx *c, cxs_qlexeme *x, const char *form, size_t n,
                        cxs_rewrite_why why, double wmul) {
    unsigned d = typos_allowed(c, nchars(form, n));
    if (!d || c->o->forgive.no_typos || !c->budget)
        return 0;
    c->budget--;
    cxs_lexcand cand[16];
    size_t k = cxs_lexicon_near(c->o->lexicon, form, n, d, 1, cand,
                                c->maxc < 16 ? c->maxc : 16);
    size_t added = 0;
    for (size_t i = 0; i < k && c->st == CXS_OK; i++) {
        if (!closest_enough(cand, i))
            continue;
        double w = wmul * (cand[i].dist == 1 ? W_TYPO1 : W_TYPO2);
        if (!text_alt(c, x, cand[i].word, cand[i].len, why, w, 1))
            continue;
        if (added++ == 0)
            record(c, x, cand[i].word, cand[i].len, why);
    }
    return added;
}

/* The word typed with the other keyboard layout. */
static int layout_alt(fctx *c, cxs_qlexeme *x) {
    if (c->o->forgive.no_layout)
        return 0;
    cxs_buf b = CXS_BUF_INIT;
    int swapped = 0, ok = 0;
    if (cxs_layout_swap(x->s, x->n, &b, &swapped) != CXS_OK)
        c->st = CXS_ERR_NOMEM;
    else if (swapped && text_alt(c, x, b.data, b.len, CXS_RW_LAYOUT,
                                 W_LAYOUT, 0)) {
        record(c, x, b.data, b.len, CXS_RW_LAYOUT);
        ok = 1;
    }
    cxs_buf_release(&b);
    return ok;
}

/* Russian in Latin letters: the transliteration when the index knows it,
 * else the index's words within typos of it. */
static int translit_alt(fctx *c, cxs_qlexeme *x, const cxs_qtok *w) {
    if (c->o->forgive.no_translit || !w || !(w->flags & CXS_TOKF_LATIN))
        return 0;
    cxs_buf b = CXS_BUF_INIT;
    int ok = 0;
    cxs_status rc = cxs_stemmers_translit_ru(c->a, w->form, w->form_len, &b,
                                             c->err);
    if (rc != CXS_OK)
        c->st = rc;
    else if (b.len && text_alt(c, x, b.data, b.len, CXS_RW_TRANSLIT,
                               W_TRANSLIT, 0)) {
        record(c, x, b.data, b.len, CXS_RW_TRANSLIT);
        ok = 1;
    } else if (b.len) {
        ok = typo_alts(c, x, b.data, b.len, CXS_RW_TRANSLIT, W_TRANSLIT) > 0;
    }
    cxs_buf_release(&b);
    return ok;
}

/* A word the index does not know: the other layout, else Russian in
 * Latin letters and typos. When the transliteration was itself only
 * corrected ("marketng" -> "маркетнг" -> "маркетинг") and the word has
 * typo readings as typed ("marketing"), those weigh more (0.5 against
 * 0.8 x 0.5), so they are said first. */
static void forgive_word(fctx *c, cxs_qlexeme *x) {
    if (text_known(c, &x->text))
        return;
    if (layout_alt(c, x) || c->st != CXS_OK)
        return;
    const cxs_qtok *w = typo_word(x);
    size_t said = c->L->nrw;
    int tr = translit_alt(c, x, w);
    int exact_tr = tr && x->alts[0].why == CXS_RW_TRANSLIT &&
                   x->alts[0].w == W_TRANSLIT;
    if (!w || c->st != CXS_OK || exact_tr)
        return;
    size_t before = c->L->nrw;
    if (typo_alts(c, x, w->form, w->form_len, CXS_RW_TYPO, 1.0) && tr &&
        before > said && c->L->nrw > before) {
        cxs_rewrite t = c->L->rw[said];
        c->L->rw[said] = c->L->rw[before];
        c->L->rw[before] = t;
    }
}

/* Every key word of t is a stopword (and there is one). */
static int only_stop(const cxs_qtext *t) {
    int n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const cxs_qtok *k = &t->toks[i];
        if (!cxs_qtok_is_key(k))
            continue;
        if (!(k->flags & CXS_TOKF_STOPWORD))
            return 0;
        n++;
    }
    return n > 0;
}

/* A whole query typed on the other layout: once most of its words were
 * read so, the others are too, even short ones the index knows as typed
 * ("b" is "и" on ЙЦУКЕН, "ntcn" "тест"): a stopword reading drops the
 * word, as the stopword typed right would have been. */
static void layout_rest(fctx *c) {
    size_t words = 0, swapped = 0;
    for (size_t i = 0; i < c->L->n; i++) {
        const cxs_qlexeme *x = &c->L->lx[i];
        words += forgivable(x);
        swapped += forgivable(x) && x->nalts && x->alts[0].why == CXS_RW_LAYOUT;
    }
    if (!swapped || swapped * 2 < words || c->o->forgive.no_layout)
        return;
    for (size_t i = 0; i < c->L->n && c->st == CXS_OK; i++) {
        cxs_qlexeme *x = &c->L->lx[i];
        cxs_buf b = CXS_BUF_INIT;
        int sw = 0;
        if (forgivable(x) && !x->nalts &&
            cxs_layout_swap(x->s, x->n, &b, &sw) == CXS_OK && sw &&
            text_alt(c, x, b.data, b.len, CXS_RW_LAYOUT, W_LAYOUT, 1)) {
            cxs_qalt *alt = &x->alts[x->nalts - 1];
            alt->drop = only_stop(&alt->text);
            if (alt->drop || text_known(c, &alt->text))
                record(c, x, b.data, b.len, CXS_RW_LAYOUT);
            else
                cxs_qforgive_release(x); /* neither: as typed */
        }
        cxs_buf_release(&b);
    }
}

/* ---- the word typed so far ---- */

/* The last lexeme, when the query ends inside it and it is a free word. */
static cxs_qlexeme *typed_last(cxs_qlexer *L) {
    if (!L->n)
        return NULL;
    cxs_qlexeme *x = &L->lx[L->n - 1];
    if (!forgivable(x) || x->raw + x->rawn != L->q + L->len)
        return NULL;
    return x;
}

/* Whether a completion is a form of the word typed, which the word
 * already finds through its lemmas and stems: as a completion too, it
 * would lift "опыта" above "опыт" for the query "опыт" (the exact form
 * must rank first). */
static int form_of_typed(fctx *c, const cxs_qlexeme *x,
                         const cxs_lexcand *cand) {
    cxs_qtext t = {0};
    int same = 0;
    if (cxs_qtext_analyze(c->a, cand->word, cand->len, 4, &t, NULL) == CXS_OK)
        for (size_t i = 0; !same && i < x->text.n && t.n; i++)
            same = cxs_qtok_is_key(&x->text.toks[i]) &&
                   cxs_qtok_match(&x->text.toks[i], &t.toks[0]);
    cxs_qtext_release(&t);
    return same;
}

/* The most frequent words starting with p[0..n) as one reading of x;
 * the typed word itself is left out (x searches it already), unless p is
 * another reading (keep). Returns 1 when there was any. */
static int completion_alt(fctx *c, cxs_qlexeme *x, const char *p, size_t n,
                          int keep) {
    unsigned d = nchars(p, n) >= c->ptypo && !c->o->forgive.no_typos ? 1 : 0;
    cxs_lexcand cand[PREFIX_MAX + 1];
    size_t k = cxs_lexicon_complete(c->o->lexicon, p, n, d, cand,
                                    PREFIX_MAX + 1);
    char **v = calloc(k ? k : 1, sizeof *v);
    size_t m = 0;
    int known = !keep && text_known(c, &x->text);
    for (size_t i = 0; v && i < k && m < PREFIX_MAX; i++)
        if ((keep || cand[i].len != n || memcmp(cand[i].word, p, n) != 0) &&
            !(known && form_of_typed(c, x, &cand[i])) &&
            !(v[m++] = cxs_strndup(cand[i].word, cand[i].len)))
            c->st = CXS_ERR_NOMEM;
    cxs_qalt *alt = v && m ? push_alt(c, x, CXS_RW_PREFIX, W_PREFIX) : NULL;
    if (!v)
        c->st = CXS_ERR_NOMEM;
    if (!alt) {
        for (size_t i = 0; i < m; i++)
            free(v[i]);
        free(v);
        return 0;
    }
    alt->exact = v;
    alt->nexact = m;
    record(c, x, v[0], strlen(v[0]), CXS_RW_PREFIX);
    return 1;
}

/* The word typed so far: read like any other word, and also as the
 * start of a longer one (or, when nothing starts so, of one on the other
 * keyboard layout). */
static void forgive_typing(fctx *c, cxs_qlexeme *x) {
    const cxs_qtok *w = NULL;
    for (size_t i = 0; i < x->text.n; i++)
        if (cxs_qtok_is_key(&x->text.toks[i]))
            w = &x->text.toks[i];
    forgive_word(c, x);
    if (!w || w->kind != CXS_TOK_WORD || c->st != CXS_OK ||
        completion_alt(c, x, w->form, w->form_len, 0) || c->st != CXS_OK ||
        x->nalts)
        return;
    cxs_buf b = CXS_BUF_INIT;
    int swapped = 0;
    if (!c->o->forgive.no_layout &&
        cxs_layout_swap(w->form, w->form_len, &b, &swapped) == CXS_OK &&
        swapped)
        (void)completion_alt(c, x, b.data, b.len, 1);
    cxs_buf_release(&b);
}

/* ---- synonyms, said too ---- */

/* Words x[0..span) matched a synonym member: the answer says that the
 * group's first other member was searched too (synonyms apply even with
 * forgive.off: they are the glossary, not a correction). */
static void synonym_said(fctx *c, const cxs_qlexeme *x) {
    const cxs_synonyms *syn = c->o->syn;
    size_t n = cxs_synonyms_group_size(syn, x->sgroup);
    for (size_t m = 0; m < n; m++) {
        if (m == x->smember)
            continue;
        const char *as = cxs_synonyms_member_text(syn, x->sgroup, m);
        const cxs_qlexeme *end = &x[x->span - 1];
        cxs_qlexeme span = *x;
        span.rawn = (size_t)(end->raw + end->rawn - x->raw);
        record(c, &span, as, strlen(as), CXS_RW_SYNONYM);
        return;
    }
}

/* ---- did-you-mean ---- */

static void suggest(fctx *c) {
    cxs_buf s = CXS_BUF_INIT;
    int changed = 0;
    for (size_t i = 0; i < c->L->n && c->st == CXS_OK; i++) {
        const cxs_qlexeme *x = &c->L->lx[i];
        if (!forgivable(x))
            continue;
        const cxs_qtok *w = typo_word(x);
        cxs_lexcand best;
        size_t chars = w ? nchars(w->form, w->form_len) : 0;
        unsigned d = chars >= 7 ? 2 : chars >= 3 ? 1 : 0;
        int fix = !x->nalts && w && d && c->budget &&
                  !text_known(c, &x->text) &&
                  cxs_lexicon_near(c->o->lexicon, w->form, w->form_len, d, 1,
                                   &best, 1) == 1;
        c->budget -= fix;
        if (s.len && cxs_buf_appendc(&s, ' ') != CXS_OK)
            c->st = CXS_ERR_NOMEM;
        if ((fix ? cxs_buf_append(&s, best.word, best.len)
                 : cxs_utf8_append_fixed(&s, x->raw, x->rawn, NULL)) != CXS_OK)
            c->st = CXS_ERR_NOMEM;
        changed |= fix;
    }
    if (c->st == CXS_OK && changed && !(c->L->suggestion = cxs_buf_detach(&s)))
        c->st = CXS_ERR_NOMEM;
    cxs_buf_release(&s);
}

/* Query order (layout_rest reads words after the others); insertion
 * sort, stable: a word's own rewrites stay in the order they were made. */
static void sort_rewrites(cxs_qlexer *L) {
    for (size_t i = 1; i < L->nrw; i++) {
        cxs_rewrite r = L->rw[i];
        size_t j = i;
        for (; j > 0 && L->rw[j - 1].start > r.start; j--)
            L->rw[j] = L->rw[j - 1];
        L->rw[j] = r;
    }
}

cxs_status cxs_qforgive_run(cxs_stemmers *a, cxs_qlexer *L,
                            const cxs_query_opts *o, cxs_err *err) {
    if (!o || !o->lexicon)
        return CXS_OK;
    const cxs_forgive *f = &o->forgive;
    fctx c = {a, o, L, f->one_typo_from ? f->one_typo_from : 5,
              f->two_typos_from ? f->two_typos_from : 9,
              f->max_candidates ? f->max_candidates : 5,
              f->prefix_typo_from ? f->prefix_typo_from : 5,
              FORGIVE_MAX_WORDS, CXS_OK, err};
    cxs_qlexeme *last = f->typing && !f->off ? typed_last(L) : NULL;
    for (size_t i = 0; i < L->n && c.st == CXS_OK; i++) {
        if (L->lx[i].span)
            synonym_said(&c, &L->lx[i]);
        if (f->off)
            continue;
        if (&L->lx[i] == last)
            forgive_typing(&c, last);
        else if (forgivable(&L->lx[i]))
            forgive_word(&c, &L->lx[i]);
    }
    if (c.st == CXS_OK && !f->off)
        layout_rest(&c);
    sort_rewrites(L);
    if (c.st == CXS_OK)
        suggest(&c);
    if (c.st != CXS_OK && err && err->code == CXS_OK)
        cxs_err_set(err, c.st, "out of memory");
    return c.st;
}
