/*
 * phrases.h - glossary phrases the index recognizes when it writes a post.
 *
 * A synonym member of several words ("клиентский опыт") turns a query for
 * "CX" into phrase searches, and checking phrase positions over the
 * thousands of posts holding both words took most of such a query's time
 * (docs/performance.md). So the writer finds these phrases in each post
 * the way a phrase query would match them (each word by an exact form or
 * a lemma that the index stores with a position, in order, within the
 * phrase's span of positions) and adds one term per occurrence,
 * CXS_PFX_PHRASE + the phrase's key; the query then reads that one
 * posting list instead of checking positions.
 *
 * The set is fixed when an index gets its first post: the multi-word
 * members of the writer's glossary, kept in the index's metadata
 * (CXS_META_PHRASES, one member per line as written in the glossary).
 * Every later writer and every reader compiles that stored list, so all
 * posts agree with it; a phrase added to the glossary later is searched
 * by positions, as before, until the index is rebuilt.
 *
 * Ownership: cxs_phrases_new returns a set the caller frees; a
 * cxs_phrase_doc belongs to one thread (the document maker). Thread
 * safety: a cxs_phrases is immutable, shared by every thread. Errors:
 * status codes with a cxs_err, as everywhere.
 */
#ifndef CXS_PHRASES_H
#define CXS_PHRASES_H

#include <stddef.h>

#include "stemmers.h"
#include "cxs_buf.h"
#include "cxs_err.h"
#include "query.h"

#define CXS_META_PHRASES "cxs.phrases"

/* Compiles the phrases of list[0..len) (one per line; lines with fewer
 * than two words that are not stopwords are skipped). *out is an empty
 * set for an empty list. The analyzer is used only during the call. */
CXS_MUST_CHECK
cxs_status cxs_phrases_new(cxs_stemmers *a, const char *list, size_t len,
                           cxs_phrases **out, cxs_err *err);

void cxs_phrases_free(cxs_phrases *p); /* NULL allowed */

/* Appends to out the multi-word members of the glossary syn, one per line
 * as written there: the list a new index stores as CXS_META_PHRASES. */
CXS_MUST_CHECK cxs_status cxs_phrases_glossary(const cxs_synonyms *syn,
                                               cxs_buf *out);

/* Whether the set holds the phrase with this key; p may be NULL. */
int cxs_phrases_has(const cxs_phrases *p, const char *key, size_t len);

/* The positioned terms of one post, gathered while it is analyzed. */
typedef struct cxs_phrase_slot {
    unsigned pos;
    size_t off; /* first term in terms; the slot's terms run to the next */
} cxs_phrase_slot;

typedef struct cxs_phrase_doc {
    cxs_buf terms; /* NUL-terminated terms, slot after slot */
    cxs_phrase_slot *slots;
    size_t nslots, cap;
} cxs_phrase_doc;

void cxs_phrase_doc_reset(cxs_phrase_doc *d);
void cxs_phrase_doc_release(cxs_phrase_doc *d);

/* Records that the index stores term at position pos. Positions must not
 * decrease (the analyzer reports them in order); a term for an earlier
 * position is ignored. */
CXS_MUST_CHECK
cxs_status cxs_phrase_doc_add(cxs_phrase_doc *d, unsigned pos, const char *term,
                              size_t len);

/* Calls fn with CXS_PFX_PHRASE + key for each occurrence of a phrase of
 * p in d; fn returns a status, and the first failure stops the scan. */
CXS_MUST_CHECK
cxs_status cxs_phrases_find(const cxs_phrases *p, const cxs_phrase_doc *d,
                            cxs_status (*fn)(void *ud, const char *term,
                                             size_t len),
                            void *ud);

#endif /* CXS_PHRASES_H */
