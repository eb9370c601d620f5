/*
 * snippet.h - highlighted passages of a post for a query.
 *
 * A token of the post is a match when one of its terms (as the analyzer
 * expands it for the post's language, prefixes of terms.h applied) is in
 * the query's term set, or its exact form starts with one of the query's
 * wildcard prefixes. Matching through the analyzer is what makes
 * "клиентского опыта" light up for the query "клиентский опыт".
 *
 * The snippet is the window of `words` tokens with the most distinct
 * matched words (ties: the earliest), so the best passage is shown, not
 * merely the start. Text outside the highlight markers is HTML-escaped
 * unless no_escape is set. Reentrant; uses the caller's analyzer.
 */
#ifndef CXS_SNIPPET_H
#define CXS_SNIPPET_H

#include <stddef.h>

#include "stemmers.h"
#include "cxs_buf.h"
#include "cxs_err.h"

/* Remembers, for one query, whether a word form matched it, so that the
 * forms repeating across the hits of a page are expanded once. Not
 * thread-safe; one per search. */
typedef struct cxs_snippet_cache cxs_snippet_cache;

cxs_snippet_cache *cxs_snippet_cache_new(void);    /* NULL on OOM */
void cxs_snippet_cache_free(cxs_snippet_cache *c); /* NULL allowed */

/* A position (token position + 1, counted from the start of the text)
 * where the index says terms[term] stands in this post. */
typedef struct cxs_snippet_pos {
    unsigned pos;
    unsigned term;
} cxs_snippet_pos;

typedef struct cxs_highlight {
    char *const *terms; /* sorted (strcmp), prefixes included */
    size_t nterms;
    char *const *prefixes; /* folded wildcard prefixes */
    size_t nprefixes;
    const char *pre, *post; /* markers */
    int no_escape;
    cxs_snippet_cache *cache; /* may be NULL */
    /* The fast path, when the index knows where the query's lemmas stand
     * in this post (every lemma term of the query the post holds has
     * positions in it): by_index set, pos[0..npos) sorted by pos. A token
     * then matches by its forms that need no dictionary
     * (cxs_stemmers_expand_forms) or by its position, and no word is
     * looked up in Hunspell or Snowball: the costliest part of a snippet
     * otherwise. */
    int by_index;
    const cxs_snippet_pos *pos;
    size_t npos;
    /* With by_index: tokens not at a position may still match by their
     * dictionary-free forms. When clear, the positions are every match
     * (the index placed every occurrence of the forms the post holds). */
    int by_forms;
    /* The text's resume points (checkpoints.h), or NULL. With them, when
     * the index's positions are every match (by_index, !by_forms, no
     * prefixes), the passage is chosen from the positions alone and only
     * it is tokenized. */
    const unsigned char *marks;
    size_t nmarks;
} cxs_highlight;

/* Appends the best passage of about `words` words of text[from..len) to
 * out, with "…" where text was cut. The text before `from` (a title shown
 * elsewhere) is tokenized only so that positions count as in the index. */
CXS_MUST_CHECK
cxs_status cxs_snippet_make(cxs_stemmers *a, const char *text, size_t len,
                            size_t from, cxs_lang lang, const cxs_highlight *hl,
                            unsigned words, cxs_buf *out, cxs_err *err);

/* Appends all of text to out with every match marked (for titles). */
CXS_MUST_CHECK
cxs_status cxs_snippet_mark_all(cxs_stemmers *a, const char *text, size_t len,
                                cxs_lang lang, const cxs_highlight *hl,
                                cxs_buf *out, cxs_err *err);

#endif /* CXS_SNIPPET_H */
