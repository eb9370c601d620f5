/*
 * layout.c - ЙЦУКЕН <-> QWERTY, key for key (see layout.h).
 *
 * One string per layout, in the same key order, so the two tables cannot
 * drift apart: the i-th character of QWERTY_KEYS and the i-th code point of
 * JCUKEN_KEYS are the same physical key.
 */
#include "layout.h"

#include <string.h>

#include "cxs_utf8.h"

static const char QWERTY_KEYS[] = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
static const char JCUKEN_KEYS[] = "йцукенгшщзхъфывапролджэячсмитьбюё";

#define NKEYS (sizeof QWERTY_KEYS - 1)

/* The key index of a code point on either layout; -1 when none. */
static int key_of(unsigned cp, int *cyr) {
    if (cp >= 'A' && cp <= 'Z')
        cp += 32;
    if (cp >= 0x410 && cp <= 0x42F)
        cp += 32; /* А-Я */
    if (cp == 0x401)
        cp = 0x451; /* Ё */
    if (cp < 0x80) {
        const char *p = cp ? strchr(QWERTY_KEYS, (int)cp) : NULL;
        *cyr = 0;
        return p ? (int)(p - QWERTY_KEYS) : -1;
    }
    size_t i = 0;
    for (int k = 0; k < (int)NKEYS; k++) {
        unsigned c;
        i += cxs_utf8_decode(JCUKEN_KEYS + i, sizeof JCUKEN_KEYS - 1 - i, &c);
        if (c == cp) {
            *cyr = 1;
            return k;
        }
    }
    return -1;
}

static unsigned jcuken_at(int k) {
    size_t i = 0;
    unsigned c = 0;
    for (int j = 0; j <= k; j++)
        i += cxs_utf8_decode(JCUKEN_KEYS + i, sizeof JCUKEN_KEYS - 1 - i, &c);
    return c;
}

static int is_letter_key(unsigned cp) {
    return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z' ? 1 : cp >= 0x400;
}

cxs_status cxs_layout_swap(const char *s, size_t n, cxs_buf *out,
                           int *swapped) {
    int dir = -1, letters = 0; /* dir: 1 Cyrillic -> Latin */
    size_t mark = out->len;
    cxs_status rc = CXS_OK;
    if (swapped)
        *swapped = 0;
    for (size_t i = 0; i < n && rc == CXS_OK;) {
        unsigned cp;
        i += cxs_utf8_decode(s + i, n - i, &cp);
        int cyr = 0, k = key_of(cp, &cyr);
        if (k < 0 && ((cp >= '0' && cp <= '9') || cp == '-')) {
            rc = cxs_buf_appendc(out, (char)cp);
            continue;
        }
        if (k < 0 || (is_letter_key(cp) && dir >= 0 && dir != cyr))
            goto none;
        if (is_letter_key(cp)) {
            dir = cyr;
            letters++;
        }
        rc = cyr ? cxs_buf_appendc(out, QWERTY_KEYS[k])
                 : cxs_utf8_append_cp(out, jcuken_at(k));
    }
    if (rc != CXS_OK || !letters)
        goto none;
    if (swapped)
        *swapped = 1;
    return CXS_OK;
none:
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return rc;
}
