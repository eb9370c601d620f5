/*
 * stemmers_lookalike.c - Cyrillic/Latin look-alike letters, from ICU's
 * confusable data (uspoof skeletons, Unicode TR #39), not a hand table.
 *
 * Facts that shaped it:
 * - A skeleton maps each character to a prototype; for Russian letters it
 *   is an ASCII letter only for some of them, and it depends on case:
 *   capital В, К, М, Н, Т look like B, K, M, H, T, while lower-case в, к,
 *   м, н, т map to small capitals (ʙ ĸ ʍ ʜ ᴛ), not ASCII. Acronyms are
 *   written in capitals, so "СХ" (Cyrillic) folds to "cx" through the
 *   capital skeletons; lower-case Russian words are never folded that way
 *   (see an_expand.c), so "тот" does not become "tot".
 * - The tables are computed once per analyzer (about 100 skeleton calls),
 *   so the per-token work is a table lookup, not an ICU call.
 * - Only skeletons that are one ASCII letter count: З -> "3" (a digit),
 *   Ы -> "bl" (two letters) and Б -> "b̄" are not look-alikes here.
 */
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uspoof.h>

#include "stemmers_internal.h"

/* The ASCII lower-case letter the skeleton of c is, or '\0'. */
static char skeleton_letter(USpoofChecker *sc, UChar32 c) {
    UChar in[2] = {(UChar)c, 0}, out[16];
    UErrorCode e = U_ZERO_ERROR;
    int32_t m = uspoof_getSkeleton(sc, 0, in, 1, out, 16, &e);
    if (U_FAILURE(e) || m != 1 || out[0] >= 0x80)
        return '\0';
    UChar x = out[0] | 32;
    return (x >= 'a' && x <= 'z') ? (char)x : '\0';
}

cxs_status cxs_stemmers_lookalike_init(cxs_stemmers_lookalike *t, cxs_err *err) {
    UErrorCode e = U_ZERO_ERROR;
    USpoofChecker *sc = uspoof_open(&e);
    if (U_FAILURE(e))
        return cxs_err_set(err, CXS_ERR_INTERNAL, "uspoof_open: %s",
                           u_errorName(e));
    memset(t, 0, sizeof *t);
    uint16_t from_cap[26] = {0};
    for (UChar32 c = 0x430; c <= 0x45F; c++) {
        char cap = skeleton_letter(sc, u_toupper(c));
        char low = skeleton_letter(sc, c);
        t->lat_of_cap[c - 0x430] = cap;
        t->lat_of_any[c - 0x430] = low ? low : cap;
        /* The first (basic Russian) letter wins: В before Ь for 'b'. */
        if (low && !t->cyr_of[low - 'a'])
            t->cyr_of[low - 'a'] = (uint16_t)c;
        if (cap && !from_cap[cap - 'a'])
            from_cap[cap - 'a'] = (uint16_t)c;
    }
    for (int i = 0; i < 26; i++)
        if (!t->cyr_of[i])
            t->cyr_of[i] = from_cap[i];
    uspoof_close(sc);
    return CXS_OK;
}

size_t cxs_stemmers_fold_to_latin(const cxs_stemmers_lookalike *t, const char *s, size_t n,
                            int caps_only, char *out) {
    const char *map = caps_only ? t->lat_of_cap : t->lat_of_any;
    size_t len = 0, i = 0;
    while (i < n) {
        int32_t c = (int32_t)cxs_utf8_next(s, n, &i);
        char x = '\0';
        if (c >= 'a' && c <= 'z')
            x = (char)c;
        else if (c >= 0x430 && c <= 0x45F)
            x = map[c - 0x430];
        if (!x || len >= CXS_STEMMERS_TERM_MAX)
            return 0;
        out[len++] = x;
    }
    return len;
}

size_t cxs_stemmers_fold_to_cyrillic(const cxs_stemmers_lookalike *t, const char *s,
                               size_t n, char *out) {
    size_t len = 0, i = 0;
    while (i < n) {
        int32_t c = (int32_t)cxs_utf8_next(s, n, &i);
        if (c >= 'a' && c <= 'z') {
            c = t->cyr_of[c - 'a'];
            if (!c)
                return 0;
        } else if (!(c >= 0x430 && c <= 0x45F)) {
            return 0;
        }
        if (!cxs_utf8_put(out, &len, CXS_STEMMERS_TERM_MAX, (unsigned)c))
            return 0;
    }
    return len;
}
