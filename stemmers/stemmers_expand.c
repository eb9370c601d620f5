/*
 * stemmers_expand.c - from one token to its index terms.
 *
 * Facts that shaped it (rules and examples in docs/analysis.md):
 * - The exact form comes first (the contract), then the hashtag, the
 *   accent-free form, look-alike folds, lemmas and stems.
 * - Everything is derived from the token alone (form, kind, flags), not
 *   from the text around it: the query parser and the highlighter call
 *   this on tokens they got earlier, and must get the same terms.
 * - Latin words: Italian resources in an Italian post, English in a
 *   Russian or English one, both on the query side (CXS_LANG_UNKNOWN).
 *   Cyrillic words: always Russian.
 * - Look-alikes: an all-Cyrillic word written in capitals whose letters
 *   all look Latin (СХ) also yields the Latin form (cx); a word mixing
 *   both scripts yields its all-Cyrillic form (so "клиентcкий" with a
 *   Latin c finds "клиентский") and, when possible, its all-Latin form;
 *   it is then lemmatized/stemmed in its main script.
 * - Whole compounds, URLs, mentions, numbers and elided articles get no
 *   lemmas or stems: they are not dictionary words. A whole compound of
 *   words is also indexed written solid (e-commerce -> ecommerce).
 * - No allocation: terms are built in the analyzer's fixed scratch.
 */
#include <string.h>

#include "stemmers_internal.h"

#define SEEN_MAX 32
#define SLOT (CXS_STEMMERS_TERM_MAX + 8)
#define LEX_CAP 1400

typedef struct em {
    cxs_stemmers *a;
    cxs_term_fn fn;
    void *ud;
    const cxs_token *tok;
    int stop;
    int nseen;
    struct {
        int kind;
        const char *s;
        size_t n;
    } seen[SEEN_MAX];
    size_t used;   /* bytes of a->terms in use */
    int no_lemmas; /* acronyms: Hunspell reads "CX" as the numeral "x" */
    int no_dict;   /* no lemmas or stems at all (cxs_stemmers_expand_forms) */
} em;

static char *scratch(em *e, size_t n) {
    if (e->used + n > sizeof e->a->terms)
        return NULL;
    char *p = e->a->terms + e->used;
    e->used += n;
    return p;
}

static void put(em *e, int kind, const char *s, size_t n) {
    if (e->stop || n == 0)
        return;
    n = cxs_utf8_cut(s, n, CXS_STEMMERS_TERM_MAX);
    for (int i = 0; i < e->nseen; i++)
        if (e->seen[i].kind == kind && e->seen[i].n == n &&
            memcmp(e->seen[i].s, s, n) == 0)
            return;
    if (e->nseen < SEEN_MAX) {
        e->seen[e->nseen].kind = kind;
        e->seen[e->nseen].s = s;
        e->seen[e->nseen].n = n;
        e->nseen++;
    }
    if (e->fn(e->ud, (cxs_term_kind)kind, s, n, e->tok))
        e->stop = 1;
}

static void put_ascii(em *e, const char *s, size_t n, cxs_lang lang) {
    char *out = scratch(e, SLOT);
    if (!out)
        return;
    size_t m = cxs_stemmers_strip_accents(e->a, s, n, out);
    if (lang == CXS_LANG_UNKNOWN || m != n || memcmp(out, s, m) != 0)
        put(e, CXS_TERM_ASCII, out, m);
}

static void put_lexicon(em *e, cxs_lang l, const char *w, size_t n) {
    unsigned char *p = (unsigned char *)scratch(e, LEX_CAP);
    if (!p)
        return;
    size_t len = cxs_stemmers_lexicon_terms(e->a, l, w, n, p, LEX_CAP);
    for (size_t i = 0; i + 2 <= len; i += 2 + (size_t)p[i + 1])
        if (!(e->no_lemmas && p[i] == CXS_TERM_LEMMA))
            put(e, p[i], (const char *)p + i + 2, p[i + 1]);
}

static void put_stems(em *e, const char *w, size_t n, int cyrillic,
                      cxs_lang lang) {
    if (cyrillic) {
        put_lexicon(e, CXS_LANG_RU, w, n);
    } else if (lang == CXS_LANG_IT) {
        put_lexicon(e, CXS_LANG_IT, w, n);
    } else if (lang == CXS_LANG_UNKNOWN) {
        put_lexicon(e, CXS_LANG_IT, w, n);
        put_lexicon(e, CXS_LANG_EN, w, n);
    } else {
        put_lexicon(e, CXS_LANG_EN, w, n);
    }
}

/* The Latin look-alike form of one word, or 0. caps: written in capitals. */
static size_t latin_fold(em *e, const char *w, size_t n, const cxs_stemmers_class *c,
                         int caps, char **out) {
    int mixed = c->lat && c->cyr;
    if (!c->cyr || c->other || c->digit || (!mixed && !caps))
        return 0;
    *out = scratch(e, SLOT);
    if (!*out)
        return 0;
    return cxs_stemmers_fold_to_latin(&e->a->look, w, n, !mixed, *out);
}

/* A (non-compound) word: accent-free form, look-alikes, lemmas, stems. */
static void expand_word(em *e, const cxs_token *t, cxs_lang lang) {
    const char *w = t->form;
    size_t n = t->form_len;
    cxs_stemmers_class c;
    if (n && w[n - 1] == '\'')
        return; /* an elided article ("dell'"): its exact form is enough */
    cxs_stemmers_classify(w, n, &c);
    if (c.lat)
        put_ascii(e, w, n, lang);
    char *lat = NULL, *cyr = NULL;
    size_t latn =
        latin_fold(e, w, n, &c, (t->flags & CXS_TOKF_CAPS) != 0, &lat);
    put(e, CXS_TERM_EXACT, lat, latn);
    size_t cyrn = 0;
    if (c.lat && c.cyr && !c.other && !c.digit && (cyr = scratch(e, SLOT)))
        cyrn = cxs_stemmers_fold_to_cyrillic(&e->a->look, w, n, cyr);
    put(e, CXS_TERM_EXACT, cyr, cyrn);
    if (e->no_dict || c.digit || c.dot || c.other || (!c.lat && !c.cyr))
        return;
    if (c.lat && c.cyr) { /* mixed: stem in the main script */
        int use_cyr = cyrn && (c.cyr >= c.lat || !latn);
        if (use_cyr)
            put_stems(e, cyr, cyrn, 1, lang);
        else if (latn)
            put_stems(e, lat, latn, 0, lang);
        return;
    }
    put_stems(e, w, n, c.cyr > 0, lang);
}

/* The whole written solid ("e-commerce" -> "ecommerce"), when every part
 * has a letter: people write both. Numbers ("2019-2024") are not glued. */
static void put_solid(em *e, const char *w, size_t n) {
    char *out = scratch(e, SLOT);
    size_t m = 0;
    int letter = 0;
    if (!out)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)w[i];
        if (ch == '-') {
            if (!letter)
                return;
            letter = 0;
            continue;
        }
        letter |= ch >= 0x80 || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
        out[m++] = (char)ch;
    }
    if (letter)
        put(e, CXS_TERM_EXACT, out, m);
}

/* A whole compound: solid form, accent-free form and the look-alike fold
 * part by part ("СХ-исследователь" -> "cx-исследователь"). */
static void expand_compound(em *e, const cxs_token *t, cxs_lang lang) {
    cxs_stemmers_class c;
    cxs_stemmers_classify(t->form, t->form_len, &c);
    put_solid(e, t->form, t->form_len);
    if (c.lat)
        put_ascii(e, t->form, t->form_len, lang);
    if (!c.cyr)
        return;
    char *alt = scratch(e, SLOT), *tmp = scratch(e, SLOT);
    if (!alt || !tmp)
        return;
    size_t an = 0, i = 0, changed = 0;
    int caps = (t->flags & CXS_TOKF_CAPS) != 0;
    while (i <= t->form_len) {
        const char *p = t->form + i;
        const char *dash = memchr(p, '-', t->form_len - i);
        size_t pn = dash ? (size_t)(dash - p) : t->form_len - i;
        cxs_stemmers_class pc;
        cxs_stemmers_classify(p, pn, &pc);
        size_t m = 0;
        if (pc.cyr && !pc.other && !pc.digit && (caps || pc.lat))
            m = cxs_stemmers_fold_to_latin(&e->a->look, p, pn, !pc.lat, tmp);
        if (an + (m ? m : pn) + 1 > CXS_STEMMERS_TERM_MAX)
            return;
        memcpy(alt + an, m ? tmp : p, m ? m : pn);
        an += m ? m : pn;
        changed += m != 0;
        i += pn + 1;
        if (dash)
            alt[an++] = '-';
    }
    if (changed)
        put(e, CXS_TERM_EXACT, alt, an);
}

int cxs_stemmers_expand_token(cxs_stemmers *a, const cxs_token *tok, cxs_lang lang,
                  int no_dict, cxs_term_fn fn, void *ud) {
    em e;
    if (!tok || !tok->form || tok->form_len == 0)
        return 0;
    e.a = a, e.fn = fn, e.ud = ud, e.tok = tok;
    e.stop = 0, e.nseen = 0, e.used = 0;
    e.no_lemmas = (tok->flags & CXS_TOKF_CAPS) != 0;
    e.no_dict = no_dict;
    put(&e, CXS_TERM_EXACT, tok->form, tok->form_len);
    switch (tok->kind) {
    case CXS_TOK_URL:
    case CXS_TOK_MENTION:
    case CXS_TOK_NUMBER: return e.stop;
    case CXS_TOK_HASHTAG:
        put(&e, CXS_TERM_TAG, tok->form, tok->form_len);
        break;
    case CXS_TOK_WORD: break;
    }
    if (tok->flags & CXS_TOKF_COMPOUND)
        expand_compound(&e, tok, lang);
    else
        expand_word(&e, tok, lang);
    return e.stop;
}
