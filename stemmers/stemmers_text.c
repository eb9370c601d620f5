/*
 * stemmers_text.c - the character level of the analyzer: UTF-8 to UTF-16 with a
 * byte-offset map, NFKC_Casefold, letter classes, accent stripping.
 *
 * Facts that shaped it:
 * - ICU works on UTF-16, the highlighter on byte spans of the ORIGINAL
 *   UTF-8: so decoding keeps, per UTF-16 unit, the byte offset it came
 *   from, and invalid bytes (and NUL) become U+FFFD while keeping their
 *   own span (strict decoding: overlong forms and surrogates are invalid).
 *   The decoding and encoding are common/cxs_utf8.h's (inline, for this
 *   per-character loop); what stays here is the ICU side.
 * - ICU's "nfkc_cf" normalizer is NFKC plus full case folding plus removal
 *   of default ignorables (soft hyphen, ZWJ, variation selectors) in one
 *   pass. Russian (basic Cyrillic) and ASCII need none of its machinery
 *   beyond lower-casing, so they take a table-free fast path: this is the
 *   bulk of the text and the path that sets the benchmark figure.
 * - ё folds to е everywhere (Russian writers use both); apostrophes (’ ‘ ʼ
 *   `) become ' so typing either finds the other.
 * - Combining acute/grave after a Cyrillic letter is a stress mark
 *   (молоко́), not part of the word: dropped. й is one code point after
 *   NFKC and is left alone.
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>

#include "cxs_grow.h"
#include "stemmers_internal.h"

int cxs_stemmers_is_apos(UChar32 c) {
    return c == 0x27 || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x60;
}

/* a->u and a->off grow together: a->ucap is the smaller capacity. */
static int grow_units(cxs_stemmers *a, size_t need) {
    size_t ucap = a->ucap, ocap = a->ucap;
    if (CXS_GROW(a->u, ucap, need) != CXS_OK ||
        CXS_GROW(a->off, ocap, need) != CXS_OK)
        return -1;
    a->ucap = ucap < ocap ? ucap : ocap;
    return 0;
}

int32_t cxs_stemmers_decode(cxs_stemmers *a, const char *s, size_t n) {
    if (n > INT32_MAX / 2 || grow_units(a, n + 1) != 0)
        return -1;
    UChar *u = a->u;
    uint32_t *off = a->off;
    size_t i = 0, k = 0;
    while (i < n) {
        size_t at = i;
        unsigned char b = (unsigned char)s[i];
        int32_t c;
        if (b < 0x80) {
            c = b ? b : 0xFFFD;
            i++;
        } else {
            c = (int32_t)cxs_utf8_next(s, n, &i);
        }
        if (c >= 0x10000) {
            u[k] = U16_LEAD(c), off[k++] = (uint32_t)at;
            u[k] = U16_TRAIL(c), off[k++] = (uint32_t)at;
        } else {
            u[k] = (UChar)c, off[k++] = (uint32_t)at;
        }
    }
    off[k] = (uint32_t)n;
    return (int32_t)k;
}

/* Fast path: ASCII and basic Cyrillic only; returns -1 when another
 * character needs ICU. */
static long fold_fast(const UChar *u, int32_t n, char *out, cxs_stemmers_class *cls) {
    size_t len = 0;
    unsigned up = 0, lo = 0;
    for (int32_t i = 0; i < n; i++) {
        UChar c = u[i];
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z')
                c = (UChar)(c + 32), up++;
            else if (c >= 'a' && c <= 'z')
                lo++;
            else if (c == '`')
                c = '\'';
            if (len + 1 > CXS_STEMMERS_TERM_MAX)
                break;
            out[len++] = (char)c;
            continue;
        }
        if (c >= 0x410 && c <= 0x42F)
            c = (UChar)(c + 32), up++;
        else if (c == 0x401)
            c = 0x435, up++;
        else if (c >= 0x430 && c <= 0x44F)
            lo++;
        else if (c == 0x451)
            c = 0x435, lo++;
        else
            return -1;
        if (!cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c))
            break;
    }
    if (cls)
        cls->upper = up, cls->lower = lo;
    return (long)len;
}

static int is_cyrillic(UChar32 c) {
    return (c >= 0x400 && c <= 0x52F) || (c >= 0x1C80 && c <= 0x1C8F) ||
           (c >= 0x2DE0 && c <= 0x2DFF) || (c >= 0xA640 && c <= 0xA69F);
}

static void count_case(const UChar *u, int32_t n, cxs_stemmers_class *cls) {
    unsigned up = 0, lo = 0;
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        if (u_isUUppercase(c))
            up++;
        else if (u_isULowercase(c))
            lo++;
    }
    cls->upper = up, cls->lower = lo;
}

static int32_t normalize(cxs_stemmers *a, const UChar *u, int32_t n) {
    for (;;) {
        UErrorCode e = U_ZERO_ERROR;
        int32_t m =
            unorm2_normalize(a->nfkc_cf, u, n, a->nbuf, CXS_STEMMERS_NBUF, &e);
        if (U_SUCCESS(e))
            return m;
        if (e != U_BUFFER_OVERFLOW_ERROR || n < 2)
            return 0;
        n /= 2;
        if (U16_IS_LEAD(u[n - 1]))
            n--;
    }
}

/* Encodes the normalized buffer with the cxsearch folds on top. */
static size_t encode_folded(const UChar *s, int32_t m, char *out) {
    size_t len = 0;
    UChar32 prev = 0;
    for (int32_t i = 0; i < m;) {
        UChar32 c;
        U16_NEXT(s, i, m, c);
        if (c == 0x451)
            c = 0x435;
        else if (cxs_stemmers_is_apos(c))
            c = '\'';
        else if ((c == 0x301 || c == 0x300) && is_cyrillic(prev))
            continue;
        if (!cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c))
            break;
        prev = c;
    }
    return len;
}

size_t cxs_stemmers_fold(cxs_stemmers *a, const UChar *u, int32_t n, char *out,
                   cxs_stemmers_class *cls) {
    if (n > CXS_STEMMERS_TOKEN_UNITS) {
        n = CXS_STEMMERS_TOKEN_UNITS;
        if (U16_IS_LEAD(u[n - 1]))
            n--;
    }
    long fast = fold_fast(u, n, out, cls);
    if (fast >= 0)
        return (size_t)fast;
    if (cls)
        count_case(u, n, cls);
    int32_t m = normalize(a, u, n);
    return encode_folded(a->nbuf, m, out);
}

size_t cxs_stemmers_fold_utf8(cxs_stemmers *a, const char *s, size_t n, char *out) {
    UChar u[CXS_STEMMERS_TOKEN_UNITS];
    int32_t k = 0;
    size_t i = 0;
    while (i < n && k < CXS_STEMMERS_TOKEN_UNITS - 1) {
        int32_t c = (int32_t)cxs_utf8_next(s, n, &i);
        if (c == 0)
            c = 0xFFFD;
        U16_APPEND_UNSAFE(u, k, c);
    }
    return cxs_stemmers_fold(a, u, k, out, NULL);
}

static void classify_cp(UChar32 c, cxs_stemmers_class *cls) {
    if (c < 0x80) {
        if ((c | 32) >= 'a' && (c | 32) <= 'z')
            cls->lat++;
        else if (c >= '0' && c <= '9')
            cls->digit++;
        else if (c == '.')
            cls->dot++;
        else if (c == '\'')
            cls->apos++;
        return;
    }
    if (c >= 0x400 && c <= 0x4FF) {
        cls->cyr++;
        return;
    }
    if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) {
        cls->lat++;
        return;
    }
    if (u_isdigit(c)) {
        cls->digit++;
    } else if (u_isalpha(c)) {
        UErrorCode e = U_ZERO_ERROR;
        UScriptCode sc = uscript_getScript(c, &e);
        if (sc == USCRIPT_LATIN)
            cls->lat++;
        else if (sc == USCRIPT_CYRILLIC)
            cls->cyr++;
        else
            cls->other++;
    }
}

void cxs_stemmers_classify(const char *s, size_t n, cxs_stemmers_class *cls) {
    memset(cls, 0, sizeof *cls);
    for (size_t i = 0; i < n;)
        classify_cp((UChar32)cxs_utf8_next(s, n, &i), cls);
}

static int is_latin(UChar32 c) {
    if (c < 0x80)
        return ((c | 32) >= 'a' && (c | 32) <= 'z');
    if (c >= 0xC0 && c <= 0x24F)
        return c != 0xD7 && c != 0xF7;
    UErrorCode e = U_ZERO_ERROR;
    return u_isalpha(c) && uscript_getScript(c, &e) == USCRIPT_LATIN;
}

/* Appends the base letters of Latin c (its NFD without marks). */
static int put_stripped(cxs_stemmers *a, UChar32 c, char *out, size_t *len) {
    UChar d[8];
    UErrorCode e = U_ZERO_ERROR;
    int32_t m = unorm2_getDecomposition(a->nfd, c, d, 8, &e);
    if (U_FAILURE(e) || m <= 0)
        return cxs_utf8_put(out, len, CXS_STEMMERS_TERM_MAX, (unsigned)c);
    for (int32_t i = 0; i < m;) {
        UChar32 x;
        U16_NEXT(d, i, m, x);
        if (u_charType(x) == U_NON_SPACING_MARK)
            continue;
        if (!cxs_utf8_put(out, len, CXS_STEMMERS_TERM_MAX, (unsigned)x))
            return 0;
    }
    return 1;
}

size_t cxs_stemmers_strip_accents(cxs_stemmers *a, const char *s, size_t n,
                            char *out) {
    size_t len = 0;
    int prev_latin = 0;
    for (size_t i = 0; i < n;) {
        UChar32 c = (UChar32)cxs_utf8_next(s, n, &i);
        int ok;
        if (c < 0x80) {
            ok = cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c);
            prev_latin = is_latin(c);
        } else if (u_charType(c) == U_NON_SPACING_MARK) {
            ok = prev_latin ? 1 : cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c);
        } else if (is_latin(c)) {
            ok = put_stripped(a, c, out, &len);
            prev_latin = 1;
        } else {
            ok = cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c);
            prev_latin = 0;
        }
        if (!ok)
            break;
    }
    return len;
}
