/*
 * cxs_buf.h - a growable byte buffer with a hard maximum (after curl's
 * dynbuf): request bodies, JSON output and snippets are built in one.
 *
 * The buffer owns its memory; data is always NUL-terminated when len > 0
 * or after any successful append, so it can be used as a C string.
 * A buffer that would grow past max fails with CXS_ERR_TOO_LARGE and keeps
 * its previous content. max == 0 means "no limit but SIZE_MAX".
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
} cxs_buf;

#define CXS_BUF_INIT {NULL, 0, 0, 0}

/* Prepares an empty buffer; no allocation happens until the first append. */
void cxs_buf_init(cxs_buf *b, size_t max);

/* Frees the memory and leaves an empty buffer that may be reused. */
void cxs_buf_release(cxs_buf *b);

/* Empties the buffer but keeps its memory for reuse. */
void cxs_buf_reset(cxs_buf *b);

/* Hands the data to the caller (free() it) and leaves the buffer empty.
 * Returns an allocated empty string for an empty buffer, NULL on OOM. */
char *cxs_buf_detach(cxs_buf *b);

cxs_status cxs_buf_append(cxs_buf *b, const char *s, size_t n);
cxs_status cxs_buf_appends(cxs_buf *b, const char *s);
cxs_status cxs_buf_appendc(cxs_buf *b, char c);
cxs_status cxs_buf_appendf(cxs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s with &, <, >, " and ' replaced by HTML entities. */
cxs_status cxs_buf_append_html(cxs_buf *b, const char *s, size_t n);

/* Returns a malloc'ed NUL-terminated copy of s[0..n), NULL on OOM. */
char *cxs_strndup(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* CXS_BUF_H */
