/*
 * cxs_buf.h - a growable byte buffer with a hard maximum (after curl's
 * dynbuf): request bodies, JSON output and snippets are built in one.
 *
 * The buffer owns its memory; data is always NUL-terminated when len > 0
 * or after any successful append, so it can be used as a C string.
 * A buffer that would grow past max fails with CXS_ERR_TOO_LARGE and keeps
 * its previous content. max == 0 means "no limit but SIZE_MAX".
 *
 * Errors are sticky (as in SQLite FTS5's buffers and curl's dynbuf): the
 * first failed append (CXS_ERR_TOO_LARGE or CXS_ERR_NOMEM) is kept in the
 * buffer, every later append does nothing and returns it, so a text never
 * loses a middle piece because a later, shorter piece still fit. A caller
 * that builds a string from many pieces may ignore the appends' results
 * and check cxs_buf_status() once at the end; data and len still hold
 * what was appended before the failure. cxs_buf_reset and
 * cxs_buf_release clear the error; cxs_buf_detach refuses a failed
 * buffer (NULL).
 *
 * Not thread-safe: one buffer, one owner.
 */
#ifndef CXS_BUF_H
#define CXS_BUF_H

#include <stddef.h>

#include "cxs_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cxs_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    cxs_status err; /* the first failure, sticky; CXS_OK while none */
} cxs_buf;

#define CXS_BUF_INIT {NULL, 0, 0, 0, CXS_OK}

/* Prepares an empty buffer; no allocation happens until the first append. */
void cxs_buf_init(cxs_buf *b, size_t max);

/* Frees the memory and leaves an empty buffer, its error cleared, that
 * may be reused (max is kept). */
void cxs_buf_release(cxs_buf *b);

/* Empties the buffer and clears its error but keeps its memory. */
void cxs_buf_reset(cxs_buf *b);

/* Hands the data to the caller (free() it) and leaves the buffer empty.
 * Returns an allocated empty string for an empty buffer, NULL on OOM and
 * NULL for a failed buffer (whose memory is freed and error cleared: ask
 * cxs_buf_status first to learn why). */
char *cxs_buf_detach(cxs_buf *b);

/* CXS_OK, or the first error of an append since the last reset/release. */
CXS_MUST_CHECK cxs_status cxs_buf_status(const cxs_buf *b);

/* The appends: each returns CXS_OK or the buffer's (sticky) error. */
cxs_status cxs_buf_append(cxs_buf *b, const char *s, size_t n);
cxs_status cxs_buf_appends(cxs_buf *b, const char *s);
cxs_status cxs_buf_appendc(cxs_buf *b, char c);
cxs_status cxs_buf_appendf(cxs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends v as a LEB128 varint (7 bits a byte, low first; as in Xapian's
 * own encodings): the one varint of stored data. */
CXS_MUST_CHECK cxs_status cxs_buf_append_varint(cxs_buf *b,
                                              unsigned long long v);

/* Reads a varint (as above) at *p, not past end, and moves *p after it.
 * Returns 0, leaving *v 0, when it runs past end or exceeds 64 bits. */
int cxs_varint_get(const unsigned char **p, const unsigned char *end,
                   unsigned long long *v);

/* Appends s with &, <, >, " and ' replaced by HTML entities. */
cxs_status cxs_buf_append_html(cxs_buf *b, const char *s, size_t n);

/* Returns a malloc'ed NUL-terminated copy of s[0..n), NULL on OOM. */
char *cxs_strndup(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* CXS_BUF_H */
