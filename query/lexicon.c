/*
 * lexicon.c - the vocabulary as a sorted array walked as a trie (see
 * lexicon.h for the contract and the reasons).
 *
 * Words sit in one block, NUL-terminated, in Xapian's byte order, so the
 * words sharing a prefix are one run of the array: the walk keeps a stack
 * of Damerau-Levenshtein rows, one per character of the current word's
 * prefix, reuses the rows of the prefix it shares with the previous word,
 * and when a row has no cell within the distance, no word of that prefix
 * can be, so the whole run is skipped. Work is bounded by the rows
 * computed (CXS_LEX_MAX_ROWS), not by the vocabulary.
 *
 * Skipping was most of a walk's time while it searched for the run's end
 * by comparing words (a cache miss and a memcmp a step). Seal now stores
 * each word's common prefix with the next one (lcp, a byte a word): a run
 * ends where that falls below the run's prefix, and the next word's
 * common prefix with the word before, which the walk needs, is read
 * instead of compared. To find that end without reading every lcp of a
 * long run, each word also points to the next one with a smaller lcp
 * (nsv, the "next smaller value"): the skip follows those pointers, a
 * few per run, since each step lowers the lcp.
 */
#include "lexicon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_utf8.h"

struct cxs_lexicon {
    char *blob; /* words, each NUL-terminated */
    size_t blen, bcap;
    uint32_t *off; /* start of word i; off[n] = blen once sealed */
    uint32_t *freq;
    size_t n, cap;
    /* From seal: lcp[i], bytes word i shares with word i + 1 (0 for the
     * last; words are at most 4 * MAXC < 255 bytes); nsv[i], the first
     * j > i with lcp[j] < lcp[i] (n - 1 when there is none). */
    unsigned char *lcp;
    uint32_t *nsv;
};

#define MAXC CXS_LEX_MAX_CHARS
#define MAXD 3
#define MAXDEPTH (MAXC + MAXD + 1)

cxs_status cxs_lexicon_new(cxs_lexicon **out, cxs_err *err) {
    *out = calloc(1, sizeof **out);
    return *out ? CXS_OK : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
}

void cxs_lexicon_free(cxs_lexicon *lx) {
    if (!lx)
        return;
    free(lx->blob);
    free(lx->off);
    free(lx->freq);
    free(lx->lcp);
    free(lx->nsv);
    free(lx);
}

/* Code points of s[0..n) into cp (at most max); returns how many, or
 * max + 1 when there are more. */
static size_t to_cps(const char *s, size_t n, unsigned *cp, size_t max) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned c;
        i += cxs_utf8_decode(s + i, n - i, &c);
        if (k == max)
            return max + 1;
        cp[k++] = c;
    }
    return k;
}

int cxs_lexicon_wants(const char *w, size_t len) {
    unsigned cp[MAXC + 1];
    size_t n = to_cps(w, len, cp, MAXC);
    if (n < CXS_LEX_MIN_CHARS || n > MAXC)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = cp[i];
        if (c < 0x80 ? !(c >= 'a' && c <= 'z')
                     : (c == 0xFFFD || !cxs_utf8_is_word(c)))
            return 0;
    }
    return 1;
}

static const char *word_at(const cxs_lexicon *lx, size_t i, size_t *len) {
    *len = lx->off[i + 1] - lx->off[i] - 1;
    return lx->blob + lx->off[i];
}

/* The last word added (the array is not sealed yet). */
static int after_last(const cxs_lexicon *lx, const char *w, size_t len) {
    if (!lx->n)
        return 1;
    const char *last = lx->blob + lx->off[lx->n - 1];
    size_t ll = lx->blen - lx->off[lx->n - 1] - 1;
    int c = memcmp(last, w, ll < len ? ll : len);
    return c < 0 || (c == 0 && ll < len);
}

static int grow(cxs_lexicon *lx, size_t len) {
    if (lx->n + 2 > lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 1024;
        uint32_t *o = realloc(lx->off, cap * sizeof *o);
        if (o)
            lx->off = o;
        uint32_t *f = o ? realloc(lx->freq, cap * sizeof *f) : NULL;
        if (!f)
            return -1;
        lx->freq = f;
        lx->cap = cap;
    }
    if (lx->blen + len + 1 > lx->bcap) {
        size_t cap = lx->bcap ? lx->bcap * 2 : 65536;
        while (cap < lx->blen + len + 1)
            cap *= 2;
        char *b = realloc(lx->blob, cap);
        if (!b)
            return -1;
        lx->blob = b;
        lx->bcap = cap;
    }
    return 0;
}

cxs_status cxs_lexicon_add(cxs_lexicon *lx, const char *w, size_t len,
                           unsigned long long freq, cxs_err *err) {
    if (!cxs_lexicon_wants(w, len) || !after_last(lx, w, len) ||
        lx->blen + len + 1 > UINT32_MAX)
        return CXS_OK;
    if (grow(lx, len) < 0)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    lx->off[lx->n] = (uint32_t)lx->blen;
    lx->freq[lx->n++] = freq > UINT32_MAX ? UINT32_MAX : (uint32_t)freq;
    memcpy(lx->blob + lx->blen, w, len);
    lx->blob[lx->blen + len] = '\0';
    lx->blen += len + 1;
    return CXS_OK;
}

static size_t common(const char *a, size_t na, const char *b, size_t nb) {
    size_t i = 0, n = na < nb ? na : nb;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* nsv from lcp in one pass, with a stack of the words still waiting for
 * a smaller value (their lcp never falls from the bottom up). */
static int seal_nsv(cxs_lexicon *lx) {
    size_t n = lx->n, top = 0;
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    if (!stack)
        return -1;
    for (size_t i = 0; i < n; i++) {
        while (top > 0 && lx->lcp[stack[top - 1]] > lx->lcp[i])
            lx->nsv[stack[--top]] = (uint32_t)i;
        stack[top++] = (uint32_t)i;
    }
    while (top > 0)
        lx->nsv[stack[--top]] = (uint32_t)(n - 1);
    free(stack);
    return 0;
}

static int seal_lcp(cxs_lexicon *lx) {
    size_t n = lx->n;
    lx->lcp = malloc(n ? n : 1);
    lx->nsv = malloc((n ? n : 1) * sizeof *lx->nsv);
    if (!lx->lcp || !lx->nsv)
        return -1;
    for (size_t i = 0; i + 1 < n; i++) {
        const char *a = lx->blob + lx->off[i], *b = lx->blob + lx->off[i + 1];
        size_t c = common(a, lx->off[i + 1] - lx->off[i] - 1, b,
                          lx->off[i + 2] - lx->off[i + 1] - 1);
        lx->lcp[i] = (unsigned char)(c < 255 ? c : 255);
    }
    if (n)
        lx->lcp[n - 1] = 0;
    return seal_nsv(lx);
}

void cxs_lexicon_seal(cxs_lexicon *lx) {
    int ok = grow(lx, 0) == 0;
    if (ok)
        lx->off[lx->n] = (uint32_t)lx->blen;
    if (!ok || seal_lcp(lx) != 0)
        lx->n = 0; /* out of memory: an empty lexicon forgives nothing */
}

size_t cxs_lexicon_size(const cxs_lexicon *lx) { return lx ? lx->n : 0; }

size_t cxs_lexicon_bytes(const cxs_lexicon *lx) {
    return lx ? sizeof *lx + lx->bcap + lx->cap * 2 * sizeof(uint32_t) +
                    lx->n * (1 + sizeof(uint32_t))
              : 0;
}

/* Byte order of w[0..wl) against p[0..pl) on their first pl bytes: <0,
 * 0 when w starts with p, >0. */
static int cmp_prefix(const char *w, size_t wl, const char *p, size_t pl) {
    int c = memcmp(w, p, wl < pl ? wl : pl);
    return c ? c : (wl < pl ? -1 : 0);
}

/* The first word not below p[0..pl) in prefix order (binary search). */
static size_t lower_bound(const cxs_lexicon *lx, const char *p, size_t pl) {
    size_t lo = 0, hi = lx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, wl;
        const char *w = word_at(lx, mid, &wl);
        if (cmp_prefix(w, wl, p, pl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

unsigned cxs_lexicon_freq(const cxs_lexicon *lx, const char *w, size_t len) {
    if (!lx || !lx->n)
        return 0;
    size_t i = lower_bound(lx, w, len), wl;
    if (i == lx->n)
        return 0;
    const char *x = word_at(lx, i, &wl);
    return wl == len && memcmp(x, w, len) == 0 ? lx->freq[i] : 0;
}

/* ---- the best candidates, kept in a small sorted array ---- */

typedef struct best {
    cxs_lexcand *v;
    size_t n, max;
} best;

static int better(const cxs_lexcand *a, const cxs_lexcand *b) {
    return a->dist != b->dist ? a->dist < b->dist : a->freq > b->freq;
}

static void offer(best *b, const cxs_lexcand *c) {
    size_t at = b->n;
    while (at > 0 && better(c, &b->v[at - 1]))
        at--;
    if (at >= b->max)
        return;
    size_t keep = b->n < b->max ? b->n : b->max - 1;
    memmove(b->v + at + 1, b->v + at, (keep - at) * sizeof *b->v);
    b->v[at] = *c;
    b->n = keep + 1;
}

/* ---- the walk ---- */

typedef struct walk {
    const cxs_lexicon *lx;
    unsigned q[MAXC];
    size_t m;
    unsigned maxd, min_freq;
    int prefix; /* completion: a row whose last cell fits ends the walk */
    size_t fixed; /* leading characters that must be as in the query */
    unsigned row[MAXDEPTH + 1][MAXC + 1];
    unsigned cp[MAXDEPTH + 1];
    size_t boff[MAXDEPTH + 1]; /* bytes of the prefix at each depth */
    size_t rows;
    best out;
} walk;

static unsigned min3(unsigned a, unsigned b, unsigned c) {
    unsigned m = a < b ? a : b;
    return m < c ? m : c;
}

/* Row k from rows k-1 and k-2; returns its smallest cell. Only the band
 * of cells within maxd of the diagonal can be within maxd (Ukkonen), so
 * only those are computed; the cells just outside it, which the next
 * rows read, hold maxd + 1 (what lies farther is never read). Every cell
 * within maxd is exact; the others are only known to exceed maxd. */
static unsigned next_row(walk *w, size_t k) {
    unsigned *r = w->row[k], *p = w->row[k - 1], c = w->cp[k];
    unsigned lo = r[0] = (unsigned)k, far = w->maxd + 1;
    size_t from = k > w->maxd ? k - w->maxd : 1, to = k + w->maxd;
    if (to >= w->m)
        to = w->m;
    else
        r[to + 1] = far;
    if (from > 1)
        r[from - 1] = far;
    for (size_t j = from; j <= to; j++) {
        r[j] = min3(p[j] + 1, r[j - 1] + 1, p[j - 1] + (c != w->q[j - 1]));
        if (k > 1 && j > 1 && c == w->q[j - 2] && w->cp[k - 1] == w->q[j - 1] &&
            w->row[k - 2][j - 2] + 1 < r[j])
            r[j] = w->row[k - 2][j - 2] + 1;
        if (r[j] < lo)
            lo = r[j];
    }
    return lo;
}

/* The words of the run [i, end): the most frequent go to the output. */
static void take_run(walk *w, size_t i, size_t end, unsigned dist) {
    for (; i < end && w->rows < CXS_LEX_MAX_ROWS; i++, w->rows++) {
        size_t len;
        const char *s = word_at(w->lx, i, &len);
        cxs_lexcand c = {s, len, dist, w->lx->freq[i]};
        offer(&w->out, &c);
    }
}

/* The distance of the prefix of depth k to the whole query, or more
 * than maxd when the band of row k does not reach the query's end. */
static unsigned last_cell(const walk *w, size_t k) {
    return k + w->maxd >= w->m ? w->row[k][w->m] : w->maxd + 1;
}

/* Extends the rows along word i from depth *k. Returns 1 when word i
 * ended within the walk (its distance is row[*k][m]), 0 when the prefix of
 * depth *k rules out its run. */
static int extend(walk *w, size_t i, size_t *k) {
    size_t wl;
    const char *s = word_at(w->lx, i, &wl);
    for (size_t at = w->boff[*k]; at < wl;) {
        unsigned c;
        size_t l = cxs_utf8_decode(s + at, wl - at, &c);
        if (*k >= w->m + w->maxd)
            return 0; /* longer than any word within reach */
        (*k)++;
        w->cp[*k] = c;
        w->boff[*k] = at += l;
        w->rows++;
        if ((*k <= w->fixed && c != w->q[*k - 1]) || next_row(w, *k) > w->maxd)
            return 0;
        if (w->prefix && last_cell(w, *k) <= w->maxd)
            return 0; /* every word of this run completes the prefix */
    }
    return 1;
}

/* The end of the run of words sharing word i's first pl bytes (pl >= 1):
 * the first word after i whose common prefix with the one before it is
 * shorter. Every word nsv jumps over has an lcp at least the one it
 * jumps from, so none ends the run; the last word's lcp is 0, so the
 * jumps stop before n. */
static size_t run_end(const cxs_lexicon *lx, size_t i, size_t pl) {
    while (lx->lcp[i] >= pl)
        i = lx->nsv[i];
    return i + 1;
}

static void run_walk(walk *w) {
    const cxs_lexicon *lx = w->lx;
    size_t k = 0;
    for (unsigned j = 0; j <= w->m; j++)
        w->row[0][j] = j;
    w->boff[0] = 0;
    for (size_t i = 0; i < lx->n && w->rows < CXS_LEX_MAX_ROWS;) {
        size_t wl;
        const char *s = word_at(lx, i, &wl);
        /* The word before i in the walk is i - 1, or one of a run that
         * ended at i - 1: what it shares with i is lcp[i - 1] (run_end). */
        size_t lcp = i ? lx->lcp[i - 1] : 0;
        while (k > 0 && w->boff[k] > lcp)
            k--;
        if (extend(w, i, &k)) {
            unsigned d = last_cell(w, k);
            cxs_lexcand c = {s, wl, d, lx->freq[i]};
            if (d <= w->maxd && (d > 0 || w->prefix) &&
                c.freq >= w->min_freq)
                offer(&w->out, &c);
            i++;
            continue;
        }
        size_t end = run_end(lx, i, w->boff[k]);
        if (w->prefix && last_cell(w, k) <= w->maxd)
            take_run(w, i, end, last_cell(w, k));
        i = end;
    }
}

static walk *walk_new(const cxs_lexicon *lx, const char *s, size_t len,
                      unsigned maxd, cxs_lexcand *out, size_t max) {
    if (!lx || !lx->n || !max || maxd > MAXD)
        return NULL;
    walk *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->m = to_cps(s, len, w->q, MAXC);
    if (w->m == 0 || w->m > MAXC) {
        free(w);
        return NULL;
    }
    w->lx = lx;
    w->maxd = maxd;
    w->out = (best){out, 0, max};
    return w;
}

/* One walk within maxd edits, the first `fixed` characters kept. */
static size_t near_walk(const cxs_lexicon *lx, const char *s, size_t len,
                        unsigned maxd, size_t fixed, unsigned min_freq,
                        cxs_lexcand *out, size_t max) {
    walk *w = walk_new(lx, s, len, maxd, out, max);
    if (!w)
        return 0;
    w->min_freq = min_freq;
    w->fixed = fixed;
    run_walk(w);
    size_t n = w->out.n;
    free(w);
    return n;
}

size_t cxs_lexicon_near(const cxs_lexicon *lx, const char *s, size_t len,
                        unsigned maxd, unsigned min_freq, cxs_lexcand *out,
                        size_t max) {
    if (maxd <= 1)
        return near_walk(lx, s, len, maxd, 0, min_freq, out, max);
    /* Two edits and more: the first character as typed (Lucene's fuzzy
     * prefix), which cuts the walk about tenfold; one edit is looked for
     * anywhere, the first character included. */
    cxs_lexcand one[64], two[64];
    size_t cap = max < 64 ? max : 64;
    best b = {out, 0, cap};
    size_t n1 = near_walk(lx, s, len, 1, 0, min_freq, one, cap);
    size_t n2 = near_walk(lx, s, len, maxd, 1, min_freq, two, cap);
    for (size_t i = 0; i < n1; i++)
        offer(&b, &one[i]);
    for (size_t i = 0; i < n2; i++)
        if (two[i].dist > 1)
            offer(&b, &two[i]);
    return b.n;
}

size_t cxs_lexicon_complete(const cxs_lexicon *lx, const char *p, size_t len,
                            unsigned maxd, cxs_lexcand *out, size_t max) {
    walk *w = walk_new(lx, p, len, maxd, out, max);
    if (!w)
        return 0;
    if (w->maxd >= w->m)
        w->maxd = (unsigned)w->m - 1; /* else every word would complete */
    w->prefix = 1;
    run_walk(w);
    size_t n = w->out.n;
    free(w);
    return n;
}

unsigned cxs_lexicon_distance(const char *a, size_t na, const char *b,
                              size_t nb) {
    walk *w = calloc(1, sizeof *w);
    if (!w)
        return MAXC + 1;
    unsigned cb[MAXC];
    w->m = to_cps(a, na, w->q, MAXC);
    size_t m2 = to_cps(b, nb, cb, MAXC);
    unsigned d = MAXC + 1;
    w->maxd = MAXC; /* the band is every cell */
    if (w->m <= MAXC && m2 <= MAXC) {
        for (unsigned j = 0; j <= w->m; j++)
            w->row[0][j] = j;
        for (size_t k = 1; k <= m2; k++) {
            w->cp[k] = cb[k - 1];
            (void)next_row(w, k);
        }
        d = w->row[m2][w->m];
    }
    free(w);
    return d;
}
