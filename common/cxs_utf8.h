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
 * *cp, or returns 1 and sets *cp = 0xFFFD for an invalid byte. n > 0. */
size_t cxs_utf8_decode(const char *s, size_t n, unsigned *cp);

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
 * does not split a UTF-8 sequence. */
size_t cxs_utf8_cut(const char *s, size_t n, size_t max);

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
