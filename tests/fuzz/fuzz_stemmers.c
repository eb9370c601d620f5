/*
 * fuzz_stemmers.c - libFuzzer target for the analyzer: tokenize, terms for
 * each language and language detection on arbitrary bytes (invalid UTF-8,
 * NUL bytes, lone combining marks, huge compounds, mixed scripts).
 *
 * Invariants checked (besides ASan/UBSan): every call succeeds (bad bytes
 * are not errors, stemmers.h); token spans lie inside the input, in text
 * order with positions that never go back (compounds aside); forms and
 * terms are non-empty valid UTF-8 (they become Xapian terms and, through
 * suggestions, JSON).
 *
 * The first byte picks the language for cxs_stemmers_terms.
 */
#include "fuzz_util.h"

typedef struct seen {
    size_t len;
    size_t last_start;
    unsigned last_pos;
    int any;
} seen;

static int on_token(void *ud, const cxs_token *t) {
    seen *s = ud;
    FUZZ_ASSERT(t->start <= t->end && t->end <= s->len, "token span inside");
    FUZZ_ASSERT(t->form && t->form_len > 0, "token form non-empty");
    FUZZ_ASSERT(fuzz_utf8_ok(t->form, t->form_len), "token form is UTF-8");
    /* A compound's whole shares its first part's start and position and
     * may come after its parts: only the other tokens are ordered. */
    if (t->flags & CXS_TOKF_COMPOUND)
        return 0;
    if (s->any) {
        FUZZ_ASSERT(t->start >= s->last_start, "tokens in text order");
        FUZZ_ASSERT(t->pos >= s->last_pos, "positions do not go back");
    }
    s->any = 1;
    s->last_start = t->start;
    s->last_pos = t->pos;
    return 0;
}

static int on_term(void *ud, cxs_term_kind kind, const char *term, size_t len,
                   const cxs_token *tok) {
    seen *s = ud;
    (void)kind;
    FUZZ_ASSERT(len > 0 && term, "term non-empty");
    FUZZ_ASSERT(fuzz_utf8_ok(term, len), "term is UTF-8");
    FUZZ_ASSERT(!memchr(term, '\0', len), "term holds no NUL");
    FUZZ_ASSERT(tok->end <= s->len, "term's token inside");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    cxs_stemmers *a = fuzz_stemmers();
    cxs_lang lang = (cxs_lang)(data[0] % 4);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    cxs_err err = {0};
    seen s = {n, 0, 0, 0};
    FUZZ_ASSERT(cxs_stemmers_tokenize(a, text, n, on_token, &s, &err) == CXS_OK,
                "tokenize succeeds");
    seen t = {n, 0, 0, 0};
    FUZZ_ASSERT(cxs_stemmers_terms(a, text, n, lang, on_term, &t, &err) ==
                    CXS_OK,
                "terms succeed");
    cxs_lang d = cxs_stemmers_detect_lang(a, text, n);
    FUZZ_ASSERT(d >= CXS_LANG_UNKNOWN && d <= CXS_LANG_EN, "a known lang");
    return 0;
}
