/*
 * snippet.c - see snippet.h.
 *
 * One pass of the analyzer's tokenizer over the post collects the tokens
 * (byte spans) and whether each matched; a sliding window then picks the
 * passage. Tokens beyond MAX_TOKENS are ignored so a huge post cannot
 * make a snippet slow.
 *
 * Whether a token matches is the costly part: its lemmas come from
 * Hunspell. Two things spare that work: when the index says where the
 * query's lemmas stand in the post (cxs_highlight.by_index), a token
 * matches by position or by its dictionary-free forms; otherwise a
 * per-search cache remembers each word form's answer across the hits.
 *
 * When the index's positions are every match (by_forms clear, no
 * wildcard prefixes), the passage cannot reach past the last of them by
 * more than its own length, so tokenizing stops there: the tail of a
 * long post is never scanned, and the snippet is the same.
 *
 * Better still, with the index's resume points (checkpoints.h): a token
 * then matches by its position alone, so the passage is chosen in
 * position space from the index's positions, with the same scoring and
 * ties as over tokens, and only the passage is tokenized, from the resume
 * point before it. Tokenizing is 34% of a loaded daemon's CPU otherwise.
 * Both paths give the same bytes (tests/unit/test_search.c compares them
 * on every hit); should the tokens found not be the ones expected, the
 * full scan is used.
 */
#include "snippet.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoints.h"
#include "cxs_grow.h"
#include "terms.h"

#define MAX_TOKENS 20000
#define TERM_MAX 300

/* A direct-mapped table of recent word forms: a collision simply replaces
 * the older entry, so lookups stay O(1) and memory fixed. */
#define CACHE_SLOTS 1024
#define CACHE_FORM_MAX 48

typedef struct cache_slot {
    unsigned char used, lang, len;
    int match;
    char form[CACHE_FORM_MAX];
} cache_slot;

struct cxs_snippet_cache {
    cache_slot slot[CACHE_SLOTS];
};

cxs_snippet_cache *cxs_snippet_cache_new(void) {
    return calloc(1, sizeof(cxs_snippet_cache));
}

void cxs_snippet_cache_free(cxs_snippet_cache *c) {
    free(c);
}

static cache_slot *cache_find(cxs_snippet_cache *c, const cxs_token *tok,
                              cxs_lang lang, int *hit) {
    *hit = 0;
    if (!c || tok->form_len >= CACHE_FORM_MAX)
        return NULL;
    unsigned long long h = 1469598103934665603ULL ^ (unsigned)lang;
    for (size_t i = 0; i < tok->form_len; i++)
        h = (h ^ (unsigned char)tok->form[i]) * 1099511628211ULL;
    cache_slot *s = &c->slot[h % CACHE_SLOTS];
    *hit = s->used && s->lang == (unsigned char)lang &&
           s->len == tok->form_len &&
           memcmp(s->form, tok->form, tok->form_len) == 0;
    return s;
}

static void cache_put(cache_slot *s, const cxs_token *tok, cxs_lang lang,
                      int match) {
    if (!s)
        return;
    s->used = 1;
    s->lang = (unsigned char)lang;
    s->len = (unsigned char)tok->form_len;
    memcpy(s->form, tok->form, tok->form_len);
    s->match = match;
}

typedef struct span {
    size_t start, end;
    int match; /* index+1 of the matched query term, 0 for none */
} span;

typedef struct collect {
    cxs_stemmers *a;
    size_t from; /* tokens starting before this byte are not kept */
    cxs_lang lang;
    const cxs_highlight *hl;
    span *v;
    size_t n, cap;
    int cur_match; /* set by term_cb for the token being expanded */
    int had_lemma; /* the token being expanded reported a lemma */
    int oom;
    /* The early stop (top of the file): the last position the index gave,
     * the passage length, and the span count at which to stop (0: not
     * known yet). */
    unsigned last_pos;
    size_t window, stop_at;
} collect;

static int cmp_term(const void *key, const void *elem) {
    return strcmp((const char *)key, *(char *const *)elem);
}

static int term_cb(void *ud, cxs_term_kind kind, const char *term, size_t len,
                   const cxs_token *tok) {
    (void)tok;
    collect *c = ud;
    /* As in the index (document.c), a word the dictionary knows keeps no
     * stem: "experiments" must not light up for "experience" through
     * their common stem when search did not match it that way. */
    if (kind == CXS_TERM_LEMMA)
        c->had_lemma = 1;
    if (kind == CXS_TERM_STEM && c->had_lemma)
        return 0;
    char buf[TERM_MAX];
    const char *pfx = cxs_terms_prefix(kind);
    size_t plen = strlen(pfx);
    if (plen + len + 1 > sizeof buf)
        return 0;
    memcpy(buf, pfx, plen);
    memcpy(buf + plen, term, len);
    buf[plen + len] = '\0';
    char *const *hit = bsearch(buf, c->hl->terms, c->hl->nterms,
                               sizeof *c->hl->terms, cmp_term);
    if (hit) {
        c->cur_match = (int)(hit - c->hl->terms) + 1;
        return 1; /* one matching term is enough */
    }
    return 0;
}

static int prefix_match(const cxs_highlight *hl, const cxs_token *tok) {
    for (size_t i = 0; i < hl->nprefixes; i++) {
        size_t n = strlen(hl->prefixes[i]);
        if (n && n <= tok->form_len &&
            memcmp(tok->form, hl->prefixes[i], n) == 0)
            return (int)(hl->nterms + i) + 1;
    }
    return 0;
}

/* The query term the index puts at position pos, as index+1, or 0. */
static int pos_match(const cxs_highlight *hl, unsigned pos) {
    size_t lo = 0, hi = hl->npos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hl->pos[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < hl->npos && hl->pos[lo].pos == pos ? (int)hl->pos[lo].term + 1
                                                   : 0;
}

/* The fast path (see the top of the file): no dictionary lookups. */
static int match_by_index(collect *c, const cxs_token *tok) {
    int m = pos_match(c->hl, tok->pos + 1);
    if (m)
        return m;
    c->cur_match = 0;
    if (c->hl->nterms && c->hl->by_forms)
        cxs_stemmers_expand_forms(c->a, tok, c->lang, term_cb, c);
    return c->cur_match ? c->cur_match : prefix_match(c->hl, tok);
}

static int match_by_analysis(collect *c, const cxs_token *tok) {
    int cached;
    cache_slot *slot = cache_find(c->hl->cache, tok, c->lang, &cached);
    if (cached)
        return slot->match;
    c->cur_match = 0;
    c->had_lemma = 0;
    if (c->hl->nterms)
        cxs_stemmers_expand(c->a, tok, c->lang, term_cb, c);
    if (!c->cur_match)
        c->cur_match = prefix_match(c->hl, tok);
    cache_put(slot, tok, c->lang, c->cur_match);
    return c->cur_match;
}

static int token_cb(void *ud, const cxs_token *tok) {
    collect *c = ud;
    /* A compound's whole form overlaps its parts; the parts carry the
     * highlight. */
    if ((tok->flags & CXS_TOKF_COMPOUND) || tok->start < c->from)
        return 0;
    if (c->n && tok->start < c->v[c->n - 1].end)
        return 0;
    if (c->n == MAX_TOKENS || (c->stop_at && c->n >= c->stop_at))
        return 1;
    if (CXS_GROW(c->v, c->cap, c->n + 1) != CXS_OK) {
        c->oom = 1;
        return 1;
    }
    int match =
        c->hl->by_index ? match_by_index(c, tok) : match_by_analysis(c, tok);
    c->v[c->n++] = (span){tok->start, tok->end, match};
    /* One more span than a passage beyond the last match: the passage
     * cannot end later, and the extra span says that text follows. */
    if (c->last_pos && match && tok->pos + 1 == c->last_pos)
        c->stop_at = c->n + c->window;
    return 0;
}

/* The last position of a match, when the index's positions are all the
 * matches there are; 0 otherwise. */
static unsigned every_match_at(const cxs_highlight *hl) {
    if (!hl->by_index || hl->by_forms || hl->nprefixes || !hl->npos)
        return 0;
    return hl->pos[hl->npos - 1].pos;
}

/* window: the passage length in spans, to stop early (0: the whole text). */
static cxs_status collect_spans(cxs_stemmers *a, const char *text, size_t len,
                                size_t from, cxs_lang lang,
                                const cxs_highlight *hl, size_t window,
                                collect *c, cxs_err *err) {
    memset(c, 0, sizeof *c);
    c->a = a;
    c->from = from;
    c->lang = lang;
    c->hl = hl;
    c->window = window;
    c->last_pos = window ? every_match_at(hl) : 0;
    cxs_status rc = cxs_stemmers_tokenize(a, text, len, token_cb, c, err);
    if (rc == CXS_OK && c->oom)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory in snippet");
    return rc;
}

/* Appends text[from..to) escaped (or not), with newlines and runs of
 * white space folded to one space: a snippet is one line. */
static cxs_status put_text(cxs_buf *out, const char *s, size_t from, size_t to,
                           int no_escape) {
    cxs_status rc = CXS_OK;
    size_t run = from;
    for (size_t i = from; i < to && rc == CXS_OK; i++) {
        if (s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
            continue;
        rc = no_escape ? cxs_buf_append(out, s + run, i - run)
                       : cxs_buf_append_html(out, s + run, i - run);
        if (rc == CXS_OK && (!out->len || out->data[out->len - 1] != ' '))
            rc = cxs_buf_appendc(out, ' ');
        run = i + 1;
    }
    if (rc == CXS_OK)
        rc = no_escape ? cxs_buf_append(out, s + run, to - run)
                       : cxs_buf_append_html(out, s + run, to - run);
    return rc;
}

/* Writes tokens [first, last] with the text between them, marking
 * matches. */
static cxs_status render(const char *text, const span *v, size_t first,
                         size_t last, const cxs_highlight *hl, cxs_buf *out) {
    cxs_status rc = CXS_OK;
    size_t at = v[first].start;
    for (size_t i = first; i <= last && rc == CXS_OK; i++) {
        if (!v[i].match)
            continue;
        rc = put_text(out, text, at, v[i].start, hl->no_escape);
        if (rc == CXS_OK)
            rc = cxs_buf_appends(out, hl->pre);
        if (rc == CXS_OK)
            rc = put_text(out, text, v[i].start, v[i].end, hl->no_escape);
        if (rc == CXS_OK)
            rc = cxs_buf_appends(out, hl->post);
        at = v[i].end;
    }
    if (rc == CXS_OK)
        rc = put_text(out, text, at, v[last].end, hl->no_escape);
    return rc;
}

/* Score of a window: distinct matched query terms first, then matches. */
static size_t window_score(const span *v, size_t from, size_t to) {
    size_t distinct = 0, total = 0;
    for (size_t i = from; i < to; i++) {
        if (!v[i].match)
            continue;
        total++;
        int seen = 0;
        for (size_t j = from; j < i && !seen; j++)
            seen = v[j].match == v[i].match;
        distinct += !seen;
    }
    return distinct * 1000 + total;
}

static size_t best_window(const span *v, size_t n, size_t w) {
    if (n <= w)
        return 0;
    size_t best = 0, best_score = 0;
    for (size_t i = 0; i < n; i++) {
        /* Only windows that begin at a match (or the text start) can be
         * better than their left neighbour; this keeps the scan linear
         * in practice. A match in the last w tokens is scored with the
         * window that ends the text (clamped below). */
        if (i && !v[i].match)
            continue;
        size_t from = i + w <= n ? i : n - w;
        size_t s = window_score(v, from, from + w);
        if (s > best_score) {
            best_score = s;
            best = i;
        }
    }
    /* Start a little before the first match for context. */
    size_t lead = w / 5;
    if (best > lead)
        best -= lead;
    else
        best = 0;
    if (best + w > n)
        best = n - w;
    return best;
}

/* ---- the passage from positions (top of the file) ---- */

/* A body position the index gives: its index among the body's tokens and
 * the query term there (index+1, as span.match). */
typedef struct pmatch {
    size_t i;
    int term;
} pmatch;

/* The body's matches in token order, one per position (the first term
 * the index gives there, as pos_match), those before the body and from
 * the n-th token on left out. Returns the count; *v is malloc'ed. */
static size_t body_matches(const cxs_highlight *hl, unsigned body, size_t n,
                           pmatch **v) {
    size_t k = 0;
    *v = malloc((hl->npos ? hl->npos : 1) * sizeof **v);
    for (size_t j = 0; *v && j < hl->npos; j++) {
        unsigned p = hl->pos[j].pos; /* token position + 1 */
        if (p <= body || p - 1 - body >= n ||
            (j && hl->pos[j - 1].pos == p))
            continue;
        (*v)[k++] = (pmatch){p - 1 - body, (int)hl->pos[j].term + 1};
    }
    return k;
}

/* window_score over matches: those in [from, from + w). */
static size_t match_score(const pmatch *m, size_t k, size_t from, size_t w) {
    size_t lo = 0, hi = k, distinct = 0, total = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].i < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t j = lo; j < k && m[j].i < from + w; j++) {
        int seen = 0;
        for (size_t t = lo; t < j && !seen; t++)
            seen = m[t].term == m[j].term;
        distinct += !seen;
        total++;
    }
    return distinct * 1000 + total;
}

/* best_window for n tokens whose matches are m[0..k). */
static size_t best_window_at(const pmatch *m, size_t k, size_t n, size_t w) {
    if (n <= w)
        return 0;
    size_t best = 0, best_score = 0;
    for (size_t j = 0; j <= k; j++) {
        /* The text start first, then each match, as best_window. */
        size_t i = j ? m[j - 1].i : 0;
        size_t s = match_score(m, k, i + w <= n ? i : n - w, w);
        if (s > best_score) {
            best_score = s;
            best = i;
        }
    }
    size_t lead = w / 5;
    best = best > lead ? best - lead : 0;
    return best + w > n ? n - w : best;
}

/* Tokens of the window: positions [at, at + want) collected into v. */
typedef struct window_scan {
    const cxs_highlight *hl;
    size_t from; /* the body's first byte */
    unsigned at; /* the first position wanted */
    size_t want;
    span *v;
    size_t n;
    int odd; /* a token not where expected: use the full scan */
} window_scan;

static int window_cb(void *ud, const cxs_token *tok) {
    window_scan *ws = ud;
    if ((tok->flags & CXS_TOKF_COMPOUND) || tok->pos < ws->at)
        return 0;
    if (tok->pos != ws->at + ws->n || tok->start < ws->from ||
        (ws->n && tok->start < ws->v[ws->n - 1].end)) {
        ws->odd = 1;
        return 1;
    }
    ws->v[ws->n++] = (span){tok->start, tok->end, pos_match(ws->hl, tok->pos + 1)};
    return ws->n == ws->want;
}

/* The first body position: the first token at or after from that is not
 * a whole compound (as token_cb keeps). */
typedef struct body_scan {
    size_t from;
    unsigned pos;
    int found, odd;
} body_scan;

static int body_cb(void *ud, const cxs_token *tok) {
    body_scan *bs = ud;
    if ((tok->flags & CXS_TOKF_COMPOUND) || tok->start < bs->from)
        return 0;
    bs->pos = tok->pos;
    bs->found = 1;
    return 1;
}

static cxs_status body_start(cxs_stemmers *a, const char *text, size_t len,
                             size_t from, const cxs_highlight *hl,
                             body_scan *bs, cxs_err *err) {
    bs->from = from;
    bs->found = bs->odd = 0;
    bs->pos = 0;
    if (from == 0) /* every token is the body's: the first has position 0 */
        return bs->found = 1, CXS_OK;
    unsigned cp;
    size_t cb;
    cxs_checkpoints_seek(hl->marks, hl->nmarks, 1, from, &cp, &cb);
    if (cb > len) /* not this text's: corrupt */
        return bs->odd = 1, CXS_OK;
    return cxs_stemmers_tokenize_from(a, text, len, cb, cp, body_cb, bs, err);
}

/* Tokenizes the window [first, first + want) of body tokens (positions
 * from body) into ws. */
static cxs_status scan_window(cxs_stemmers *a, const char *text, size_t len,
                              unsigned body, size_t first, size_t want,
                              window_scan *ws, cxs_err *err) {
    ws->at = body + (unsigned)first;
    ws->want = want;
    ws->v = malloc(want * sizeof *ws->v);
    if (!ws->v)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory in snippet");
    unsigned cp;
    size_t cb;
    cxs_checkpoints_seek(ws->hl->marks, ws->hl->nmarks, 0, ws->at, &cp, &cb);
    if (cb > len)
        return ws->odd = 1, CXS_OK;
    cxs_status rc =
        cxs_stemmers_tokenize_from(a, text, len, cb, cp, window_cb, ws, err);
    ws->odd |= rc == CXS_OK && ws->n != want;
    return rc;
}

static cxs_status write_passage(const char *text, const span *v, size_t first,
                                size_t last, size_t n, const cxs_highlight *hl,
                                size_t off, cxs_buf *out) {
    cxs_status rc = first > 0 ? cxs_buf_appends(out, "… ") : CXS_OK;
    if (rc == CXS_OK)
        rc = render(text, v, first - off, last - off, hl, out);
    if (rc == CXS_OK && last + 1 < n)
        rc = cxs_buf_appends(out, " …");
    return rc;
}

/* The snippet from positions and resume points; *done 0: not possible for
 * this text (no resume points, or tokens not as expected), nothing
 * written. */
static cxs_status passage_by_marks(cxs_stemmers *a, const char *text,
                                   size_t len, size_t from,
                                   const cxs_highlight *hl, size_t w,
                                   cxs_buf *out, int *done, cxs_err *err) {
    unsigned long long npos;
    body_scan bs;
    *done = 0;
    if (!cxs_checkpoints_positions(hl->marks, hl->nmarks, &npos) ||
        npos > 0xFFFFFFFFull)
        return CXS_OK;
    cxs_status rc = body_start(a, text, len, from, hl, &bs, err);
    if (rc != CXS_OK || bs.odd)
        return rc;
    size_t n = bs.found && bs.pos < npos ? (size_t)(npos - bs.pos) : 0;
    n = n < MAX_TOKENS ? n : MAX_TOKENS;
    if (!n)
        return *done = 1, CXS_OK;
    pmatch *m;
    size_t k = body_matches(hl, bs.pos, n, &m);
    if (!m)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory in snippet");
    size_t first = best_window_at(m, k, n, w);
    size_t last = first + w < n ? first + w - 1 : n - 1;
    free(m);
    window_scan ws = {.hl = hl, .from = from};
    rc = scan_window(a, text, len, bs.pos, first, last - first + 1, &ws, err);
    if (rc == CXS_OK && !ws.odd) {
        *done = 1;
        rc = write_passage(text, ws.v, first, last, n, hl, first, out);
    }
    free(ws.v);
    return rc;
}

static int by_marks(const cxs_highlight *hl) {
    return hl->marks && hl->by_index && !hl->by_forms && !hl->nprefixes;
}

cxs_status cxs_snippet_make(cxs_stemmers *a, const char *text, size_t len,
                            size_t from, cxs_lang lang, const cxs_highlight *hl,
                            unsigned words, cxs_buf *out, cxs_err *err) {
    collect c;
    size_t w = words ? words : 30;
    int done = 0;
    cxs_status rc = CXS_OK;
    if (by_marks(hl))
        rc = passage_by_marks(a, text, len, from, hl, w, out, &done, err);
    if (rc != CXS_OK || done)
        return rc == CXS_ERR_TOO_LARGE
                   ? cxs_err_set(err, rc, "snippet too large")
                   : rc;
    rc = collect_spans(a, text, len, from, lang, hl, w, &c, err);
    if (rc == CXS_OK && c.n) {
        size_t first = best_window(c.v, c.n, w);
        size_t last = first + w < c.n ? first + w - 1 : c.n - 1;
        rc = write_passage(text, c.v, first, last, c.n, hl, 0, out);
    }
    free(c.v);
    return rc == CXS_ERR_TOO_LARGE ? cxs_err_set(err, rc, "snippet too large")
                                   : rc;
}

cxs_status cxs_snippet_mark_all(cxs_stemmers *a, const char *text, size_t len,
                                cxs_lang lang, const cxs_highlight *hl,
                                cxs_buf *out, cxs_err *err) {
    collect c;
    cxs_status rc = collect_spans(a, text, len, 0, lang, hl, 0, &c, err);
    if (rc == CXS_OK && c.n) {
        rc = put_text(out, text, 0, c.v[0].start, hl->no_escape);
        if (rc == CXS_OK)
            rc = render(text, c.v, 0, c.n - 1, hl, out);
        if (rc == CXS_OK)
            rc = put_text(out, text, c.v[c.n - 1].end, len, hl->no_escape);
    } else if (rc == CXS_OK) {
        rc = put_text(out, text, 0, len, hl->no_escape);
    }
    free(c.v);
    return rc;
}
