/*
 * query_int.h - internals of the query module, shared by its files and
 * not part of the public contract: query_text.c (analyzed text),
 * query_lex.c (lexer), synonyms.c (synonym table), query.c (the tree).
 *
 * Both sides need the same thing: a piece of text run through the analyzer
 * into tokens, each with every Xapian term it may match (prefixes of
 * terms.h applied). The analyzer hands out borrowed pointers valid only
 * during its callbacks, so a cxs_qtext owns copies of everything.
 *
 * Matching a query word against a synonym member is done on these terms,
 * not on the text: "клиентского опыта" meets "клиентский опыт" through
 * the shared lemma terms.
 *
 * Thread-safety: plain data; a finished cxs_qtext may be read by several
 * threads (the synonym table is shared that way).
 */
#ifndef CXS_QUERY_INT_H
#define CXS_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "stemmers.h"
#include "cxs_buf.h"
#include "cxs_err.h"
#include "query.h"

/* One term of a token: the full Xapian term (prefix + text). */
typedef struct cxs_qterm {
    cxs_term_kind kind;
    char *s;
    size_t len;
} cxs_qterm;

typedef struct cxs_qtok {
    char *form; /* normalized exact form, NUL-terminated */
    size_t form_len;
    size_t start, end; /* byte span in the analyzed text */
    unsigned pos;
    cxs_token_kind kind;
    unsigned flags; /* CXS_TOKF_* */
    cxs_qterm *terms;
    size_t nterms;
    int has_lemma; /* the dictionary knew the word */
} cxs_qtok;

typedef struct cxs_qtext {
    cxs_qtok *toks;
    size_t n;
} cxs_qtext;

/* Tokenizes text[0..len) and expands every token (CXS_LANG_UNKNOWN: all
 * the languages a word may be in), keeping at most max_toks tokens. */
CXS_MUST_CHECK
cxs_status cxs_qtext_analyze(cxs_stemmers *a, const char *text, size_t len,
                             size_t max_toks, cxs_qtext *out, cxs_err *err);

/* Frees the tokens and zeroes t; NULL allowed. */
void cxs_qtext_release(cxs_qtext *t);

/* A token that stands for a word of the text: not a part of a compound
 * (the whole compound stands for it). */
static inline int cxs_qtok_is_key(const cxs_qtok *t) {
    return !(t->flags & CXS_TOKF_PART);
}

/* Whether two tokens are forms of one word: they share an exact,
 * accent-free or lemma term, or a stem when one of them is unknown to the
 * dictionary (stems alone join unrelated words too easily). */
int cxs_qtok_match(const cxs_qtok *a, const cxs_qtok *b);

/* The longest synonym member whose key tokens match toks[0..n) from the
 * start. Returns how many tokens it covers (0: none) and sets *group and
 * *member. */
size_t cxs_synonyms_match(const cxs_synonyms *s, const cxs_qtok *const *toks,
                          size_t n, size_t *group, size_t *member);

/* Number of groups; a member as written in the file. */
size_t cxs_synonyms_ngroups(const cxs_synonyms *s); /* s may be NULL */
const char *cxs_synonyms_member_text(const cxs_synonyms *s, size_t group,
                                     size_t member);

/* Number of members of a group, and one member's analyzed text. */
size_t cxs_synonyms_group_size(const cxs_synonyms *s, size_t group);
const cxs_qtext *cxs_synonyms_member(const cxs_synonyms *s, size_t group,
                                     size_t member);

/* ---- limits shared by the lexer and the parser ---- */
#define CXS_QMAX_UNITS 64     /* words, phrases and filters read from a query */
#define CXS_QMAX_LEXEMES 1024 /* lexemes of any kind (parentheses, OR, ...) */
#define CXS_QMAX_DEPTH 32     /* parentheses nesting; deeper ones flatten */
#define CXS_QMAX_TEXT_TOKS 64 /* tokens analyzed per word or phrase */
#define CXS_QMAX_TERMS 64     /* terms kept per token */
#define CXS_QMAX_SPAN 16      /* query tokens a synonym member may cover */
#define CXS_QDEFAULT_MAX_LEN 4096

/* ---- the lexer (query_lex.c): query text -> lexemes ---- */

typedef enum cxs_lx_kind {
    CXS_LX_NONE, /* an operator already applied (NOT, AND) */
    CXS_LX_WORD,
    CXS_LX_PHRASE,
    CXS_LX_FILTER,
    CXS_LX_LPAREN,
    CXS_LX_RPAREN,
    CXS_LX_OR,
    CXS_LX_AND,
    CXS_LX_NOT
} cxs_lx_kind;

typedef enum cxs_qfield {
    CXS_QF_CHANNEL,
    CXS_QF_AUTHOR,
    CXS_QF_LANG,
    CXS_QF_TAG,
    CXS_QF_DATE
} cxs_qfield;

/* Another reading of a free word (forgive.c): a corrected, re-keyed or
 * transliterated text, analyzed, or (completions of a prefix) a list of
 * exact terms. */
typedef struct cxs_qalt {
    cxs_rewrite_why why;
    double w;        /* relative to the word as typed */
    cxs_qtext text;  /* analyzed reading (empty for completions) */
    char **exact;    /* completions: exact terms (owned) */
    size_t nexact;
    int drop; /* the reading is only stopwords: the word is dropped, as a
                 stopword typed right would be */
} cxs_qalt;

typedef struct cxs_qlexeme {
    cxs_lx_kind kind;
    const char *s; /* word (without '-', '*'), phrase inside, filter value */
    size_t n;
    const char *raw; /* as typed, without a leading '-' */
    size_t rawn;
    int neg, prefix;
    cxs_qfield field;
    cxs_qtext text;      /* WORD, PHRASE: analyzed */
    char *fterm;         /* FILTER: the boolean term */
    char lo[15], hi[15]; /* FILTER date: bounds, "" for an open end */
    size_t span;         /* WORD: words covered by a synonym member from here */
    size_t sgroup, smember;
    int in_span; /* WORD: inside a span started by an earlier word */
    cxs_qalt *alts; /* WORD: other readings, best first (forgive.c) */
    size_t nalts;
} cxs_qlexeme;

typedef struct cxs_qlexer {
    const char *q;
    size_t len, i;
    cxs_qlexeme *lx;
    size_t n, cap, units;
    size_t depth, flat; /* open parentheses kept, and dropped */
    cxs_rewrite *rw;    /* what forgive.c changed, in query order */
    size_t nrw;
    char *suggestion; /* did-you-mean (forgive.c), or NULL */
} cxs_qlexer;

/* Splits L->q[0..L->len) into lexemes and turns operators without operands
 * into words. Fails only when out of memory (CXS_ERR_NOMEM, in err). */
CXS_MUST_CHECK cxs_status cxs_qlex_run(cxs_qlexer *L, cxs_err *err);

/* Analyzes words and phrases and prepares filters (a filter that cannot be
 * read becomes a word). */
CXS_MUST_CHECK
cxs_status cxs_qlex_analyze(cxs_stemmers *a, cxs_qlexer *L, cxs_err *err);

/* Frees the lexemes; L->q is not owned. */
void cxs_qlex_release(cxs_qlexer *L);

/* ---- forgiving search (forgive.c) ---- */

/* Gives the free words the index does not know their other readings
 * (lexeme alts) and records them in L->rw; fills L->suggestion. Words in
 * synonym spans (already marked) are left alone. */
CXS_MUST_CHECK cxs_status cxs_qforgive_run(cxs_stemmers *a, cxs_qlexer *L,
                                           const cxs_query_opts *o,
                                           cxs_err *err);

/* Frees a lexeme's readings. */
void cxs_qforgive_release(cxs_qlexeme *x);

/* ---- glossary phrases (phrases.c) ---- */

/* Appends to out the key of an analyzed phrase: the forms of its words
 * that take a position, joined by one space per position between them
 * (so "esperienza del cliente" and "esperienza cliente" differ). *has_key
 * is false (and nothing appended) when the phrase has fewer than two such
 * words. Fails only when out of memory (CXS_ERR_NOMEM). */
CXS_MUST_CHECK cxs_status cxs_phrases_key(const cxs_qtext *t, cxs_buf *out,
                                          bool *has_key);

#endif /* CXS_QUERY_INT_H */
