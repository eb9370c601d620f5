/*
 * cxs_utf8.h - the one UTF-8 module: decode, encode, validate, repair,
 * cut at a character, classify word characters, trim white space.
 *
 * Every layer that meets bytes from outside (importers, the post model,
 * the analyzer, the HTTP layer) goes through these, so "valid UTF-8"
 * means one thing everywhere: RFC 3629, no overlong forms, no surrogates,
 * nothing past U+10FFFF.
 *
 * Memory: nothing is allocated here except through the cxs_buf passed in
 * (the caller owns it). Thread-safety: no state; every function is safe
 * to call from any thread. Errors: functions that append return the
 * buffer's status (sticky, see cxs_buf.h); the others cannot fail.
 */
#ifndef CXS_UTF8_H
#define CXS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes one code point at s[0..n); returns its length (1..4) and sets
 * *cp, or returns 1 and sets *cp = 0xFFFD for an invalid byte. n > 0.
 * Never reads past s[n-1]. Inline: the analyzer calls it per character. */
static inline size_t cxs_utf8_decode(const char *s, size_t n, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0], min;
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n < len)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0xFFFD;
    return 1;
}

/* Decodes the code point at s[*i] (*i < n) and moves *i past it; an
 * invalid byte gives U+FFFD and moves one byte. */
static inline unsigned cxs_utf8_next(const char *s, size_t n, size_t *i) {
    unsigned cp;
    *i += cxs_utf8_decode(s + *i, n - *i, &cp);
    return cp;
}

/* Writes the UTF-8 encoding of cp (<= 0x10FFFF) to out; returns its
 * length (1..4). A surrogate is encoded as its three bytes (callers
 * that may meet one from UTF-16 keep the old behaviour). */
static inline size_t cxs_utf8_encode(unsigned cp, char out[4]) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Appends the encoding of cp to out[*len] when it fits in max bytes and
 * advances *len; returns false (out untouched) when it does not fit. For
 * fixed-size term buffers, where a cxs_buf would cost an allocation. */
static inline bool cxs_utf8_put(char *out, size_t *len, size_t max,
                                unsigned cp) {
    size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (*len + need > max)
        return false;
    *len += cxs_utf8_encode(cp, out + *len);
    return true;
}

/* Length of the valid UTF-8 prefix of s[0..n): n when all of it is valid. */
size_t cxs_utf8_valid_prefix(const char *s, size_t n);

/* True when all of s[0..n) is valid UTF-8. */
static inline bool cxs_utf8_valid(const char *s, size_t n) {
    return cxs_utf8_valid_prefix(s, n) == n;
}

/* Appends the UTF-8 encoding of cp (cp <= 0x10FFFF, not a surrogate). */
cxs_status cxs_utf8_append_cp(cxs_buf *b, unsigned cp);

/* Appends s[0..n) to b with every invalid sequence replaced by U+FFFD
 * (one per bad byte); *bad (may be NULL) is incremented per replacement. */
cxs_status cxs_utf8_append_fixed(cxs_buf *b, const char *s,
                                  size_t n, size_t *bad);

/* Length of the longest prefix of s[0..n) that has at most max bytes and
 * does not split a UTF-8 sequence: n when n <= max, else the start of the
 * sequence that s[max] belongs to (0 when s[1..max] are all continuation
 * bytes). In valid text that drops at most 3 bytes; in invalid text a run
 * of stray continuation bytes reaching s[max] is dropped whole. */
static inline size_t cxs_utf8_cut(const char *s, size_t n, size_t max) {
    if (n <= max)
        return n;
    size_t i = max;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* True for code points that may appear inside a hashtag or a word
 * (letters, digits, '_' and the letter ranges of the scripts we see). */
bool cxs_utf8_is_word(unsigned cp);

/* True when s[0..n) starts with a white-space character (ASCII white
 * space or U+00A0); *len gets its length in bytes. n > 0. */
bool cxs_utf8_space_at(const char *s, size_t n, size_t *len);

/* Trims white space (ASCII, U+00A0, U+FEFF) from both ends of s[0..*n);
 * returns the new start and updates *n. */
const char *cxs_utf8_trim(const char *s, size_t *n);

/* True when s[0..n) holds nothing but white space. */
bool cxs_utf8_blank(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* CXS_UTF8_H */
