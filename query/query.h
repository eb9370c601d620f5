/*
 * query.h - the cxsearch query language, parsed into a cxs_qnode tree.
 *
 *   клиентский опыт        all words required (each word: exact form,
 *                          accent-free form, lemmas, stems, synonyms)
 *   "customer journey"     phrase, through the same analyzer (inflected
 *                          forms match in order)
 *   -word  -"a phrase"     exclusion
 *   nps OR csi, (a OR b) c OR between words or groups, parentheses
 *   esperien*              prefix
 *   channel:cxlogic author:"Анна" lang:it tag:nps #nps
 *   date:2024-01..2024-03  date range (open ends: date:2024.., date:..2023)
 *
 * Forgiving: unbalanced quotes or parentheses, stray operators and empty
 * queries are never errors; they are read as literally as possible (an
 * empty query matches all posts). Only a query longer than max_len bytes
 * fails, with CXS_ERR_TOO_LARGE.
 *
 * Stopwords are dropped from free-text parts unless the query has nothing
 * else; inside phrases they only keep their place (the index stores no
 * positions for them, so they widen the phrase's window).
 *
 * Thread-safety: cxs_query_parse uses the caller's analyzer (one per
 * thread); a cxs_synonyms is immutable after loading and may be shared by
 * all threads.
 */
#ifndef CXS_QUERY_H
#define CXS_QUERY_H

#include <stddef.h>

#include "stemmers.h"
#include "cxs_err.h"
#include "lexicon.h"
#include "qnode.h"

/* Synonym groups from config/synonyms.txt: one group per line, members
 * separated by commas; a member may be several words ("customer
 * experience"); '#' starts a comment. Matching is on the analyzed form,
 * so "клиентского опыта" in a query expands like "клиентский опыт". */
typedef struct cxs_synonyms cxs_synonyms;

/* Glossary phrases the index recognized when it was written (phrases.h):
 * a synonym member among them is looked up as one term. */
typedef struct cxs_phrases cxs_phrases;

/* Loads a synonyms file. A missing file is an error (CXS_ERR_IO); an
 * empty one gives an empty set. Bad lines are reported in err with the
 * line number and fail the load. */
CXS_MUST_CHECK cxs_status cxs_synonyms_load(const char *path, cxs_stemmers *a,
                             cxs_synonyms **out, cxs_err *err);
void cxs_synonyms_free(cxs_synonyms *s);

/* The groups, for showing them (the Meilisearch settings API): how many,
 * and the members of group i as written in the file (borrowed, valid
 * until cxs_synonyms_free). */
size_t cxs_synonyms_count(const cxs_synonyms *s);
const char *const *cxs_synonyms_members(const cxs_synonyms *s, size_t i,
                                        size_t *n);

/* Filters found in the query text itself (field:value). They are already
 * applied in strict and relaxed (boolean terms of terms.h, date as a
 * CXS_SLOT_DATE range); they are reported here for the caller's
 * information. Each array is owned by the cxs_query and holds
 * NUL-terminated values as typed. */
typedef struct cxs_query_filters {
    char **channels;
    size_t nchannels;
    char **authors;
    size_t nauthors;
    char **langs;
    size_t nlangs;
    char **tags;
    size_t ntags;
    char *date_from; /* "2024", "2024-01", "2024-01-31" or NULL */
    char *date_to;
} cxs_query_filters;

/* A query word as the terms a phrase position accepts (exact forms and
 * lemmas): what the index stores with positions. */
typedef struct cxs_qword {
    char **terms; /* sorted (strcmp), unique, owned */
    size_t n;
} cxs_qword;

/* Why a word was read as another (cxs_query.rewrites). */
typedef enum cxs_rewrite_why {
    CXS_RW_TYPO,     /* within a few edits of a word of the index */
    CXS_RW_LAYOUT,   /* typed with the other keyboard layout */
    CXS_RW_TRANSLIT, /* Russian in Latin letters */
    CXS_RW_PREFIX,   /* the last word, typed so far, completed */
    CXS_RW_SYNONYM   /* a synonym group's other members searched too */
} cxs_rewrite_why;

/* "typo", "layout", "translit", "prefix", "synonym". */
const char *cxs_rewrite_why_name(cxs_rewrite_why why);

typedef struct cxs_rewrite {
    char *typed;   /* the word as typed (owned; invalid UTF-8 repaired) */
    char *read_as; /* the best reading (owned) */
    cxs_rewrite_why why;
    size_t start, len; /* the typed bytes in the query string */
} cxs_rewrite;

/* The bit of query word w in cxs_query.hl_words; words past the 63rd
 * share the top bit, which therefore never means one word. */
#define CXS_QWORD_MANY (1ULL << 63)
#define CXS_QWORD_BIT(w) ((w) < 63 ? 1ULL << (w) : CXS_QWORD_MANY)

typedef struct cxs_query {
    /* The query with all words required, filters applied. Never NULL after
     * a successful parse (CXS_Q_ALL for an empty query). */
    cxs_qnode *strict;
    /* The same with required words relaxed to "as many as possible" (OR,
     * ranked by how many match), exclusions and filters kept; NULL when it
     * would equal strict (fewer than two required top-level items). */
    cxs_qnode *relaxed;
    /* Every term a matching post may contain for a positive (not excluded)
     * query word, prefixes included: the highlighter marks tokens whose
     * terms are in this set. Sorted, unique, owned. */
    char **hl_terms;
    size_t nhl_terms;
    /* For each hl_terms[i], the query words whose own exact form, lemma
     * or stem it is: a bit per word (CXS_QWORD_BIT), in the order the
     * builder met them; 0 for other terms (a lemma looked up as an exact
     * form, a completion). The snippet maker uses them to tell whether
     * the index's positions already show every occurrence of a word
     * (search.c). */
    unsigned long long *hl_words;
    /* Prefix (wildcard) words, folded and without '*': tokens starting with
     * one of them are highlighted too. */
    char **hl_prefixes;
    size_t nhl_prefixes;
    /* The positive free-text words as typed (for spelling suggestions). */
    char **words;
    size_t nwords;
    /* The positive free words, in query order, when there are two or more
     * that are not stopwords: posts where they stand together rank up.
     * Search does that by rescoring its best posts (search.c), not in the
     * tree: a phrase or NEAR boost in the tree makes Xapian check
     * positions in every matching post. nprox 0: no proximity. */
    cxs_qword *prox;
    size_t nprox;
    cxs_query_filters filters;
    /* What was forgiven, in query order (only synonyms with
     * forgive.off). */
    cxs_rewrite *rewrites;
    size_t nrewrites;
    /* Did-you-mean: the free words as typed, each word the index does not
     * know replaced by its closest known word (looser than the rewrites:
     * one edit from 3 characters); NULL when no word changes or every
     * unknown word was already rewritten. Never replaces a known word. */
    char *suggestion;
} cxs_query;

/* The number of documents holding a term (prefix included), asked of the
 * index: 0 when none. */
typedef unsigned long long (*cxs_termfreq_fn)(void *ud, const char *term,
                                              size_t len);

/* Forgiving search (docs/query-language.md, "What is forgiven"): a free
 * word the index does not hold, in any of its forms, is also read as the
 * index's words within a few typos, as typed on the other keyboard layout,
 * or as Russian written in Latin letters; the last word typed so far is
 * also a prefix. Never inside quotes, for excluded words, prefixes,
 * numbers, URLs, @mentions, hashtags, words with digits, or acronyms. */
typedef struct cxs_forgive {
    int off;           /* 1: nothing forgiven (exact=1); a did-you-mean
                          is still offered */
    int no_typos;      /* 1: no typo tolerance (layout, translit remain) */
    int no_layout, no_translit;
    unsigned one_typo_from;  /* characters for one typo; 0: 5 */
    unsigned two_typos_from; /* characters for two; 0: 9 */
    unsigned max_candidates; /* index words tried per word; 0: 5 */
    /* 1: the query is typed so far; its last word (when nothing follows
     * it) is also a prefix, with one typo from prefix_typo_from. */
    int typing;
    unsigned prefix_typo_from; /* characters; 0: 5 */
} cxs_forgive;

typedef struct cxs_query_opts {
    size_t max_len;             /* bytes; 0: 4096 */
    const cxs_synonyms *syn;    /* may be NULL */
    /* Phrases the index recognized when written (may be NULL): synonym
     * members among them become one term instead of a phrase. */
    const cxs_phrases *phrases;
    /* Relative weights of the term classes (0: defaults exact 1.0, accent
     * fold 0.7, lemma 0.8, stem 0.6): exact forms outrank stem-only
     * matches. */
    double w_exact, w_ascii, w_lemma, w_stem;
    /* Weight of a synonym's other members relative to the words typed
     * (0: 0.5). */
    double w_synonym;
    /* Forgiving search: the index's vocabulary and term counts. Without a
     * lexicon nothing is forgiven; without termfreq a word is known when
     * the lexicon holds its exact form. */
    const cxs_lexicon *lexicon;
    cxs_termfreq_fn termfreq;
    void *termfreq_ud;
    cxs_forgive forgive;
} cxs_query_opts;

/* Parses q[0..len). On success fills *out (release with
 * cxs_query_release). On failure out is zeroed and err says why. */
CXS_MUST_CHECK
cxs_status cxs_query_parse(cxs_stemmers *a, const char *q, size_t len,
                           const cxs_query_opts *opts, cxs_query *out,
                           cxs_err *err);

void cxs_query_release(cxs_query *q);

#endif /* CXS_QUERY_H */
