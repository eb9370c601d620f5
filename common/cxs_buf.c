/*
 * cxs_buf.c - see cxs_buf.h.
 *
 * Every append goes through buf_reserve, so that is where an error
 * becomes sticky.
 */
#include "cxs_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_grow.h"

void cxs_buf_init(cxs_buf *b, size_t max) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = CXS_OK;
}

void cxs_buf_release(cxs_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = CXS_OK;
}

void cxs_buf_reset(cxs_buf *b) {
    b->len = 0;
    b->err = CXS_OK;
    if (b->data)
        b->data[0] = '\0';
}

char *cxs_buf_detach(cxs_buf *b) {
    if (b->err != CXS_OK) {
        cxs_buf_release(b);
        return NULL;
    }
    char *p = b->data ? b->data : calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

cxs_status cxs_buf_status(const cxs_buf *b) {
    return b->err;
}

/* Makes room for n more bytes plus the terminating NUL, or fails the
 * buffer for good. */
static cxs_status buf_reserve(cxs_buf *b, size_t n) {
    if (b->err != CXS_OK)
        return b->err;
    size_t limit = b->max ? b->max : SIZE_MAX - 1;
    if (n > limit - b->len)
        return b->err = CXS_ERR_TOO_LARGE;
    return b->err = cxs_grow(&b->data, &b->cap, b->len + n + 1, 1);
}

cxs_status cxs_buf_append(cxs_buf *b, const char *s, size_t n) {
    cxs_status rc = buf_reserve(b, n);
    if (rc != CXS_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CXS_OK;
}

cxs_status cxs_buf_appends(cxs_buf *b, const char *s) {
    return cxs_buf_append(b, s, strlen(s));
}

cxs_status cxs_buf_appendc(cxs_buf *b, char c) {
    return cxs_buf_append(b, &c, 1);
}

cxs_status cxs_buf_appendf(cxs_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 && b->err == CXS_OK)
        b->err = CXS_ERR_INVALID;
    if (n < 0)
        return b->err;
    cxs_status rc = buf_reserve(b, (size_t)n);
    if (rc != CXS_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CXS_OK;
}

cxs_status cxs_buf_append_html(cxs_buf *b, const char *s, size_t n) {
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        const char *ent = NULL;
        switch (s[i]) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        cxs_status rc = cxs_buf_append(b, s + run, i - run);
        if (rc == CXS_OK)
            rc = cxs_buf_appends(b, ent);
        if (rc != CXS_OK)
            return rc;
        run = i + 1;
    }
    return cxs_buf_append(b, s + run, n - run);
}

char *cxs_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

cxs_status cxs_buf_append_varint(cxs_buf *b, unsigned long long v) {
    char d[10];
    size_t n = 0;
    do {
        d[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return cxs_buf_append(b, d, n);
}

int cxs_varint_get(const unsigned char **p, const unsigned char *end,
                   unsigned long long *v) {
    unsigned long long x = 0;
    const unsigned char *q = *p;
    *v = 0;
    for (unsigned shift = 0; shift < 64 && q < end; shift += 7) {
        unsigned char c = *q++;
        x |= (unsigned long long)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *p = q;
            *v = x;
            return 1;
        }
    }
    return 0;
}
