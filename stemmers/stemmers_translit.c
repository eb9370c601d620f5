/*
 * stemmers_translit.c - Russian typed in Latin letters, read back into
 * Cyrillic (stemmers.h, cxs_stemmers_translit_ru).
 *
 * Facts that shaped it:
 * - People write Russian in Latin letters in several schemes at once
 *   ("klientskiy", "klientskij", "kastomizatsiya", "kastomizaciya"). No
 *   table gives the one right spelling back, so this is only a first
 *   guess: ICU's Latin-Russian/BGN transliterator (the BGN/PCGN romanization
 *   read backwards, shipped with ICU's data, no hand table), and the
 *   query side forgives what is left as typos ("клиенцкий" is two edits
 *   from "клиентский").
 * - A word is transliterated only when it is all Latin letters (with
 *   hyphens and apostrophes): numbers, URLs and mixed-script words are not
 *   Russian in disguise.
 * - ICU transliterators keep state between calls and are not thread-safe;
 *   one per analyzer, opened on first use (most analyzers, the indexer's,
 *   never need it).
 */
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "stemmers_internal.h"
#include "cxs_utf8.h"

#define TR_MAX 256 /* UTF-16 units of a word: longer ones are not words */

void cxs_stemmers_translit_close(cxs_stemmers *a) {
    if (a->translit)
        utrans_close(a->translit);
    a->translit = NULL;
}

static int latin_word(const char *s, size_t n) {
    int letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            letters++;
        else if (c != '-' && c != '\'')
            return 0;
    }
    return letters > 0;
}

static int open_translit(cxs_stemmers *a) {
    if (a->translit || a->translit_failed)
        return a->translit != NULL;
    UChar id[32];
    UErrorCode e = U_ZERO_ERROR;
    u_uastrcpy(id, "Latin-Russian/BGN");
    a->translit = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
    if (U_FAILURE(e)) {
        a->translit = NULL;
        a->translit_failed = 1;
    }
    return a->translit != NULL;
}

void cxs_stemmers_translit_prepare(cxs_stemmers *a) {
    (void)open_translit(a);
}

cxs_status cxs_stemmers_translit_ru(cxs_stemmers *a, const char *text,
                                    size_t len, cxs_buf *out, cxs_err *err) {
    if (!latin_word(text, len) || len >= TR_MAX / 2 || !open_translit(a))
        return CXS_OK;
    UChar u[TR_MAX];
    for (size_t i = 0; i < len; i++) /* ASCII: one unit each */
        u[i] = (UChar)(unsigned char)((text[i] >= 'A' && text[i] <= 'Z')
                                          ? text[i] + 32
                                          : text[i]);
    int32_t ulen = (int32_t)len, lim = ulen;
    UErrorCode e = U_ZERO_ERROR;
    utrans_transUChars(a->translit, u, &ulen, TR_MAX, 0, &lim, &e);
    if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING)
        return CXS_OK; /* no room: not a word worth guessing */
    char s[TR_MAX * 3];
    int32_t slen = 0;
    u_strToUTF8(s, (int32_t)sizeof s, &slen, u, ulen, &e);
    if (U_FAILURE(e) || slen < 0 || (size_t)slen >= sizeof s)
        return CXS_OK;
    cxs_status rc = cxs_buf_append(out, s, (size_t)slen);
    return rc == CXS_OK ? CXS_OK : cxs_err_set(err, rc, "out of memory");
}
