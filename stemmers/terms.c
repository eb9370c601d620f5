/* terms.c - see terms.h. */
#include "terms.h"

#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "cxs_utf8.h"

const char *cxs_terms_prefix(cxs_term_kind kind) {
    switch (kind) {
    case CXS_TERM_EXACT: return CXS_PFX_EXACT;
    case CXS_TERM_ASCII: return CXS_PFX_ASCII;
    case CXS_TERM_LEMMA: return CXS_PFX_LEMMA;
    case CXS_TERM_STEM: return CXS_PFX_STEM;
    case CXS_TERM_TAG: return CXS_PFX_TAG;
    }
    return "";
}

#define FIELD_MAX 240

/* NFKC_Casefold does NFKC and full case folding in one ICU call. */
static cxs_status fold_utf16(const UChar *in, int32_t n, UChar *out,
                             int32_t cap, int32_t *outn) {
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&st);
    if (U_FAILURE(st))
        return CXS_ERR_INTERNAL;
    *outn = unorm2_normalize(nf, in, n, out, cap, &st);
    return U_FAILURE(st) ? CXS_ERR_TOO_LARGE : CXS_OK;
}

cxs_status cxs_terms_field(const char *prefix, const char *value,
                           cxs_buf *out) {
    UChar in[FIELD_MAX * 2], folded[FIELD_MAX * 4];
    char utf8[FIELD_MAX * 4 + 4];
    int32_t n = 0, fn = 0, un = 0;
    UErrorCode st = U_ZERO_ERROR;
    while (*value == ' ' || *value == '\t' || *value == '#' || *value == '@')
        value++;
    u_strFromUTF8WithSub(in, FIELD_MAX * 2, &n, value,
                         (int32_t)strnlen(value, FIELD_MAX * 2), 0xFFFD, NULL,
                         &st);
    if (U_FAILURE(st) && st != U_BUFFER_OVERFLOW_ERROR)
        return CXS_ERR_INVALID;
    if (n > FIELD_MAX * 2)
        n = FIELD_MAX * 2;
    if (fold_utf16(in, n, folded, FIELD_MAX * 4, &fn) != CXS_OK)
        return CXS_ERR_TOO_LARGE;
    /* ё -> е, white space collapsed, trailing space trimmed. */
    int32_t k = 0;
    for (int32_t i = 0; i < fn; i++) {
        UChar c = folded[i] == 0x451 ? 0x435 : folded[i];
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (space && (k == 0 || folded[k - 1] == ' '))
            continue;
        folded[k++] = space ? ' ' : c;
    }
    while (k && folded[k - 1] == ' ')
        k--;
    st = U_ZERO_ERROR;
    u_strToUTF8(utf8, (int32_t)sizeof utf8, &un, folded, k, &st);
    if (U_FAILURE(st))
        return CXS_ERR_TOO_LARGE;
    size_t plen = strlen(prefix);
    size_t len = (size_t)un;
    if (plen + len > FIELD_MAX)
        len = cxs_utf8_cut(utf8, len, FIELD_MAX - plen);
    cxs_status rc = cxs_buf_appends(out, prefix);
    return rc == CXS_OK ? cxs_buf_append(out, utf8, len) : rc;
}
