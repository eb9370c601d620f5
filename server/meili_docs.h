/*
 * meili_docs.h - Meilisearch documents as cxsearch posts and back
 * (meili_doc.c), and the bodies Meilisearch clients send them in
 * (meili_body.c: JSON, NDJSON, CSV).
 *
 * Facts that shaped it:
 *  - A Meilisearch document has any shape: a primary key (given, or the
 *    one attribute named "id" or ending in "id"), perhaps a `text`,
 *    `content` or `body`, and anything else. The post needs an id and a
 *    text, and its known fields (title, date, lang, tags, channel, author,
 *    url) feed search and filters. So the known fields map onto the post,
 *    every other field rides along as an extra, and a small marker
 *    (`_meili`, kept in the post's extras) records what was renamed,
 *    synthesized or derived, so that the document comes back as it was
 *    sent: the primary key under its own name and JSON type, `content`
 *    not renamed `text`, no title or tags the analyzer derived, and the
 *    original value of a known field the post could not hold (a numeric
 *    `date`, tags whose case was folded).
 *  - A document with no text field gets one made of its string values,
 *    so that it is still found; it is not returned.
 *  - Errors carry Meilisearch's codes (missing_document_id,
 *    invalid_document_id, invalid_document_fields, malformed_payload,
 *    index_primary_key_*): the task or the answer reports them as such.
 *
 * Thread-safety: pure functions over their arguments.
 * Ownership: returned json_t are new references; a filled cxs_post belongs
 * to the caller (cxs_post_release).
 */
#ifndef CXS_SERVER_MEILI_DOCS_H
#define CXS_SERVER_MEILI_DOCS_H

#include <jansson.h>
#include <stddef.h>

#include "cxs_err.h"
#include "post.h"

#define CXS_MEILI_PK_MAX 256

/* What went wrong, as a Meilisearch error: HTTP status, code, message. */
typedef struct cxs_meili_error {
    unsigned status;
    char code[64];
    char msg[CXS_ERR_MSG_MAX + 256];
} cxs_meili_error;

/* Fills e with a Meilisearch error. */
void cxs_meili_set(cxs_meili_error *e, unsigned status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same, returning CXS_ERR_INVALID (CXS_ERR_INTERNAL for a 5xx), for
 * `return cxs_meili_fail(...)`. */
CXS_MUST_CHECK cxs_status cxs_meili_fail(cxs_meili_error *e, unsigned status,
                                         const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The primary key of a batch: given (the primaryKey parameter) when not
 * NULL, else "id" when the first document has one, else its one attribute
 * ending in "id" (case-insensitive). pk gets it (CXS_MEILI_PK_MAX). */
CXS_MUST_CHECK cxs_status cxs_meili_pk_infer(const json_t *first,
                                             const char *given, char *pk,
                                             cxs_meili_error *e);

/* The post id of a primary-key value (a string of letters, digits, '-'
 * and '_', at most 511 bytes, or an integer); NULL when it is not one.
 * buf holds at least 512 bytes. */
const char *cxs_meili_id_text(const json_t *v, char *buf, size_t cap);

/* One document into a post (released on error). pk names its primary
 * key. n is the document's position, for messages. */
CXS_MUST_CHECK cxs_status cxs_meili_doc_to_post(const json_t *doc,
                                                const char *pk, size_t n,
                                                cxs_post *p,
                                                cxs_meili_error *e);

/* The stored post as the document that was sent (a post written by other
 * means: all its fields but `source`). NULL on OOM. */
json_t *cxs_meili_post_to_doc(const cxs_post *p);

/* The primary key a stored post was written with ("id" for posts written
 * by other means). Borrowed from p. */
const char *cxs_meili_post_pk(const cxs_post *p);

/* A request body as an array of documents: a JSON object or array
 * (application/json), one object per line (application/x-ndjson), or CSV
 * (text/csv; a header row of names, "name:number" / "name:boolean" typed;
 * delim is the separator). malformed_payload (400) when it does not
 * parse, naming the line. */
CXS_MUST_CHECK cxs_status cxs_meili_body_docs(const char *ctype,
                                              const char *body, size_t n,
                                              char delim, json_t **out,
                                              cxs_meili_error *e);

#endif /* CXS_SERVER_MEILI_DOCS_H */
