/*
 * query_lex.c - the cxs_qlexer of the query language (query_int.h, query.h).
 *
 * Facts that shaped it:
 * - People type quotes of every kind («», “”, ASCII), so all of them
 *   delimit phrases; a quote left open runs to the end of the query.
 * - Operators are only operators with operands on both sides (OR, AND) or
 *   after them (NOT, '-'); anything else is read as the word it is.
 * - Filters (field:value, #tag) are recognized here and folded with the
 *   index's own folding (terms.h), so query and index cannot disagree; a
 *   value that cannot be read (date:abc) turns back into words.
 * - Input is untrusted: at most CXS_QMAX_UNITS units and CXS_QMAX_LEXEMES
 * lexemes are produced, and parentheses past CXS_QMAX_DEPTH are dropped right
 * here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_grow.h"
#include "cxs_utf8.h"
#include "dates.h"
#include "query_int.h"
#include "terms.h"

/* The code point at s[i] (i < n) and its length; invalid UTF-8 (overlong
 * forms and surrogates too, as the analyzer reads them) is U+FFFD. */
static uint32_t cp_at(const char *s, size_t n, size_t i, size_t *clen) {
    unsigned c;
    *clen = cxs_utf8_decode(s + i, n - i, &c);
    return c;
}

static int is_space(uint32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
           c == 0xFEFF;
}

/* ASCII, «guillemets» and “typographic” quotes all delimit phrases. */
static int is_quote(uint32_t c) {
    return c == '"' || c == 0xAB || c == 0xBB || c == 0x201C || c == 0x201D ||
           c == 0x201E;
}

static int is_delim(uint32_t c) {
    return is_space(c) || is_quote(c) || c == '(' || c == ')' || c == '|';
}

static cxs_qlexeme *lx_push(cxs_qlexer *L, cxs_lx_kind kind) {
    if (CXS_GROW(L->lx, L->cap, L->n + 1) != CXS_OK)
        return NULL;
    cxs_qlexeme *x = &L->lx[L->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

/* The end of a quoted run opened just before i: the next quote or the end
 * of the query (an unbalanced quote runs to the end). */
static size_t quote_end(const cxs_qlexer *L, size_t i, size_t *after) {
    size_t cl;
    while (i < L->len) {
        if (is_quote(cp_at(L->q, L->len, i, &cl))) {
            *after = i + cl;
            return i;
        }
        i += cl;
    }
    *after = L->len;
    return L->len;
}

static int field_of(const char *s, size_t n, cxs_qfield *f) {
    static const char *const names[] = {"channel", "author", "lang", "tag",
                                        "date"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (n == strlen(names[k]) && strncasecmp(s, names[k], n) == 0) {
            *f = (cxs_qfield)k;
            return 1;
        }
    return 0;
}

static void set_text(cxs_qlexeme *x, const char *s, size_t n) {
    x->s = x->raw = s;
    x->n = x->rawn = n;
}

static int lex_phrase(cxs_qlexer *L, int neg) {
    size_t cl, after, start = L->i;
    cp_at(L->q, L->len, L->i, &cl);
    size_t from = L->i + cl, to = quote_end(L, from, &after);
    cxs_qlexeme *x = lx_push(L, CXS_LX_PHRASE);
    if (!x)
        return -1;
    set_text(x, L->q + start, after - start);
    x->s = L->q + from;
    x->n = to - from;
    x->neg = neg;
    L->i = after;
    L->units++;
    return 0;
}

/* field:value, field:"a value" or #tag; 0 when the word is none of them.
 * The word is q[start..end). */
static int lex_filter(cxs_qlexer *L, cxs_qlexeme *x, size_t start, size_t end) {
    const char *w = L->q + start;
    size_t n = end - start, cl, after;
    if (n > 1 && w[0] == '#') {
        x->field = CXS_QF_TAG;
        return 1;
    }
    const char *colon = memchr(w, ':', n);
    if (!colon || !field_of(w, (size_t)(colon - w), &x->field))
        return 0;
    size_t vstart = (size_t)(colon - L->q) + 1;
    if (vstart == end && end < L->len &&
        is_quote(cp_at(L->q, L->len, end, &cl))) {
        size_t to = quote_end(L, end + cl, &after);
        if (to == end + cl)
            return 0; /* field:"" */
        x->s = L->q + end + cl;
        x->n = to - (end + cl);
        x->rawn = after - start;
        L->i = after;
        return 1;
    }
    x->s = L->q + vstart;
    x->n = end - vstart;
    return x->n > 0;
}

static void lex_operator(cxs_qlexeme *x) {
    if (x->neg)
        return;
    if (x->n == 2 && memcmp(x->s, "OR", 2) == 0)
        x->kind = CXS_LX_OR;
    else if (x->n == 3 && memcmp(x->s, "AND", 3) == 0)
        x->kind = CXS_LX_AND;
    else if (x->n == 3 && memcmp(x->s, "NOT", 3) == 0)
        x->kind = CXS_LX_NOT;
}

static int lex_word(cxs_qlexer *L, int neg) {
    size_t start = L->i, end = start, cl;
    while (end < L->len && !is_delim(cp_at(L->q, L->len, end, &cl)))
        end += cl;
    cxs_qlexeme *x = lx_push(L, CXS_LX_WORD);
    if (!x)
        return -1;
    x->neg = neg;
    set_text(x, L->q + start, end - start);
    L->i = end;
    if (lex_filter(L, x, start, end)) {
        x->kind = CXS_LX_FILTER;
        L->units++;
        return 0;
    }
    set_text(x, L->q + start, end - start);
    lex_operator(x);
    if (x->kind != CXS_LX_WORD)
        return 0;
    while (x->n && x->s[x->n - 1] == '*') {
        x->n--;
        x->prefix = 1;
    }
    if (x->n == 0)
        L->n--; /* a lone '*' means nothing */
    else
        L->units++;
    return 0;
}

/* Parentheses deeper than CXS_QMAX_DEPTH are dropped here, with their closing
 * ones, so that any nesting costs one cxs_qlexeme per level at most. */
static int lex_deep(cxs_qlexer *L, uint32_t c) {
    if (c == '(' && L->depth == CXS_QMAX_DEPTH)
        L->flat++;
    else if (c == ')' && L->flat)
        L->flat--;
    else {
        if (c == '(')
            L->depth++;
        else if (c == ')' && L->depth)
            L->depth--;
        return 0;
    }
    L->i++;
    return 1;
}

static int lex_punct(cxs_qlexer *L, uint32_t c, int neg) {
    if (lex_deep(L, c))
        return 0;
    cxs_qlexeme *x = lx_push(L, c == '('   ? CXS_LX_LPAREN
                                : c == ')' ? CXS_LX_RPAREN
                                           : CXS_LX_OR);
    if (!x)
        return -1;
    x->neg = neg;
    set_text(x, L->q + L->i, 1);
    L->i++;
    return 0;
}

/* A leading '-' excludes, a leading '+' (required) is the default; both
 * only when something follows at once. */
static int lex_sign(cxs_qlexer *L, uint32_t *c, size_t *cl) {
    if ((*c != '-' && *c != '+') || L->i + 1 >= L->len)
        return 0;
    size_t dl;
    uint32_t d = cp_at(L->q, L->len, L->i + 1, &dl);
    if (is_space(d) || d == ')' || d == '|' || d == '-' || d == '+')
        return 0;
    int neg = *c == '-';
    L->i++;
    *c = d;
    *cl = dl;
    return neg;
}

static int lex_all(cxs_qlexer *L) {
    size_t cl;
    while (L->i < L->len && L->n < CXS_QMAX_LEXEMES &&
           L->units < CXS_QMAX_UNITS) {
        uint32_t c = cp_at(L->q, L->len, L->i, &cl);
        if (is_space(c)) {
            L->i += cl;
            continue;
        }
        int neg = lex_sign(L, &c, &cl), rc;
        if (c == '(' || c == ')' || c == '|')
            rc = lex_punct(L, c, neg);
        else if (is_quote(c))
            rc = lex_phrase(L, neg);
        else
            rc = lex_word(L, neg);
        if (rc)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Operators without operands are read as words
 * ------------------------------------------------------------------ */

static cxs_qlexeme *neighbor(cxs_qlexer *L, size_t i, int dir) {
    for (size_t k = i;;) {
        if (dir < 0 ? k == 0 : k + 1 >= L->n)
            return NULL;
        k = dir < 0 ? k - 1 : k + 1;
        if (L->lx[k].kind != CXS_LX_NONE)
            return &L->lx[k];
    }
}

static int ends_operand(const cxs_qlexeme *x) {
    return x &&
           (((x->kind == CXS_LX_WORD || x->kind == CXS_LX_PHRASE) && !x->neg) ||
            x->kind == CXS_LX_RPAREN);
}

static int starts_operand(const cxs_qlexeme *x) {
    return x && !x->neg &&
           (x->kind == CXS_LX_WORD || x->kind == CXS_LX_PHRASE ||
            x->kind == CXS_LX_LPAREN);
}

static void make_literal(cxs_qlexeme *x) {
    x->kind = CXS_LX_WORD;
    x->s = x->raw;
    x->n = x->rawn;
}

static void fix_operators(cxs_qlexer *L) {
    for (size_t i = 0; i < L->n; i++) {
        cxs_qlexeme *x = &L->lx[i], *next = neighbor(L, i, 1);
        if (x->kind != CXS_LX_NOT)
            continue;
        if (next && !next->neg &&
            (starts_operand(next) || next->kind == CXS_LX_FILTER)) {
            next->neg = 1;
            x->kind = CXS_LX_NONE;
        } else {
            make_literal(x);
        }
    }
    for (size_t i = 0; i < L->n; i++) {
        cxs_qlexeme *x = &L->lx[i];
        if (x->kind != CXS_LX_OR && x->kind != CXS_LX_AND)
            continue;
        if (!ends_operand(neighbor(L, i, -1)) ||
            !starts_operand(neighbor(L, i, 1)))
            make_literal(x);
        else if (x->kind == CXS_LX_AND)
            x->kind = CXS_LX_NONE; /* AND is what words do anyway */
    }
}

/* ---------------------------------------------------------------------
 * Filters: values folded to boolean terms, dates to bounds
 * ------------------------------------------------------------------ */

/* "2024", "2024-01..2024-03", "2024..", "..2023-06-30". A reversed range
 * is read the right way round. */
static int date_range(cxs_qlexeme *x, const char *v) {
    const char *dots = strstr(v, "..");
    char a[64], b[64];
    size_t an = dots ? (size_t)(dots - v) : strlen(v);
    const char *bs = dots ? dots + 2 : v;
    if (an >= sizeof a || strlen(bs) >= sizeof b)
        return 0;
    memcpy(a, v, an);
    a[an] = '\0';
    strcpy(b, bs);
    if ((!*a && !*b) || (*a && !cxs_date_bound(a, false, x->lo)) ||
        (*b && !cxs_date_bound(b, true, x->hi)))
        return 0;
    if (*a && *b && strcmp(x->lo, x->hi) > 0 &&
        (!cxs_date_bound(b, false, x->lo) || !cxs_date_bound(a, true, x->hi)))
        return 0;
    return 1;
}

static const char *field_prefix(cxs_qfield f) {
    switch (f) {
    case CXS_QF_CHANNEL: return CXS_PFX_CHANNEL;
    case CXS_QF_AUTHOR: return CXS_PFX_AUTHOR;
    case CXS_QF_LANG: return CXS_PFX_LANG;
    case CXS_QF_TAG: return CXS_PFX_TAG;
    case CXS_QF_DATE: break;
    }
    return "";
}

/* 1: a usable filter; 0: read it as words; -1: out of memory. */
static int filter_prepare(cxs_qlexeme *x) {
    char *v = cxs_strndup(x->s, x->n);
    if (!v)
        return -1;
    int ok = 0;
    if (x->field == CXS_QF_DATE) {
        ok = date_range(x, v);
    } else {
        const char *value = v;
        cxs_lang lang = cxs_lang_from_code(v);
        if (x->field == CXS_QF_LANG && lang != CXS_LANG_UNKNOWN)
            value = cxs_lang_code(lang);
        const char *pfx = field_prefix(x->field);
        cxs_buf b = CXS_BUF_INIT;
        cxs_status rc = cxs_terms_field(pfx, value, &b);
        if (rc == CXS_ERR_NOMEM)
            ok = -1;
        else if (rc == CXS_OK && b.len > strlen(pfx))
            ok = (x->fterm = cxs_buf_detach(&b)) ? 1 : -1;
        cxs_buf_release(&b);
    }
    free(v);
    return ok;
}

/* Analyzes words and phrases, prepares filters (a bad one becomes a word). */
cxs_status cxs_qlex_analyze(cxs_stemmers *a, cxs_qlexer *L, cxs_err *err) {
    for (size_t i = 0; i < L->n; i++) {
        cxs_qlexeme *x = &L->lx[i];
        if (x->kind == CXS_LX_FILTER) {
            int ok = filter_prepare(x);
            if (ok < 0)
                return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
            if (ok == 0)
                make_literal(x);
        }
        if (x->kind != CXS_LX_WORD && x->kind != CXS_LX_PHRASE)
            continue;
        cxs_status rc =
            cxs_qtext_analyze(a, x->s, x->n, CXS_QMAX_TEXT_TOKS, &x->text, err);
        if (rc != CXS_OK)
            return rc;
    }
    return CXS_OK;
}

cxs_status cxs_qlex_run(cxs_qlexer *L, cxs_err *err) {
    if (lex_all(L))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    fix_operators(L);
    return CXS_OK;
}

void cxs_qlex_release(cxs_qlexer *L) {
    for (size_t i = 0; i < L->n; i++) {
        cxs_qtext_release(&L->lx[i].text);
        free(L->lx[i].fterm);
        cxs_qforgive_release(&L->lx[i]);
    }
    free(L->lx);
    L->lx = NULL;
    L->n = 0;
    for (size_t i = 0; i < L->nrw; i++) {
        free(L->rw[i].typed);
        free(L->rw[i].read_as);
    }
    free(L->rw);
    L->rw = NULL;
    L->nrw = 0;
    free(L->suggestion);
    L->suggestion = NULL;
}
