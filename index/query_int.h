/*
 * query_int.h - internals shared by the query parser (query.c) and the
 * synonym table (synonyms.c); not part of the public contract.
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

#include <stddef.h>

#include "analyzer.h"
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
cxs_status cxs_qtext_analyze(cxs_analyzer *a, const char *text, size_t len,
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

/* Number of members of a group, and one member's analyzed text. */
size_t cxs_synonyms_group_size(const cxs_synonyms *s, size_t group);
const cxs_qtext *cxs_synonyms_member(const cxs_synonyms *s, size_t group,
                                     size_t member);

#endif /* CXS_QUERY_INT_H */
