/*
 * stemmers.c - the public face of the analyzer (stemmers.h): creation,
 * configuration, and the entry points that tie scanning (an_scan.c) to
 * term expansion (an_expand.c).
 *
 * Facts that shaped it:
 * - One analyzer per thread owns everything mutable (ICU break iterator,
 *   Snowball stemmers, Hunspell handles, lemma cache, buffers), so no
 *   locks are needed and nothing is allocated per token.
 * - Data files: data_dir from the config, else $CXSEARCH_DATA_DIR, else
 *   the compile-time CXS_DATA_DIR; a missing stopword file is an error
 *   (silently indexing without stopwords would change query behaviour).
 * - Callbacks get pointers into the analyzer's buffers: the analyzer is
 *   not re-entrant (a callback must not analyze other text with it).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stemmers_internal.h"
#include "langdetect.h"

#ifndef CXS_DATA_DIR
#define CXS_DATA_DIR "stemmers"
#endif

/* Language detection reads at most this much of a text. */
#define LD_MAX (64 * 1024)

static const char *data_dir(const cxs_stemmers_config *cfg) {
    if (cfg && cfg->data_dir && *cfg->data_dir)
        return cfg->data_dir;
    const char *env = getenv("CXSEARCH_DATA_DIR");
    if (env && *env)
        return env;
    return CXS_DATA_DIR;
}

static cxs_status open_icu(cxs_stemmers *a, cxs_err *err) {
    UErrorCode e = U_ZERO_ERROR;
    a->nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
    if (U_SUCCESS(e))
        a->nfd = unorm2_getNFDInstance(&e);
    if (U_SUCCESS(e))
        a->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &e);
    if (U_FAILURE(e))
        return cxs_err_set(err, CXS_ERR_INTERNAL, "ICU: %s", u_errorName(e));
    return cxs_stemmers_lookalike_init(&a->look, err);
}

cxs_status cxs_stemmers_new(const cxs_stemmers_config *cfg, cxs_stemmers **out,
                            cxs_err *err) {
    if (!out)
        return cxs_err_set(err, CXS_ERR_INVALID, "analyzer: out is NULL");
    *out = NULL;
    cxs_stemmers *a = calloc(1, sizeof *a);
    if (!a)
        return cxs_err_set(err, CXS_ERR_NOMEM, "analyzer: out of memory");
    a->use_lemmas = cfg ? cfg->use_lemmas : 1;
    a->cache = cxs_stemmers_cache_new(cfg ? cfg->lemma_cache_entries : 0);
    if (!a->cache) {
        free(a);
        return cxs_err_set(err, CXS_ERR_NOMEM, "analyzer: out of memory");
    }
    const char *hdir = cfg && cfg->hunspell_dir && *cfg->hunspell_dir
                           ? cfg->hunspell_dir
                           : "/usr/share/hunspell";
    const char *ddir = data_dir(cfg);
    cxs_status st = open_icu(a, err);
    for (int l = CXS_LANG_RU; st == CXS_OK && l < CXS_STEMMERS_NLANG; l++) {
        st = cxs_stemmers_stop_load(a, (cxs_lang)l, ddir, err);
        if (st == CXS_OK)
            st = cxs_stemmers_lexicon_open(a, (cxs_lang)l, hdir, err);
    }
    if (st != CXS_OK) {
        cxs_stemmers_free(a);
        return st;
    }
    *out = a;
    return CXS_OK;
}

void cxs_stemmers_free(cxs_stemmers *a) {
    if (!a)
        return;
    if (a->bi)
        ubrk_close(a->bi);
    cxs_stemmers_lexicon_close(a);
    cxs_stemmers_translit_close(a);
    for (int l = 0; l < CXS_STEMMERS_NLANG; l++)
        cxs_stemmers_strset_free(&a->stop[l]);
    free(a->u);
    free(a->off);
    free(a->ld);
    free(a);
}

cxs_status cxs_stemmers_tokenize(cxs_stemmers *a, const char *text, size_t len,
                                 cxs_token_fn fn, void *ud, cxs_err *err) {
    if (!a)
        return cxs_err_set(err, CXS_ERR_INVALID, "analyzer is NULL");
    return cxs_stemmers_scan(a, text, len, CXS_LANG_UNKNOWN, fn, ud, err);
}

cxs_status cxs_stemmers_tokenize_from(cxs_stemmers *a, const char *text,
                                      size_t len, size_t from, unsigned pos,
                                      cxs_token_fn fn, void *ud,
                                      cxs_err *err) {
    if (!a)
        return cxs_err_set(err, CXS_ERR_INVALID, "analyzer is NULL");
    return cxs_stemmers_scan_from(a, text, len, from, pos, CXS_LANG_UNKNOWN,
                                  fn, ud, err);
}

typedef struct terms_ctx {
    cxs_stemmers *a;
    cxs_lang lang;
    cxs_term_fn fn;
    void *ud;
} terms_ctx;

static int on_token(void *ud, const cxs_token *tok) {
    terms_ctx *c = ud;
    return cxs_stemmers_expand_token(c->a, tok, c->lang, 0, c->fn, c->ud);
}

static cxs_lang clamp_lang(cxs_lang l) {
    return (l > CXS_LANG_UNKNOWN && l < CXS_STEMMERS_NLANG) ? l : CXS_LANG_UNKNOWN;
}

cxs_status cxs_stemmers_terms(cxs_stemmers *a, const char *text, size_t len,
                              cxs_lang lang, cxs_term_fn fn, void *ud,
                              cxs_err *err) {
    if (!a || !fn)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "analyzer or callback is NULL");
    terms_ctx c = {a, clamp_lang(lang), fn, ud};
    return cxs_stemmers_scan(a, text, len, c.lang, on_token, &c, err);
}

void cxs_stemmers_expand(cxs_stemmers *a, const cxs_token *tok, cxs_lang lang,
                         cxs_term_fn fn, void *ud) {
    if (!a || !tok || !fn)
        return;
    cxs_stemmers_expand_token(a, tok, clamp_lang(lang), 0, fn, ud);
}

void cxs_stemmers_expand_forms(cxs_stemmers *a, const cxs_token *tok,
                               cxs_lang lang, cxs_term_fn fn, void *ud) {
    if (!a || !tok || !fn)
        return;
    cxs_stemmers_expand_token(a, tok, clamp_lang(lang), 1, fn, ud);
}

/* Copies text with invalid UTF-8 and NUL replaced by spaces: CLD2 must
 * only ever see valid UTF-8. */
static size_t sanitize(cxs_stemmers *a, const char *text, size_t len) {
    if (len > LD_MAX)
        len = cxs_utf8_cut(text, len, LD_MAX);
    if (a->ldcap < len + 1) {
        char *p = realloc(a->ld, len + 1);
        if (!p)
            return 0;
        a->ld = p, a->ldcap = len + 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned c;
        size_t k = cxs_utf8_decode(text + i, len - i, &c);
        if (c == 0 || (c == 0xFFFD && k == 1)) { /* NUL, invalid byte */
            a->ld[o++] = ' ';
        } else {
            memcpy(a->ld + o, text + i, k);
            o += k;
        }
        i += k;
    }
    a->ld[o] = '\0';
    return o;
}

cxs_lang cxs_stemmers_detect_lang(cxs_stemmers *a, const char *text,
                                  size_t len) {
    if (!a || !text || !len)
        return CXS_LANG_UNKNOWN;
    size_t n = sanitize(a, text, len);
    if (!n)
        return CXS_LANG_UNKNOWN;
    return clamp_lang((cxs_lang)cxs_stemmers_cld2_detect(a->ld, (int)n));
}

const char *cxs_lang_code(cxs_lang lang) {
    switch (lang) {
    case CXS_LANG_RU: return "ru";
    case CXS_LANG_IT: return "it";
    case CXS_LANG_EN: return "en";
    default: return "";
    }
}

cxs_lang cxs_lang_from_code(const char *code) {
    static const struct {
        const char *name;
        cxs_lang lang;
    } names[] = {{"ru", CXS_LANG_RU}, {"rus", CXS_LANG_RU},
                 {"it", CXS_LANG_IT}, {"ita", CXS_LANG_IT},
                 {"en", CXS_LANG_EN}, {"eng", CXS_LANG_EN}};
    if (!code)
        return CXS_LANG_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(code, names[i].name) == 0)
            return names[i].lang;
    return CXS_LANG_UNKNOWN;
}
