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
 * Resuming the scan at a resume point (cxs_stemmers_can_resume) gives
 * the very tokens the scan from the start gives from there (snippets
 * tokenize only their passage that way, index/snippet.c).
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
    /* A compound's whole shares its first part's start and position (the
     * scanner emits it before its parts): only the other tokens are
     * ordered. */
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

/* A token as the resume check compares it: span, position, kind, flags
 * and a hash of the form. */
typedef struct tok_sig {
    size_t start, end;
    unsigned pos, kind, flags;
    unsigned long long form;
} tok_sig;

#define SIG_MAX 2048

typedef struct sigs {
    const char *text;
    size_t len;
    tok_sig v[SIG_MAX];
    size_t n, at; /* at: the next token a resumed scan must give */
} sigs;

static tok_sig sig_of(const cxs_token *t) {
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < t->form_len; i++)
        h = (h ^ (unsigned char)t->form[i]) * 1099511628211ULL;
    return (tok_sig){t->start, t->end, t->pos, (unsigned)t->kind, t->flags,
                     h};
}

static int on_sig(void *ud, const cxs_token *t) {
    sigs *s = ud;
    s->v[s->n++] = sig_of(t);
    return s->n == SIG_MAX;
}

static int on_resumed(void *ud, const cxs_token *t) {
    sigs *s = ud;
    if (s->at >= s->n) /* past what the first scan kept */
        return 1;
    tok_sig g = sig_of(t), *w = &s->v[s->at++];
    FUZZ_ASSERT(g.start == w->start && g.end == w->end && g.pos == w->pos &&
                    g.kind == w->kind && g.flags == w->flags &&
                    g.form == w->form,
                "a resumed scan gives the tokens of the full scan");
    return 0;
}

static void check_resume(cxs_stemmers *a, const char *text, size_t n) {
    static sigs s;
    cxs_err err = {0};
    s.text = text, s.len = n, s.n = 0;
    FUZZ_ASSERT(cxs_stemmers_tokenize(a, text, n, on_sig, &s, &err) == CXS_OK,
                "tokenize succeeds");
    size_t tried = 0;
    for (size_t i = 1; i < s.n && tried < 24; i++) {
        cxs_token t = {"x", 1, s.v[i].start, s.v[i].end, s.v[i].pos,
                       (cxs_token_kind)s.v[i].kind, s.v[i].flags};
        if (!cxs_stemmers_can_resume(text, n, &t))
            continue;
        tried++;
        s.at = i;
        FUZZ_ASSERT(cxs_stemmers_tokenize_from(a, text, n, t.start, t.pos,
                                               on_resumed, &s,
                                               &err) == CXS_OK,
                    "a resumed scan succeeds");
        FUZZ_ASSERT(s.at == s.n, "a resumed scan gives every token");
    }
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
    check_resume(a, text, n);
    cxs_lang d = cxs_stemmers_detect_lang(a, text, n);
    FUZZ_ASSERT(d >= CXS_LANG_UNKNOWN && d <= CXS_LANG_EN, "a known lang");
    return 0;
}
