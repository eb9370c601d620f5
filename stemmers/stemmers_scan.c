/*
 * stemmers_scan.c - from text to tokens: ICU word break (UAX #29) plus the few
 * things UAX #29 does not know about.
 *
 * Facts that shaped it (see docs/analysis.md for the rules):
 * - ICU splits URLs into pieces ("https", ":", "/", ...): a URL is found
 *   at the segment where it starts and taken whole up to white space,
 *   without trailing punctuation or an unbalanced ')'.
 * - ICU 72 keeps '@' inside words ("@ivan_petrov", "ivan@example.com");
 *   older ICU makes '@' its own segment: both are handled. A leading '@'
 *   is a mention; an inner '@' followed by a dotted domain is an e-mail,
 *   kept whole like a URL.
 * - '#' is its own segment; "#word" is a hashtag (not "C#").
 * - ICU keeps "dell'informazione" as ONE word (' and ’ are MidNumLet) but
 *   splits "dell`informazione" and "l'80": the Italian elided article is
 *   cut off in both cases and becomes its own token ("dell'", a stopword).
 * - ICU splits "NPS-CSI" and "NPS/CSI" at the joiner: parts joined by
 *   '-' or '/' with nothing between are regrouped into a compound.
 * - Reaction strings ("🔥28❤8") come out as emoji plus NUMBER segments; a
 *   number touching an emoji is a count, not a term, and is dropped.
 * - Long input is scanned in chunks cut at white space, so the UTF-16
 *   buffers stay bounded; positions run on across chunks.
 * - A scan can resume mid-text (cxs_stemmers_tokenize_from) at a token
 *   that starts a step right after ASCII white space: no step reaches
 *   across such a space (URLs, mentions, hashtags, compounds and elisions
 *   stop at it), ICU always breaks after it, and the look-behinds
 *   (cp_before) see a space either way, so the tokens from there on are
 *   the same as a scan from the start gives, as long as the whole text is
 *   one chunk.
 */
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf16.h>

#include "stemmers_internal.h"

typedef struct scan {
    cxs_stemmers *a;
    const UChar *u;
    const uint32_t *off;
    int32_t n;
    size_t base; /* byte offset of the chunk in the whole text */
    cxs_lang lang;
    unsigned pos;
    cxs_token_fn fn;
    void *ud;
    int stop;
} scan;

typedef struct range {
    int32_t p, q;
} range;

/* Elided Italian forms (lower case, without the apostrophe). */
static const char *const elisions[] = {
    "l",     "un",   "dell",  "dall",    "nell",  "sull", "all", "coll",
    "pell",  "c",    "d",     "s",       "m",     "t",    "v",   "n",
    "gl",    "ch",   "quest", "quell",   "anch",  "sant", "dev", "nessun",
    "bell",  "mezz", "tutt",  "senz",    "com",   "dov",  "cos", "qual",
    "quand", "sott", "grand", "ciascun", "alcun", NULL};

static int is_word_status(int32_t st) {
    return st >= UBRK_WORD_NUMBER;
}

/* The ICU segment that starts at p: its end; *st gets its rule status. */
static int32_t seg_end(scan *s, int32_t p, int32_t *st) {
    int32_t q = ubrk_following(s->a->bi, p);
    if (q == UBRK_DONE || q > s->n || q <= p)
        q = p < s->n ? p + 1 : s->n;
    *st = ubrk_getRuleStatus(s->a->bi);
    return q;
}

static UChar32 cp_at(const scan *s, int32_t i) {
    UChar32 c;
    U16_GET(s->u, 0, i, s->n, c);
    return c;
}

static UChar32 cp_before(const scan *s, int32_t i) {
    if (i <= 0)
        return 0x20;
    UChar32 c;
    U16_PREV(s->u, 0, i, c);
    return c;
}

static int is_alnum(UChar32 c) {
    return u_isalnum(c) || c == '_';
}

static int is_emojiish(UChar32 c) {
    return c == 0xFE0F || c == 0x200D || c == 0x20E3 ||
           u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) ||
           u_hasBinaryProperty(c, UCHAR_EMOJI_MODIFIER) ||
           u_hasBinaryProperty(c, UCHAR_REGIONAL_INDICATOR);
}

/* A number touching an emoji (before, after or inside, like a keycap) is a
 * reaction count. */
static int emoji_glued(const scan *s, range r) {
    if (is_emojiish(cp_before(s, r.p)))
        return 1;
    if (r.q < s->n && is_emojiish(cp_at(s, r.q)))
        return 1;
    for (int32_t i = r.p; i < r.q; i++)
        if (s->u[i] >= 0x200D && is_emojiish(cp_at(s, i)))
            return 1;
    return 0;
}

static int emit(scan *s, cxs_token *t, range r) {
    t->start = s->base + s->off[r.p];
    t->end = s->base + s->off[r.q];
    if (s->fn(s->ud, t))
        s->stop = 1;
    return s->stop;
}

static unsigned script_flags(const char *form, size_t n) {
    cxs_stemmers_class c;
    cxs_stemmers_classify(form, n, &c);
    return (c.cyr ? CXS_TOKF_CYRILLIC : 0u) | (c.lat ? CXS_TOKF_LATIN : 0u);
}

static unsigned caps_flag(const cxs_stemmers_class *c) {
    return (c->upper >= 2 && c->lower == 0) ? CXS_TOKF_CAPS : 0u;
}

int cxs_stemmers_is_stopword(const cxs_stemmers *a, const char *form, size_t n,
                       unsigned flags, cxs_lang lang) {
    unsigned sc = flags & (CXS_TOKF_CYRILLIC | CXS_TOKF_LATIN);
    if (sc == CXS_TOKF_CYRILLIC)
        return cxs_stemmers_stop_has(a, CXS_LANG_RU, form, n);
    if (sc != CXS_TOKF_LATIN)
        return 0;
    if (n && form[n - 1] == '\'')
        return cxs_stemmers_stop_has(a, CXS_LANG_IT, form, n);
    if (lang == CXS_LANG_IT)
        return cxs_stemmers_stop_has(a, CXS_LANG_IT, form, n);
    if (lang == CXS_LANG_UNKNOWN)
        return cxs_stemmers_stop_has(a, CXS_LANG_IT, form, n) ||
               cxs_stemmers_stop_has(a, CXS_LANG_EN, form, n);
    return cxs_stemmers_stop_has(a, CXS_LANG_EN, form, n);
}

/* Emits a single (non-compound) token of kind from range r. */
static void emit_simple(scan *s, cxs_token_kind kind, range r,
                        int32_t form_from) {
    cxs_stemmers_class cls;
    char *form = s->a->forms;
    size_t n = 0;
    if (kind == CXS_TOK_MENTION)
        form[n++] = '@';
    n += cxs_stemmers_fold(s->a, s->u + form_from, r.q - form_from, form + n, &cls);
    if (n == 0 || (kind == CXS_TOK_MENTION && n == 1))
        return;
    cxs_token t = {form, n, 0, 0, s->pos++, kind, 0};
    if (kind == CXS_TOK_HASHTAG || kind == CXS_TOK_WORD) {
        t.flags = script_flags(form, n) | caps_flag(&cls);
        if (cxs_stemmers_is_stopword(s->a, form, n, t.flags, s->lang))
            t.flags |= CXS_TOKF_STOPWORD;
    }
    emit(s, &t, r);
}

/* ---- URLs, mentions, e-mails, hashtags ---- */

static int ci_eq(const UChar *u, int32_t n, const char *lit) {
    int32_t i = 0;
    for (; lit[i]; i++)
        if (i >= n || (u[i] | 32) != (UChar)lit[i])
            return 0;
    return i == n;
}

static int url_stop(UChar32 c) {
    return c <= 0x20 || c == '<' || c == '>' || c == '"' || c == 0xAB ||
           c == 0xBB || c == 0x201C || c == 0x201D || c == 0x201E ||
           c == 0xFFFD || c == 0x7F || u_isUWhiteSpace(c) || is_emojiish(c);
}

static int url_trail(UChar c) {
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
           c == '?' || c == '\'' || c == ']' || c == '}' || c == 0x2026 ||
           c == 0x2019;
}

/* The end of a URL starting at p. */
static int32_t url_extent(const scan *s, int32_t p) {
    int32_t e = p, open = 0, close = 0;
    while (e < s->n) {
        UChar32 c = cp_at(s, e);
        if (url_stop(c))
            break;
        open += c == '(';
        close += c == ')';
        e += U16_LENGTH(c);
    }
    while (e > p + 1) {
        UChar c = s->u[e - 1];
        if (url_trail(c)) {
            e--;
        } else if (c == ')' && close > open) {
            e--, close--;
        } else {
            break;
        }
    }
    return e;
}

/* "example.com", "t.me": dot-separated, last label 2+ letters. */
static int domain_like(const scan *s, range r) {
    int32_t dot = -1;
    for (int32_t i = r.p; i < r.q; i++)
        if (s->u[i] == '.')
            dot = i;
    if (dot <= r.p || r.q - dot < 3)
        return 0;
    for (int32_t i = dot + 1; i < r.q; i++)
        if (!u_isalpha(s->u[i]))
            return 0;
    return 1;
}

/* If a URL starts at segment r, its end; else r.p. */
static int32_t url_at(const scan *s, range r) {
    const UChar *u = s->u + r.p;
    int32_t len = r.q - r.p, q = r.q;
    if ((ci_eq(u, len, "http") || ci_eq(u, len, "https")) && q + 3 < s->n &&
        s->u[q] == ':' && s->u[q + 1] == '/' && s->u[q + 2] == '/' &&
        !url_stop(s->u[q + 3]))
        return url_extent(s, r.p);
    if (len > 4 && ci_eq(u, 4, "www.") && domain_like(s, r))
        return url_extent(s, r.p);
    if (q + 1 < s->n && s->u[q] == '/' && is_alnum(s->u[q + 1]) &&
        domain_like(s, r))
        return url_extent(s, r.p);
    return r.p;
}

static int32_t find_char(const scan *s, range r, UChar c) {
    for (int32_t i = r.p; i < r.q; i++)
        if (s->u[i] == c)
            return i;
    return -1;
}

/* '@' at r.p, name after it up to r.q (one ICU 72 segment), or '@' alone
 * with the name in the next segment (older ICU). Returns where to go on. */
static int32_t mention(scan *s, range r) {
    int32_t st;
    range m = r;
    if (m.q == m.p + 1 && m.q < s->n) {
        m.q = seg_end(s, m.q, &st);
        if (!is_word_status(st))
            return r.q;
    }
    if (is_alnum(cp_before(s, r.p)) || m.q - m.p < 2 ||
        !is_alnum(s->u[m.p + 1]))
        return r.q == r.p + 1 ? r.q : r.p + 1; /* not a mention: skip '@' */
    int32_t at2 = find_char(s, (range){m.p + 1, m.q}, '@');
    if (at2 > 0)
        m.q = at2;
    emit_simple(s, CXS_TOK_MENTION, m, m.p + 1);
    return m.q;
}

static int32_t hashtag(scan *s, range r) {
    int32_t st;
    if (r.q >= s->n || is_alnum(cp_before(s, r.p)))
        return r.q;
    range t = {r.q, seg_end(s, r.q, &st)};
    if (!is_word_status(st))
        return r.q;
    int has_letter = 0;
    for (int32_t i = t.p; i < t.q && !has_letter; i++)
        has_letter = u_isalpha(s->u[i]);
    if (!has_letter || find_char(s, t, '@') >= 0)
        return r.q;
    emit_simple(s, CXS_TOK_HASHTAG, (range){r.p, t.q}, t.p);
    return t.q;
}

/* ---- elision and compounds ---- */

static int is_elision(const scan *s, range r) {
    char low[8];
    int32_t n = r.q - r.p;
    if (n < 1 || n > 7)
        return 0;
    for (int32_t i = 0; i < n; i++) {
        UChar c = s->u[r.p + i] | 32;
        if (c < 'a' || c > 'z')
            return 0;
        low[i] = (char)c;
    }
    low[n] = '\0';
    for (int i = 0; elisions[i]; i++)
        if (strcmp(elisions[i], low) == 0)
            return 1;
    return 0;
}

/* Emits the elided article r (its apostrophe is at r.q). */
static void emit_article(scan *s, range r) {
    char *form = s->a->forms;
    size_t n = cxs_stemmers_fold(s->a, s->u + r.p, r.q - r.p, form, NULL);
    form[n++] = '\'';
    cxs_token t = {form, n, 0, 0, s->pos++, CXS_TOK_WORD, CXS_TOKF_LATIN};
    if (cxs_stemmers_is_stopword(s->a, form, n, t.flags, s->lang))
        t.flags |= CXS_TOKF_STOPWORD;
    emit(s, &t, (range){r.p, r.q + 1});
}

static int is_joiner(UChar c) {
    return c == '-' || c == '/' || c == 0x2010 || c == 0x2011;
}

/* One part of a group: its form (in slot i of a->forms) and flags. */
typedef struct part {
    range r;
    const char *form;
    size_t n;
    unsigned flags;
    cxs_token_kind kind;
} part;

static void fold_part(scan *s, part *pt, int slot) {
    cxs_stemmers_class cls;
    char *form = s->a->forms + (size_t)slot * (CXS_STEMMERS_TERM_MAX + 8);
    pt->n = cxs_stemmers_fold(s->a, s->u + pt->r.p, pt->r.q - pt->r.p, form, &cls);
    pt->form = form;
    cxs_stemmers_class sc;
    cxs_stemmers_classify(form, pt->n, &sc);
    pt->kind = (sc.lat || sc.cyr || sc.other) ? CXS_TOK_WORD : CXS_TOK_NUMBER;
    if (pt->kind == CXS_TOK_NUMBER && !sc.digit)
        pt->n = 0; /* "___": neither letters nor digits */
    pt->flags = (sc.cyr ? CXS_TOKF_CYRILLIC : 0u) |
                (sc.lat ? CXS_TOKF_LATIN : 0u) | caps_flag(&cls);
}

static void emit_part(scan *s, const part *pt, unsigned extra) {
    cxs_token t = {pt->form,         pt->n, 0, 0, s->pos++, pt->kind,
                   pt->flags | extra};
    if (!extra && pt->kind == CXS_TOK_WORD &&
        cxs_stemmers_is_stopword(s->a, pt->form, pt->n, t.flags, s->lang))
        t.flags |= CXS_TOKF_STOPWORD;
    emit(s, &t, pt->r);
}

/* The whole form of a compound: parts joined by '-' in the last slot. */
static void emit_whole(scan *s, const part *pts, int np) {
    char *w = s->a->forms + (size_t)CXS_STEMMERS_MAX_PARTS * (CXS_STEMMERS_TERM_MAX + 8);
    size_t n = 0;
    unsigned flags = CXS_TOKF_COMPOUND;
    cxs_token_kind kind = CXS_TOK_NUMBER;
    for (int i = 0; i < np; i++) {
        if (n + pts[i].n + 1 > CXS_STEMMERS_TERM_MAX)
            return; /* too long to be a term: the parts remain */
        if (i)
            w[n++] = '-';
        memcpy(w + n, pts[i].form, pts[i].n);
        n += pts[i].n;
        flags |= pts[i].flags;
        if (pts[i].kind == CXS_TOK_WORD)
            kind = CXS_TOK_WORD;
    }
    cxs_token t = {w, n, 0, 0, s->pos, kind, flags};
    emit(s, &t, (range){pts[0].r.p, pts[np - 1].r.q});
}

static void emit_group(scan *s, part *pts, int np) {
    int k = 0;
    for (int i = 0; i < np; i++) {
        pts[k] = pts[i];
        fold_part(s, &pts[k], k);
        if (pts[k].n)
            k++;
    }
    if (k == 1) {
        if (pts[0].kind == CXS_TOK_NUMBER && emoji_glued(s, pts[0].r))
            return;
        emit_part(s, &pts[0], 0);
        return;
    }
    if (k == 0)
        return;
    emit_whole(s, pts, k);
    for (int i = 0; i < k && !s->stop; i++)
        emit_part(s, &pts[i], CXS_TOKF_PART);
}

/* First apostrophe strictly inside r (not its last unit). */
static int32_t inner_apos(const scan *s, range r) {
    for (int32_t i = r.p + 1; i < r.q - 1; i++)
        if (cxs_stemmers_is_apos(s->u[i]))
            return i;
    return -1;
}

/* A word segment r: elision, then compound grouping. */
static int32_t word_group(scan *s, range r) {
    int32_t st;
    if (r.q + 1 < s->n && cxs_stemmers_is_apos(s->u[r.q]) && is_elision(s, r)) {
        seg_end(s, r.q + 1, &st);
        if (is_word_status(st) && is_alnum(s->u[r.q + 1])) {
            emit_article(s, r);
            return r.q + 1;
        }
    }
    int32_t k = inner_apos(s, r);
    if (k > r.p && is_elision(s, (range){r.p, k})) {
        emit_article(s, (range){r.p, k});
        r.p = k + 1;
        if (s->stop)
            return r.q;
    }
    part pts[CXS_STEMMERS_MAX_PARTS];
    int np = 1;
    pts[0].r = r;
    while (np < CXS_STEMMERS_MAX_PARTS) {
        int32_t j = pts[np - 1].r.q;
        if (j + 1 >= s->n || !is_joiner(s->u[j]) || !is_alnum(s->u[j + 1]))
            break;
        range nx = {j + 1, seg_end(s, j + 1, &st)};
        if (!is_word_status(st) || find_char(s, nx, '@') >= 0 ||
            url_at(s, nx) > nx.p)
            break;
        pts[np++].r = nx;
    }
    emit_group(s, pts, np);
    return pts[np - 1].r.q;
}

/* A word segment holding '@' somewhere. */
static int32_t at_word(scan *s, range r, int32_t at) {
    if (at == r.p)
        return mention(s, r);
    int32_t dot = find_char(s, (range){at, r.q}, '.');
    if (dot > at + 1 && dot < r.q - 2) {
        emit_simple(s, CXS_TOK_URL, r, r.p); /* an e-mail address */
        return r.q;
    }
    return word_group(s, (range){r.p, at});
}

static int32_t step(scan *s, int32_t p) {
    int32_t st;
    range r = {p, seg_end(s, p, &st)};
    UChar c = s->u[p];
    if (!is_word_status(st)) {
        if (c == '#')
            return hashtag(s, r);
        if (c == '@')
            return mention(s, r);
        return r.q;
    }
    int32_t e = url_at(s, r);
    if (e > r.p) {
        emit_simple(s, CXS_TOK_URL, (range){r.p, e}, r.p);
        return e;
    }
    int32_t at = find_char(s, r, '@');
    if (at >= 0)
        return at_word(s, r, at);
    return word_group(s, r);
}

/* Where to end a chunk of at most max bytes: after white space if there
 * is some in its second half, else at a UTF-8 boundary. */
static size_t chunk_cut(const char *t, size_t max) {
    for (size_t i = max; i > max / 2; i--)
        if (t[i - 1] == ' ' || t[i - 1] == '\n')
            return i;
    size_t k = cxs_utf8_cut(t, max + 1, max);
    return k ? k : 1; /* a run of stray continuation bytes: move on */
}

cxs_status cxs_stemmers_scan(cxs_stemmers *a, const char *text, size_t len,
                       cxs_lang lang, cxs_token_fn fn, void *ud, cxs_err *err) {
    return cxs_stemmers_scan_from(a, text, len, 0, 0, lang, fn, ud, err);
}

cxs_status cxs_stemmers_scan_from(cxs_stemmers *a, const char *text,
                                  size_t len, size_t from, unsigned pos,
                                  cxs_lang lang, cxs_token_fn fn, void *ud,
                                  cxs_err *err) {
    if ((!text && len) || !fn || from > len)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "analyzer: no text or "
                           "callback");
    scan s = {a, NULL, NULL, 0, 0, lang, pos, fn, ud, 0};
    size_t at = from;
    while (at < len && !s.stop) {
        size_t n = len - at;
        if (n > CXS_STEMMERS_CHUNK)
            n = chunk_cut(text + at, CXS_STEMMERS_CHUNK);
        int32_t un = cxs_stemmers_decode(a, text + at, n);
        if (un < 0)
            return cxs_err_set(err, CXS_ERR_NOMEM, "analyzer: out of memory");
        UErrorCode e = U_ZERO_ERROR;
        ubrk_setText(a->bi, a->u, un, &e);
        if (U_FAILURE(e))
            return cxs_err_set(err, CXS_ERR_INTERNAL, "ubrk_setText: %s",
                               u_errorName(e));
        s.u = a->u, s.off = a->off, s.n = un, s.base = at;
        for (int32_t p = 0; p < un && !s.stop;) {
            int32_t np = step(&s, p);
            p = np > p ? np : p + 1;
        }
        at += n;
    }
    return CXS_OK;
}

int cxs_stemmers_can_resume(const char *text, size_t len,
                            const cxs_token *tok) {
    if (len > CXS_STEMMERS_CHUNK || tok->start >= len ||
        (tok->flags & CXS_TOKF_PART))
        return 0;
    if (tok->start == 0)
        return 1;
    char c = text[tok->start - 1];
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' ||
           c == '\v';
}
