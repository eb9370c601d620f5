/*
 * meili_filter.c - a recursive-descent parser for Meilisearch filter
 * expressions, building a cxs_qnode filter tree (see meili.h).
 *
 *   expr      = and ("OR" and)*
 *   and       = not ("AND" not)*
 *   not       = "NOT" not | "(" expr ")" | condition
 *   condition = attr op value            op: = != > >= < <=
 *             | attr value "TO" value
 *             | attr ["NOT"] "IN" "[" value ("," value)* "]"
 *   attr, value = a bare word or a '...' / "..." string (\ escapes)
 *
 * Facts that shaped it: keywords are recognised only unquoted and in any
 * case, so a quoted "AND" is a value; a bare word ends at white space or
 * one of ()[],=!<>'" so that "lang=ru" needs no spaces. Values longer than
 * MAX_VALUE bytes are refused rather than truncated (a truncated value
 * would silently match something else). EXISTS, IS NULL, IS EMPTY and
 * _geo filters are refused with a message saying so.
 */
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dates.h"
#include "meili.h"
#include "terms.h"

#define MAX_VALUE 1024
#define MAX_DEPTH 64
#define MAX_CONDITIONS 1000

typedef enum tok_type {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_OP,
    T_WORD,
    T_STR,
    T_BAD
} tok_type;

typedef struct tok {
    tok_type type;
    size_t col; /* 1-based byte column of the token's start */
    char op[3];
    char val[MAX_VALUE + 1];
    size_t len;
} tok;

typedef struct parser {
    const char *s;
    size_t n, i;
    int depth;
    size_t nconds;
    int oom;
    char *msg;
    size_t cap;
    int failed;
} parser;

typedef enum attr_kind { A_FIELD, A_ID, A_DATE, A_YEAR } attr_kind;

static const struct {
    const char *name;
    attr_kind kind;
    const char *prefix;
} ATTRS[] = {{"channel", A_FIELD, CXS_PFX_CHANNEL},
             {"author", A_FIELD, CXS_PFX_AUTHOR},
             {"lang", A_FIELD, CXS_PFX_LANG},
             {"tags", A_FIELD, CXS_PFX_TAG},
             {"tag", A_FIELD, CXS_PFX_TAG},
             {"id", A_ID, CXS_PFX_ID},
             {"date", A_DATE, NULL},
             {"year", A_YEAR, NULL}};
#define NATTRS (sizeof ATTRS / sizeof ATTRS[0])

/* Records the first error only; later ones are its consequences. */
static cxs_qnode *fail(parser *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cxs_qnode *fail(parser *p, size_t col, const char *fmt, ...) {
    if (p->failed)
        return NULL;
    p->failed = 1;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int shown = p->n > 120 ? 120 : (int)p->n;
    snprintf(p->msg, p->cap, "filter: %s, at column %zu of `%.*s%s`", what, col,
             shown, p->s, p->n > 120 ? "…" : "");
    return NULL;
}

static cxs_qnode *oom(parser *p) {
    p->oom = 1;
    return fail(p, p->i + 1, "out of memory");
}

/* ---- lexer ---- */

static bool is_special(char c) {
    return c && strchr("()[],=!<>'\"", c) != NULL;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void lex_string(parser *p, tok *t) {
    char q = p->s[p->i++];
    t->type = T_STR;
    while (p->i < p->n && p->s[p->i] != q) {
        char c = p->s[p->i++];
        if (c == '\\' && p->i < p->n)
            c = p->s[p->i++];
        if (t->len == MAX_VALUE) {
            t->type = T_BAD;
            return;
        }
        t->val[t->len++] = c;
    }
    if (p->i >= p->n) {
        t->type = T_BAD; /* unterminated */
        t->len = 0;
        return;
    }
    p->i++;
}

static void lex_op(parser *p, tok *t) {
    char c = p->s[p->i++];
    t->type = T_OP;
    t->op[0] = c;
    if (p->i < p->n && p->s[p->i] == '=' && c != '=')
        t->op[1] = p->s[p->i++];
    if (strcmp(t->op, "!") == 0)
        t->type = T_BAD;
}

/* Reads the next token, advancing. */
static void lex(parser *p, tok *t) {
    t->type = T_END;
    memset(t->op, 0, sizeof t->op);
    t->len = 0;
    t->val[0] = '\0';
    while (p->i < p->n && is_space(p->s[p->i]))
        p->i++;
    t->col = p->i + 1;
    if (p->i >= p->n)
        return; /* T_END */
    char c = p->s[p->i];
    static const char PUNCT[] = "()[],";
    const char *pc = strchr(PUNCT, c);
    if (pc && c) {
        p->i++;
        t->type = (tok_type)(T_LPAREN + (pc - PUNCT));
    } else if (c == '\'' || c == '"') {
        lex_string(p, t);
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        lex_op(p, t);
    } else {
        t->type = T_WORD;
        while (p->i < p->n && !is_space(p->s[p->i]) &&
               !is_special(p->s[p->i])) {
            if (t->len == MAX_VALUE) {
                t->type = T_BAD;
                break;
            }
            t->val[t->len++] = p->s[p->i++];
        }
    }
    t->val[t->len] = '\0';
}

static void peek(parser *p, tok *t) {
    size_t at = p->i;
    lex(p, t);
    p->i = at;
}

static bool is_kw(const tok *t, const char *kw) {
    return t->type == T_WORD && strcasecmp(t->val, kw) == 0;
}

static bool is_value(const tok *t) {
    return t->type == T_STR ||
           (t->type == T_WORD && !is_kw(t, "AND") && !is_kw(t, "OR") &&
            !is_kw(t, "TO") && !is_kw(t, "NOT") && !is_kw(t, "IN"));
}

static const char *tok_text(const tok *t) {
    switch (t->type) {
    case T_END: return "the end";
    case T_LPAREN: return "`(`";
    case T_RPAREN: return "`)`";
    case T_LBRACK: return "`[`";
    case T_RBRACK: return "`]`";
    case T_COMMA: return "`,`";
    case T_BAD:
        return "a malformed token (unterminated quote, lone `!` or "
               "a value over 1024 bytes)";
    default: return t->type == T_OP ? t->op : t->val;
    }
}

/* ---- tree helpers ---- */

/* op over a and b (either may be NULL after a failure). */
static cxs_qnode *join(parser *p, cxs_qop op, cxs_qnode *a, cxs_qnode *b) {
    if (!a || !b) {
        cxs_qnode_free(a);
        cxs_qnode_free(b);
        return p->failed ? NULL : oom(p);
    }
    if (a->op == op && op != CXS_Q_AND_NOT) {
        if (cxs_qnode_add(a, b) != CXS_OK) {
            cxs_qnode_free(a);
            return oom(p);
        }
        return a;
    }
    cxs_qnode *n = cxs_qnode_new(op);
    if (!n || cxs_qnode_add(n, a) != CXS_OK) {
        cxs_qnode_free(n);
        cxs_qnode_free(b);
        return oom(p);
    }
    if (cxs_qnode_add(n, b) != CXS_OK) {
        cxs_qnode_free(n);
        return oom(p);
    }
    return n;
}

static cxs_qnode *negate(parser *p, cxs_qnode *x) {
    if (!x)
        return NULL;
    return join(p, CXS_Q_AND_NOT, cxs_qnode_new(CXS_Q_ALL), x);
}

/* ---- values ---- */

/* Writes tm as "YYYYMMDDhhmmss"; -1 for years outside 0..9999. */
static int put_bound(const struct tm *tm, char out[15]) {
    char tmp[80];
    if (tm->tm_year < -1900 || tm->tm_year > 9999 - 1900)
        return -1;
    snprintf(tmp, sizeof tmp, "%04d%02d%02d%02d%02d%02d", tm->tm_year + 1900,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
    memcpy(out, tmp, 14);
    out[14] = '\0';
    return 0;
}

/* A date bound as "YYYYMMDDhhmmss", moved by delta seconds. */
static void shift(char b[15], int delta) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(b, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) + delta;
    if (gmtime_r(&t, &tm))
        put_bound(&tm, b);
}

/* The first (upper == 0) or last second of the period a value names. */
static int date_bound(const tok *v, attr_kind kind, int upper, char out[15]) {
    size_t digits = strspn(v->val, "0123456789");
    if (strlen(v->val) != v->len)
        return -1;
    if (kind == A_YEAR)
        return v->len == 4 && digits == 4 && cxs_date_bound(v->val, upper, out)
                   ? 0
                   : -1;
    if (digits == v->len && v->len > 4 && v->len <= 12) {
        time_t t = (time_t)strtoll(v->val, NULL, 10);
        struct tm tm;
        return gmtime_r(&t, &tm) ? put_bound(&tm, out) : -1;
    }
    return cxs_date_bound(v->val, upper, out) ? 0 : -1;
}

static cxs_qnode *range(parser *p, const char *lo, const char *hi) {
    cxs_qnode *n = cxs_qnode_range(CXS_SLOT_DATE, lo, hi);
    return n ? n : oom(p);
}

static cxs_qnode *bad_date(parser *p, const tok *v, attr_kind kind) {
    return fail(p, v->col,
                kind == A_YEAR
                    ? "`%s` is not a year (four digits)"
                    : "`%s` is not a date (use 2024, 2024-03, 2024-03-05, "
                      "an ISO 8601 date-time or unix seconds)",
                v->val);
}

/* attr op value, for date and year. */
static cxs_qnode *date_cond(parser *p, attr_kind kind, const char *op,
                            const tok *v) {
    char lo[15], hi[15];
    if (date_bound(v, kind, 0, lo) < 0 || date_bound(v, kind, 1, hi) < 0)
        return bad_date(p, v, kind);
    if (strcmp(op, "=") == 0)
        return range(p, lo, hi);
    if (strcmp(op, "!=") == 0)
        return negate(p, range(p, lo, hi));
    if (strcmp(op, ">=") == 0)
        return range(p, lo, NULL);
    if (strcmp(op, "<=") == 0)
        return range(p, NULL, hi);
    if (strcmp(op, ">") == 0) {
        shift(hi, 1);
        return range(p, hi, NULL);
    }
    shift(lo, -1); /* "<" */
    return range(p, NULL, lo);
}

/* attr = value for the term fields. */
static cxs_qnode *term_eq(parser *p, int a, const tok *v) {
    if (ATTRS[a].kind == A_ID) {
        cxs_qnode *t = cxs_qnode_term(CXS_Q_TERM, CXS_PFX_ID, v->val, v->len);
        return t ? t : oom(p);
    }
    cxs_buf b = CXS_BUF_INIT;
    cxs_qnode *t = NULL;
    cxs_status rc = cxs_terms_field(ATTRS[a].prefix, v->val, &b);
    if (rc == CXS_OK)
        t = cxs_qnode_term(CXS_Q_TERM, "", b.data ? b.data : "", b.len);
    cxs_buf_release(&b);
    if (rc == CXS_ERR_NOMEM || (rc == CXS_OK && !t))
        return oom(p);
    if (rc != CXS_OK)
        return fail(p, v->col, "`%s` is not a valid %s value", v->val,
                    ATTRS[a].name);
    return t;
}

static cxs_qnode *cond_eq(parser *p, int a, const tok *v) {
    if (++p->nconds > MAX_CONDITIONS)
        return fail(p, v->col, "more than %d conditions", MAX_CONDITIONS);
    return ATTRS[a].kind >= A_DATE ? date_cond(p, ATTRS[a].kind, "=", v)
                                   : term_eq(p, a, v);
}

/* ---- grammar ---- */

static cxs_qnode *parse_or(parser *p);

/* A value where one must be: keywords count as words here. */
static bool take_value(parser *p, tok *v, const char *after) {
    lex(p, v);
    if (v->type != T_STR && v->type != T_WORD) {
        fail(p, v->col, "expected a value after %s, found %s", after,
             tok_text(v));
        return false;
    }
    if (strlen(v->val) != v->len) {
        fail(p, v->col, "NUL byte in a value");
        return false;
    }
    return true;
}

/* attr [NOT] IN [v, ...] (the "IN" already taken). */
static cxs_qnode *cond_in(parser *p, int a) {
    tok t, v;
    lex(p, &t);
    if (t.type != T_LBRACK)
        return fail(p, t.col, "expected `[` after IN, found %s", tok_text(&t));
    cxs_qnode *any = cxs_qnode_new(CXS_Q_OR);
    if (!any)
        return oom(p);
    for (;;) {
        if (!take_value(p, &v, "`[` or `,`"))
            break;
        any = join(p, CXS_Q_OR, any, cond_eq(p, a, &v));
        lex(p, &t);
        if (!any || t.type == T_RBRACK)
            break;
        if (t.type != T_COMMA) {
            fail(p, t.col, "expected `,` or `]` in IN [...], found %s",
                 tok_text(&t));
            break;
        }
    }
    if (p->failed) {
        cxs_qnode_free(any);
        return NULL;
    }
    return any;
}

/* attr a TO b (a already read). */
static cxs_qnode *cond_to(parser *p, int a, const tok *from) {
    tok t, to;
    lex(p, &t);
    if (!is_kw(&t, "TO"))
        return fail(p, t.col,
                    "expected an operator (=, !=, >, >=, <, <=, TO, IN, NOT "
                    "IN) after `%s`, found %s",
                    ATTRS[a].name, tok_text(from));
    if (ATTRS[a].kind < A_DATE)
        return fail(p, t.col, "TO ranges apply to date and year only, not %s",
                    ATTRS[a].name);
    if (!take_value(p, &to, "TO"))
        return NULL;
    char lo[15], hi[15];
    if (date_bound(from, ATTRS[a].kind, 0, lo) < 0)
        return bad_date(p, from, ATTRS[a].kind);
    if (date_bound(&to, ATTRS[a].kind, 1, hi) < 0)
        return bad_date(p, &to, ATTRS[a].kind);
    ++p->nconds;
    return range(p, lo, hi);
}

static cxs_qnode *cond_op(parser *p, int a, const tok *op) {
    tok v;
    if (!take_value(p, &v, op->op))
        return NULL;
    if (strcmp(op->op, "=") == 0)
        return cond_eq(p, a, &v);
    if (strcmp(op->op, "!=") == 0)
        return negate(p, cond_eq(p, a, &v));
    if (ATTRS[a].kind < A_DATE)
        return fail(p, op->col, "`%s` applies to date and year only, not %s",
                    op->op, ATTRS[a].name);
    ++p->nconds;
    return date_cond(p, ATTRS[a].kind, op->op, &v);
}

static int find_attr(const tok *t) {
    for (size_t i = 0; i < NATTRS; i++)
        if (strlen(ATTRS[i].name) == t->len &&
            strcmp(ATTRS[i].name, t->val) == 0)
            return (int)i;
    return -1;
}

static cxs_qnode *parse_condition(parser *p) {
    tok at, t;
    lex(p, &at);
    if (!is_value(&at))
        return fail(p, at.col, "expected an attribute, `(` or NOT, found %s",
                    tok_text(&at));
    int a = find_attr(&at);
    if (a < 0)
        return fail(p, at.col,
                    "attribute `%s` is not filterable; filterable attributes "
                    "are author, channel, date, id, lang, tags, year",
                    at.val);
    lex(p, &t);
    if (t.type == T_OP)
        return cond_op(p, a, &t);
    if (is_kw(&t, "IN"))
        return cond_in(p, a);
    if (is_kw(&t, "NOT")) {
        lex(p, &t);
        if (is_kw(&t, "IN"))
            return negate(p, cond_in(p, a));
    }
    if (is_kw(&t, "EXISTS") || is_kw(&t, "IS"))
        return fail(p, t.col,
                    "EXISTS, IS NULL, IS EMPTY and _geo filters "
                    "are not supported");
    if (is_value(&t))
        return cond_to(p, a, &t);
    return fail(p, t.col,
                "expected an operator (=, !=, >, >=, <, <=, TO, IN, NOT IN) "
                "after `%s`, found %s",
                at.val, tok_text(&t));
}

static cxs_qnode *parse_not(parser *p) {
    tok t;
    peek(p, &t);
    if (++p->depth > MAX_DEPTH)
        return fail(p, t.col, "nested more than %d levels", MAX_DEPTH);
    cxs_qnode *r;
    if (is_kw(&t, "NOT")) {
        lex(p, &t);
        r = negate(p, parse_not(p));
    } else if (t.type == T_LPAREN) {
        lex(p, &t);
        r = parse_or(p);
        lex(p, &t);
        if (r && t.type != T_RPAREN) {
            cxs_qnode_free(r);
            r = fail(p, t.col, "expected `)`, found %s", tok_text(&t));
        }
    } else {
        r = parse_condition(p);
    }
    p->depth--;
    return r;
}

static cxs_qnode *parse_and(parser *p) {
    cxs_qnode *left = parse_not(p);
    tok t;
    for (peek(p, &t); left && is_kw(&t, "AND"); peek(p, &t)) {
        lex(p, &t);
        left = join(p, CXS_Q_AND, left, parse_not(p));
    }
    return left;
}

static cxs_qnode *parse_or(parser *p) {
    cxs_qnode *left = parse_and(p);
    tok t;
    for (peek(p, &t); left && is_kw(&t, "OR"); peek(p, &t)) {
        lex(p, &t);
        left = join(p, CXS_Q_OR, left, parse_and(p));
    }
    return left;
}

/* One string expression; *out NULL when it is blank. */
static cxs_status parse_string(const char *s, size_t n, size_t *nconds,
                               cxs_qnode **out, char *msg, size_t cap) {
    parser p = {s, n, 0, 0, *nconds, 0, msg, cap, 0};
    tok t;
    *out = NULL;
    peek(&p, &t);
    if (t.type == T_END)
        return CXS_OK;
    cxs_qnode *r = parse_or(&p);
    lex(&p, &t);
    if (r && t.type != T_END) {
        cxs_qnode_free(r);
        r = fail(&p, t.col, "expected AND, OR or the end, found %s",
                 tok_text(&t));
    }
    *nconds = p.nconds;
    *out = r;
    return r ? CXS_OK : p.oom ? CXS_ERR_NOMEM : CXS_ERR_INVALID;
}

/* ---- the JSON forms ---- */

typedef struct walk {
    size_t nconds;
    char *msg;
    size_t cap;
} walk;

/* Adds the expression (or the OR of an inner array) e to acc; a blank
 * expression adds nothing. */
static cxs_status add_item(walk *w, const json_t *e, int inner, size_t i,
                           cxs_qnode *acc) {
    cxs_qnode *x = NULL;
    cxs_status rc;
    if (json_is_string(e)) {
        rc = parse_string(json_string_value(e), json_string_length(e),
                          &w->nconds, &x, w->msg, w->cap);
    } else if (json_is_array(e) && !inner) {
        x = cxs_qnode_new(CXS_Q_OR);
        rc = x ? CXS_OK : CXS_ERR_NOMEM;
        for (size_t j = 0; rc == CXS_OK && j < json_array_size(e); j++)
            rc = add_item(w, json_array_get(e, j), 1, j, x);
        if (rc == CXS_OK && x->nkids == 0) {
            cxs_qnode_free(x);
            x = NULL;
        }
    } else {
        snprintf(w->msg, w->cap,
                 "filter: element %zu: expected a string%s, found %s", i,
                 inner ? "" : " or an array of strings",
                 json_is_array(e) ? "an array nested too deep"
                                  : "another "
                                    "type");
        return CXS_ERR_INVALID;
    }
    if (rc != CXS_OK || !x) {
        cxs_qnode_free(x);
        return rc;
    }
    return cxs_qnode_add(acc, x);
}

/* A single child replaces its parent; no child means no filter. */
static cxs_qnode *simplify(cxs_qnode *n) {
    if (n->nkids == 1) {
        cxs_qnode *k = n->kids[0];
        n->nkids = 0;
        cxs_qnode_free(n);
        return k;
    }
    if (n->nkids == 0) {
        cxs_qnode_free(n);
        return NULL;
    }
    return n;
}

static cxs_status filter_into(const json_t *filter, cxs_qnode **out, char *msg,
                              size_t cap) {
    walk w = {0, msg, cap};
    *out = NULL;
    if (!filter || json_is_null(filter))
        return CXS_OK;
    if (json_is_string(filter))
        return parse_string(json_string_value(filter),
                            json_string_length(filter), &w.nconds, out, msg,
                            cap);
    if (!json_is_array(filter)) {
        snprintf(msg, cap, "filter: expected a string or an array");
        return CXS_ERR_INVALID;
    }
    cxs_qnode *all = cxs_qnode_new(CXS_Q_AND);
    cxs_status rc = all ? CXS_OK : CXS_ERR_NOMEM;
    for (size_t i = 0; rc == CXS_OK && i < json_array_size(filter); i++)
        rc = add_item(&w, json_array_get(filter, i), 0, i, all);
    if (rc != CXS_OK) {
        cxs_qnode_free(all);
        if (rc == CXS_ERR_NOMEM)
            snprintf(msg, cap, "out of memory");
        return rc;
    }
    *out = simplify(all);
    return CXS_OK;
}

cxs_status cxs_meili_filter(const json_t *filter, cxs_qnode **out,
                            cxs_err *err) {
    cxs_err scratch;
    if (!err)
        err = &scratch;
    cxs_err_clear(err);
    err->code = filter_into(filter, out, err->msg, sizeof err->msg);
    return err->code;
}
