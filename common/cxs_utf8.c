/*
 * cxs_utf8.c - see cxs_utf8.h.
 *
 * Facts that shaped it: most non-ASCII text here is Cyrillic or accented
 * Latin, two-byte sequences, so the validator takes them inline; every
 * decoder follows RFC 3629 (no overlong forms, no surrogates, nothing past
 * U+10FFFF), so what one module accepts every other module accepts too.
 * The decoder, the encoder and cut are inline in the header: the
 * analyzer runs them per character, across library boundaries.
 */
#include "cxs_utf8.h"

#include <string.h>

/* ---------------------------------------------------------------- UTF-8 */

size_t cxs_utf8_valid_prefix(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* Two-byte sequences (Cyrillic, accented Latin) inline: they are
         * most of our non-ASCII text. */
        if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (u[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        unsigned cp;
        size_t k = cxs_utf8_decode(s + i, n - i, &cp);
        if (k == 1) /* only ASCII decodes to one byte */
            return i;
        i += k;
    }
    return n;
}

cxs_status cxs_utf8_append_cp(cxs_buf *b, unsigned cp) {
    char t[4];
    return cxs_buf_append(b, t, cxs_utf8_encode(cp, t));
}

cxs_status cxs_utf8_append_fixed(cxs_buf *b, const char *s, size_t n,
                                 size_t *bad) {
    size_t i = 0;
    while (i < n) {
        size_t ok = cxs_utf8_valid_prefix(s + i, n - i);
        cxs_status rc = cxs_buf_append(b, s + i, ok);
        if (rc != CXS_OK)
            return rc;
        i += ok;
        if (i < n) {
            if ((rc = cxs_utf8_append_cp(b, 0xFFFD)) != CXS_OK)
                return rc;
            if (bad)
                (*bad)++;
            i++;
        }
    }
    if (n == 0)
        return cxs_buf_append(b, "", 0);
    return CXS_OK;
}

bool cxs_utf8_is_word(unsigned cp) {
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
               (cp >= 'A' && cp <= 'Z') || cp == '_';
    if (cp < 0xC0) /* Latin-1 punctuation, NBSP, guillemets */
        return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (cp == 0xD7 || cp == 0xF7)
        return false;
    if (cp < 0x2000) /* Latin, Greek, Cyrillic, Armenian, Hebrew, ... */
        return true;
    if (cp < 0x2C00) /* punctuation, symbols, arrows, dingbats */
        return false;
    if (cp >= 0x3000 && cp < 0x3040) /* CJK punctuation */
        return false;
    if (cp >= 0xFE00 && cp < 0xFE10) /* variation selectors */
        return false;
    if (cp >= 0xFF00 && cp < 0xFF10)
        return false;
    if (cp >= 0x1F000) /* emoji and other symbols */
        return false;
    return true;
}

bool cxs_utf8_space_at(const char *s, size_t n, size_t *len) {
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
        *len = 1;
        return true;
    }
    if (c == 0xC2 && n > 1 && (unsigned char)s[1] == 0xA0) { /* NBSP */
        *len = 2;
        return true;
    }
    return false;
}

/* ------------------------------------------------------- white space */

/* Width of a white-space character at s (ASCII, NBSP, BOM/ZWNBSP), or 0. */
static size_t space_width(const char *s, size_t n) {
    size_t k;
    if (cxs_utf8_space_at(s, n, &k))
        return k;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        return 3;
    return 0;
}

/* Width of a white-space character ending at s[n-1], or 0. */
static size_t space_width_back(const char *s, size_t n) {
    if (n >= 1 && space_width(s + n - 1, 1) == 1)
        return 1;
    if (n >= 2 && space_width(s + n - 2, 2) == 2)
        return 2;
    if (n >= 3 && space_width(s + n - 3, 3) == 3)
        return 3;
    return 0;
}

const char *cxs_utf8_trim(const char *s, size_t *n) {
    size_t len = *n, k;
    while (len > 0 && (k = space_width(s, len)) > 0)
        s += k, len -= k;
    while (len > 0 && (k = space_width_back(s, len)) > 0)
        len -= k;
    *n = len;
    return s;
}

bool cxs_utf8_blank(const char *s, size_t n) {
    cxs_utf8_trim(s, &n);
    return n == 0;
}
