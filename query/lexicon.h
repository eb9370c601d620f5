/*
 * lexicon.h - the index's vocabulary of exact word forms, in memory, for
 * forgiving search: words within a few typos of a query word, words that
 * start with a prefix (typed so far), whether a form is known.
 *
 * Facts that shaped it:
 * - A query word that the index does not hold may be a typo of one it
 *   does. Xapian's spelling table (no longer written) answered that in
 *   20-100 ms per word; a walk of the sorted vocabulary as an implicit trie,
 *   carrying one row of the Damerau-Levenshtein table per character and
 *   leaving a branch as soon as its row is over the distance allowed,
 *   answers in well under a millisecond (docs/performance.md), and needs
 *   nothing but the words and their counts (no deletion dictionary, whose
 *   size grows with the square of the distance).
 * - Distances are counted in characters (code points), not bytes: a
 *   Cyrillic letter is two bytes, and counting bytes gives a five-letter
 *   Russian word two typos where an English one gets one (meilisearch#5594).
 *   A swap of two neighbours is one edit (optimal string alignment).
 * - query/ never sees Xapian: the index fills a lexicon from its term list
 *   (index/lexicon_cache.c) and hands it to the parser (query.h).
 * - Bad input must cost bounded work: words over CXS_LEX_MAX_CHARS
 *   characters are not looked up, and a walk stops after a fixed number of
 *   trie rows (CXS_LEX_MAX_ROWS), whatever the vocabulary.
 *
 * Memory: the lexicon owns one block of words and two arrays (offset,
 * count per word); cxs_lexicon_bytes says how much. Candidates point into
 * the lexicon and live as long as it does.
 * Thread-safety: built by one thread; once cxs_lexicon_seal returns it is
 * read-only, and any number of threads may look words up at once.
 */
#ifndef CXS_LEXICON_H
#define CXS_LEXICON_H

#include <stddef.h>

#include "cxs_err.h"

#define CXS_LEX_MIN_CHARS 2  /* shorter words are not kept */
#define CXS_LEX_MAX_CHARS 40 /* longer words are not kept, nor looked up */
#define CXS_LEX_MAX_ROWS 60000 /* trie rows one walk may compute */

typedef struct cxs_lexicon cxs_lexicon;

typedef struct cxs_lexcand {
    const char *word; /* borrowed from the lexicon, NUL-terminated */
    size_t len;       /* bytes */
    unsigned dist;    /* edits (characters) */
    unsigned freq;    /* documents holding the word */
} cxs_lexcand;

CXS_MUST_CHECK cxs_status cxs_lexicon_new(cxs_lexicon **out, cxs_err *err);
void cxs_lexicon_free(cxs_lexicon *lx); /* NULL allowed */

/* Whether a term is a word the lexicon keeps: lower-case letters only
 * (ASCII a-z or any non-ASCII letter), no prefix, no digit, no
 * punctuation, CXS_LEX_MIN_CHARS..CXS_LEX_MAX_CHARS characters. */
int cxs_lexicon_wants(const char *w, size_t len);

/* Adds a word with the number of documents holding it. Words must come in
 * strictly increasing byte order (Xapian's term order); others, and words
 * the lexicon does not want, are skipped. */
CXS_MUST_CHECK cxs_status cxs_lexicon_add(cxs_lexicon *lx, const char *w,
                                          size_t len, unsigned long long freq,
                                          cxs_err *err);

/* Ends the building: the lexicon is read-only from here on. */
void cxs_lexicon_seal(cxs_lexicon *lx);

size_t cxs_lexicon_size(const cxs_lexicon *lx);  /* words */
size_t cxs_lexicon_bytes(const cxs_lexicon *lx); /* memory held */

/* Documents holding the exact form w (0: unknown). */
unsigned cxs_lexicon_freq(const cxs_lexicon *lx, const char *w, size_t len);

/* Words within maxd edits of w (w itself excluded), best first: fewer
 * edits, then more documents. Fills out[0..max) and returns how many
 * (at most 64 with maxd > 1). When min_freq > 0, rarer words are left
 * out. Beyond one edit, the first character must be as typed (as
 * Lucene's fuzzy prefix length 1): that cuts the walk about tenfold, and
 * people rarely miss the first letter. */
size_t cxs_lexicon_near(const cxs_lexicon *lx, const char *w, size_t len,
                        unsigned maxd, unsigned min_freq, cxs_lexcand *out,
                        size_t max);

/* Words that start with a prefix within maxd edits of p (maxd 0: with p
 * itself), most documents first; dist is the prefix's edits. */
size_t cxs_lexicon_complete(const cxs_lexicon *lx, const char *p, size_t len,
                            unsigned maxd, cxs_lexcand *out, size_t max);

/* Damerau-Levenshtein (optimal string alignment) distance in characters
 * between a[0..na) and b[0..nb), capped at CXS_LEX_MAX_CHARS + 1. */
unsigned cxs_lexicon_distance(const char *a, size_t na, const char *b,
                              size_t nb);

#endif /* CXS_LEXICON_H */
