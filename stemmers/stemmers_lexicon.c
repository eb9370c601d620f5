/*
 * stemmers_lexicon.c - the analyzer's word knowledge: stopword sets loaded from
 * data files, Hunspell lemmas, Snowball stems, and the cache in front of
 * the last two.
 *
 * Facts that shaped it:
 * - Stopword lists are data (stemmers/stopwords/<lang>.txt: one word per
 *   line, '#' comments), folded like any token on load, so "Ещё" in the
 *   file matches "еще" in text.
 * - Hunspell_stem costs microseconds per call; Snowball less, but still
 *   the largest part of a token's cost. The vocabulary of real text is
 *   Zipf-distributed, so one cache keyed by (language, word) holding both
 *   lemmas and stem answers most tokens with one hash lookup. It is
 *   bounded: two generations of 200,000 entries (about 30 MB when full,
 *   grown on demand); frequent words are copied forward and survive a
 *   turnover, rare ones age out.
 * - The threads of one import (a shard each, index/shards.c) see the same
 *   vocabulary: with a cache each, every word of the long tail went to
 *   Hunspell once per thread (647k calls for 20k synthetic posts on two
 *   threads, a fifth of the build's CPU). They share one cache, of their
 *   sizes added up, behind a mutex (cxs_stemmers_share_cache).
 * - Hunspell wants words in its dictionary's encoding (SET in the .aff);
 *   Debian's ru_RU, it_IT and en_US say UTF-8, but other dictionaries are
 *   converted through ICU ucnv. Proper nouns are stored capitalized
 *   (Москва), so a lower-case miss is retried title-cased.
 * - libstemmer's result is owned by the stemmer and overwritten by the
 *   next call: it is copied at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hunspell/hunspell.h>
#include <libstemmer.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "stemmers_internal.h"
#include "cxs_buf.h"

/* 400,000 (language, word) entries in all: the 118 MB real-text corpus of
 * ../shared/bench has about 430,000 distinct ones. An entry takes about 50
 * bytes of arena (64 are reserved) plus 16 bytes of slots: about 30 MB when
 * full, allocated as it fills (a query-side analyzer stays small). */
#define CACHE_DEFAULT_ENTRIES 400000
#define CACHE_ENTRY_BYTES 64

static const char *const lang_code[CXS_STEMMERS_NLANG] = {"", "ru", "it", "en"};
static const char *const sb_name[CXS_STEMMERS_NLANG] = {NULL, "russian", "italian",
                                                  "english"};
static const char *const dict_name[CXS_STEMMERS_NLANG] = {NULL, "ru_RU", "it_IT",
                                                    "en_US"};

static uint32_t hash_bytes(uint32_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* ---- stopword sets ---- */

static int strset_find(const cxs_stemmers_strset *set, const char *s, size_t n,
                       size_t *slot) {
    if (!set->nslots)
        return 0;
    size_t mask = set->nslots - 1;
    size_t i = hash_bytes(2166136261u, s, n) & mask;
    while (set->keys[i]) {
        if (set->lens[i] == n && memcmp(set->keys[i], s, n) == 0) {
            *slot = i;
            return 1;
        }
        i = (i + 1) & mask;
    }
    *slot = i;
    return 0;
}

static int strset_grow(cxs_stemmers_strset *set) {
    size_t ns = set->nslots ? set->nslots * 2 : 256;
    cxs_stemmers_strset big = {calloc(ns, sizeof(char *)),
                         calloc(ns, sizeof(uint32_t)), ns, 0};
    if (!big.keys || !big.lens) {
        free(big.keys);
        free(big.lens);
        return -1;
    }
    for (size_t i = 0; i < set->nslots; i++) {
        size_t slot = 0;
        if (!set->keys[i])
            continue;
        strset_find(&big, set->keys[i], set->lens[i], &slot);
        big.keys[slot] = set->keys[i];
        big.lens[slot] = set->lens[i];
        big.count++;
    }
    free(set->keys);
    free(set->lens);
    *set = big;
    return 0;
}

static int strset_add(cxs_stemmers_strset *set, const char *s, size_t n) {
    size_t slot = 0;
    if ((set->count + 1) * 2 > set->nslots && strset_grow(set) != 0)
        return -1;
    if (strset_find(set, s, n, &slot))
        return 0;
    char *k = cxs_strndup(s, n);
    if (!k)
        return -1;
    set->keys[slot] = k;
    set->lens[slot] = (uint32_t)n;
    set->count++;
    return 0;
}

void cxs_stemmers_strset_free(cxs_stemmers_strset *set) {
    for (size_t i = 0; i < set->nslots; i++)
        free(set->keys[i]);
    free(set->keys);
    free(set->lens);
    memset(set, 0, sizeof *set);
}

int cxs_stemmers_stop_has(const cxs_stemmers *a, cxs_lang lang, const char *s,
                    size_t n) {
    size_t slot = 0;
    if (lang <= CXS_LANG_UNKNOWN || lang >= CXS_STEMMERS_NLANG)
        return 0;
    return strset_find(&a->stop[lang], s, n, &slot);
}

/* Cuts a '#' comment and surrounding white space; returns the length. */
static size_t stop_line_trim(char *line, size_t n, char **start) {
    char *hash = memchr(line, '#', n);
    if (hash)
        n = (size_t)(hash - line);
    while (n > 0 && (unsigned char)line[n - 1] <= ' ')
        n--;
    size_t b = 0;
    while (b < n && (unsigned char)line[b] <= ' ')
        b++;
    *start = line + b;
    return n - b;
}

static cxs_status stop_add_line(cxs_stemmers *a, cxs_lang lang,
                                const char *path, unsigned lineno, char *w,
                                size_t n, cxs_err *err) {
    char form[CXS_STEMMERS_TERM_MAX + 8];
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] <= ' ')
            return cxs_err_set(err, CXS_ERR_PARSE,
                               "%s:%u: one word per line expected", path,
                               lineno);
    if (!cxs_utf8_valid(w, n))
        return cxs_err_set(err, CXS_ERR_PARSE, "%s:%u: invalid UTF-8", path,
                           lineno);
    if (n > 100)
        return cxs_err_set(err, CXS_ERR_PARSE, "%s:%u: word too long", path,
                           lineno);
    size_t len = cxs_stemmers_fold_utf8(a, w, n, form);
    if (len && strset_add(&a->stop[lang], form, len) != 0)
        return cxs_err_set(err, CXS_ERR_NOMEM, "%s: out of memory", path);
    return CXS_OK;
}

cxs_status cxs_stemmers_stop_load(cxs_stemmers *a, cxs_lang lang, const char *dir,
                            cxs_err *err) {
    char path[4096];
    int pn = snprintf(path, sizeof path, "%s/stopwords/%s.txt", dir,
                      lang_code[lang]);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return cxs_err_set(err, CXS_ERR_INVALID, "data_dir too long");
    FILE *f = fopen(path, "r");
    if (!f)
        return cxs_err_set(err, CXS_ERR_IO, "open %s: %s", path,
                           strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned lineno = 0;
    cxs_status st = CXS_OK;
    while (st == CXS_OK && (got = getline(&line, &cap, f)) >= 0) {
        char *w;
        size_t n = stop_line_trim(line, (size_t)got, &w);
        lineno++;
        if (n)
            st = stop_add_line(a, lang, path, lineno, w, n, err);
    }
    if (st == CXS_OK && ferror(f))
        st = cxs_err_set(err, CXS_ERR_IO, "read %s: %s", path, strerror(errno));
    free(line);
    fclose(f);
    return st;
}

/* ---- Snowball and Hunspell ---- */

static int file_readable(const char *dir, const char *name, const char *ext,
                         char *path, size_t cap) {
    int n = snprintf(path, cap, "%s/%s.%s", dir, name, ext);
    return n > 0 && (size_t)n < cap && access(path, R_OK) == 0;
}

/* Opens the Hunspell dictionary of lang; a missing or unusable one just
 * leaves lemmas off for that language. */
static void hunspell_open(cxs_stemmers *a, cxs_lang lang, const char *dir) {
    char aff[4096], dic[4096];
    if (!file_readable(dir, dict_name[lang], "aff", aff, sizeof aff) ||
        !file_readable(dir, dict_name[lang], "dic", dic, sizeof dic))
        return;
    Hunhandle *h = Hunspell_create(aff, dic);
    if (!h)
        return;
    const char *enc = Hunspell_get_dic_encoding(h);
    if (enc && strcmp(enc, "UTF-8") != 0 && strcmp(enc, "utf-8") != 0) {
        UErrorCode e = U_ZERO_ERROR;
        UConverter *cv = ucnv_open(enc, &e);
        if (U_FAILURE(e)) {
            Hunspell_destroy(h);
            return;
        }
        a->hconv[lang] = cv;
    }
    a->hun[lang] = (struct Hunhandle *)h;
}

cxs_status cxs_stemmers_lexicon_open(cxs_stemmers *a, cxs_lang lang,
                               const char *hunspell_dir, cxs_err *err) {
    a->sb[lang] = sb_stemmer_new(sb_name[lang], "UTF_8");
    if (!a->sb[lang])
        return cxs_err_set(err, CXS_ERR_INTERNAL,
                           "libstemmer has no %s stemmer", sb_name[lang]);
    if (a->use_lemmas)
        hunspell_open(a, lang, hunspell_dir);
    return CXS_OK;
}

static void cache_release(cxs_stemmers_cache *c);

void cxs_stemmers_lexicon_close(cxs_stemmers *a) {
    for (int l = 1; l < CXS_STEMMERS_NLANG; l++) {
        sb_stemmer_delete(a->sb[l]);
        if (a->hun[l])
            Hunspell_destroy((Hunhandle *)a->hun[l]);
        if (a->hconv[l])
            ucnv_close(a->hconv[l]);
        a->sb[l] = NULL, a->hun[l] = NULL, a->hconv[l] = NULL;
    }
    cache_release(a->cache);
    a->cache = NULL;
}

/* Converts between UTF-8 and a non-UTF-8 dictionary encoding through
 * UTF-16. to_dict selects the direction. Returns the length or 0. */
static size_t convert(UConverter *cv, int to_dict, const char *s, size_t n,
                      char *out, size_t cap) {
    UChar u[CXS_STEMMERS_TOKEN_UNITS];
    UErrorCode e = U_ZERO_ERROR;
    int32_t un = 0, on = 0;
    if (to_dict) {
        u_strFromUTF8(u, CXS_STEMMERS_TOKEN_UNITS, &un, s, (int32_t)n, &e);
        if (U_SUCCESS(e))
            on = ucnv_fromUChars(cv, out, (int32_t)cap, u, un, &e);
    } else {
        un = ucnv_toUChars(cv, u, CXS_STEMMERS_TOKEN_UNITS, s, (int32_t)n, &e);
        if (U_SUCCESS(e))
            u_strToUTF8(out, (int32_t)cap, &on, u, un, &e);
    }
    if (U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING)
        return 0;
    return (size_t)on;
}

/* Upper-cases the first code point of w (NUL-terminated UTF-8, in place
 * into out). Returns 0 when it would not change. */
static int title_case(const char *w, size_t n, char *out, size_t cap) {
    size_t i = 0, len = 0;
    int32_t c = (int32_t)cxs_utf8_next(w, n, &i);
    int32_t t = u_totitle(c);
    if (t == c || !cxs_utf8_put(out, &len, cap - 1, (unsigned)t) ||
        len + (n - i) + 1 > cap)
        return 0;
    memcpy(out + len, w + i, n - i);
    out[len + n - i] = '\0';
    return 1;
}

static int packed_has(const unsigned char *p, size_t len, int kind,
                      const char *s, size_t n) {
    for (size_t i = 0; i + 2 <= len; i += 2 + p[i + 1])
        if (p[i] == kind && p[i + 1] == n && memcmp(p + i + 2, s, n) == 0)
            return 1;
    return 0;
}

static size_t pack(unsigned char *out, size_t len, size_t cap, int kind,
                   const char *s, size_t n) {
    n = cxs_utf8_cut(s, n, CXS_STEMMERS_TERM_MAX);
    if (!n || len + 2 + n > cap || packed_has(out, len, kind, s, n))
        return len;
    out[len] = (unsigned char)kind;
    out[len + 1] = (unsigned char)n;
    memcpy(out + len + 2, s, n);
    return len + 2 + n;
}

static size_t pack_lemmas(cxs_stemmers *a, cxs_lang lang, char **list, int k,
                          unsigned char *out, size_t len, size_t cap) {
    char utf8[CXS_STEMMERS_TERM_MAX * 2], form[CXS_STEMMERS_TERM_MAX + 8];
    for (int j = 0; j < k && j < CXS_STEMMERS_MAX_LEMMAS; j++) {
        const char *l = list[j];
        size_t ln = strlen(l);
        if (a->hconv[lang]) {
            ln = convert(a->hconv[lang], 0, l, ln, utf8, sizeof utf8);
            l = utf8;
        }
        size_t fl = cxs_stemmers_fold_utf8(a, l, ln, form);
        len = pack(out, len, cap, CXS_TERM_LEMMA, form, fl);
    }
    return len;
}

static size_t hunspell_lemmas(cxs_stemmers *a, cxs_lang lang, const char *word,
                              size_t n, unsigned char *out, size_t len,
                              size_t cap) {
    Hunhandle *h = (Hunhandle *)a->hun[lang];
    char w[CXS_STEMMERS_TERM_MAX * 2 + 8], tc[sizeof w];
    if (!h || n > 100)
        return len;
    if (a->hconv[lang]) {
        n = convert(a->hconv[lang], 1, word, n, w, sizeof w - 1);
        if (!n)
            return len;
    } else {
        memcpy(w, word, n);
    }
    w[n] = '\0';
    char **list = NULL;
    int k = Hunspell_stem(h, &list, w);
    if (k <= 0 && !a->hconv[lang] && title_case(w, n, tc, sizeof tc)) {
        Hunspell_free_list(h, &list, k);
        list = NULL;
        k = Hunspell_stem(h, &list, tc);
    }
    if (k > 0)
        len = pack_lemmas(a, lang, list, k, out, len, cap);
    Hunspell_free_list(h, &list, k < 0 ? 0 : k);
    return len;
}

static size_t snowball_stem(cxs_stemmers *a, cxs_lang lang, const char *word,
                            size_t n, unsigned char *out, size_t len,
                            size_t cap) {
    const sb_symbol *s =
        sb_stemmer_stem(a->sb[lang], (const sb_symbol *)word, (int)n);
    if (!s)
        return len;
    int sl = sb_stemmer_length(a->sb[lang]);
    return pack(out, len, cap, CXS_TERM_STEM, (const char *)s, (size_t)sl);
}

/* ---- the cache ---- */

/* Sets the limits for entries in all; tables already grown stay. */
static void cache_limits(cxs_stemmers_cache *c, size_t entries) {
    if (entries < 1000)
        entries = 1000;
    if (entries > 4000000)
        entries = 4000000;
    c->entries = entries;
    c->gen_entries = entries / 2;
    c->gen_slots = 1024;
    while (c->gen_slots < c->gen_entries * 2)
        c->gen_slots *= 2;
    c->gen_arena = c->gen_entries * CACHE_ENTRY_BYTES;
}

cxs_stemmers_cache *cxs_stemmers_cache_new(size_t entries) {
    cxs_stemmers_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->refs = 1;
    cache_limits(c, entries ? entries : CACHE_DEFAULT_ENTRIES);
    return c;
}

static void gen_free(cxs_stemmers_gen *g) {
    free(g->slots);
    free(g->arena);
    memset(g, 0, sizeof *g);
}

/* Drops one analyzer's hold on c; the last one frees it. */
static void cache_release(cxs_stemmers_cache *c) {
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    unsigned left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left)
        return;
    gen_free(&c->gen[0]);
    gen_free(&c->gen[1]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void cxs_stemmers_share_cache(cxs_stemmers *a, cxs_stemmers *with) {
    if (!a || !with || !a->cache || !with->cache || a->cache == with->cache)
        return;
    cxs_stemmers_cache *c = with->cache;
    size_t add = a->cache->entries;
    cache_release(a->cache);
    pthread_mutex_lock(&c->mu);
    c->refs++;
    cache_limits(c, c->entries + add);
    pthread_mutex_unlock(&c->mu);
    a->cache = c;
}

/* Entry layout in the arena: lang, key length, key, value length (2
 * bytes, little endian), value. Returns the value part, or NULL with
 * *slot at the empty slot where the key would go. */
static const unsigned char *gen_get(const cxs_stemmers_gen *g, uint32_t h,
                                    cxs_lang lang, const char *w, size_t n,
                                    size_t *slot) {
    *slot = 0;
    if (!g->nslots)
        return NULL;
    size_t mask = g->nslots - 1, i = h & mask;
    for (; g->slots[i].off; i = (i + 1) & mask) {
        const unsigned char *e = g->arena + g->slots[i].off - 1;
        if (g->slots[i].hash == h && e[0] == lang && e[1] == n &&
            memcmp(e + 2, w, n) == 0) {
            *slot = i;
            return e + 2 + n;
        }
    }
    *slot = i;
    return NULL;
}

/* Doubles the slot table (rehashing) up to the limit. */
static int gen_grow_slots(cxs_stemmers_gen *g, size_t limit) {
    size_t ns = g->nslots ? g->nslots * 2 : 4096;
    if (ns > limit)
        return -1;
    cxs_stemmers_slot *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < g->nslots; i++) {
        if (!g->slots[i].off)
            continue;
        size_t j = g->slots[i].hash & (ns - 1);
        while (s[j].off)
            j = (j + 1) & (ns - 1);
        s[j] = g->slots[i];
    }
    free(g->slots);
    g->slots = s;
    g->nslots = ns;
    return 0;
}

static int gen_grow_arena(cxs_stemmers_gen *g, size_t need, size_t limit) {
    size_t cap = g->arena_cap ? g->arena_cap : 64 * 1024;
    while (cap < g->arena_len + need)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    if (cap < g->arena_len + need)
        return -1;
    unsigned char *p = realloc(g->arena, cap);
    if (!p)
        return -1;
    g->arena = p;
    g->arena_cap = cap;
    return 0;
}

/* Makes room for one entry of need bytes; -1 when the generation is at
 * its limits (time for a turnover). */
static int gen_room(const cxs_stemmers_cache *c, cxs_stemmers_gen *g, size_t need) {
    if (g->count >= c->gen_entries)
        return -1;
    if ((g->count + 1) * 2 > g->nslots && gen_grow_slots(g, c->gen_slots) != 0)
        return -1;
    if (g->arena_len + need > g->arena_cap &&
        gen_grow_arena(g, need, c->gen_arena) != 0)
        return -1;
    return 0;
}

static void gen_put(cxs_stemmers_gen *g, uint32_t h, cxs_lang lang, const char *w,
                    size_t n, const unsigned char *v, size_t vn) {
    size_t slot = 0;
    if (gen_get(g, h, lang, w, n, &slot))
        return;
    unsigned char *e = g->arena + g->arena_len;
    e[0] = (unsigned char)lang, e[1] = (unsigned char)n;
    memcpy(e + 2, w, n);
    e[2 + n] = (unsigned char)(vn & 0xFF);
    e[3 + n] = (unsigned char)(vn >> 8);
    memcpy(e + 4 + n, v, vn);
    g->slots[slot].hash = h;
    g->slots[slot].off = (uint32_t)g->arena_len + 1;
    g->arena_len += 4 + n + vn;
    g->count++;
}

/* Stores (lang, w) -> v in the young generation, turning generations
 * over first when it is full. */
static void cache_put(cxs_stemmers_cache *c, uint32_t h, cxs_lang lang, const char *w,
                      size_t n, const unsigned char *v, size_t vn) {
    size_t need = 4 + n + vn;
    cxs_stemmers_gen *g = &c->gen[c->young];
    if (gen_room(c, g, need) != 0) {
        c->young = !c->young;
        g = &c->gen[c->young];
        if (g->nslots)
            memset(g->slots, 0, g->nslots * sizeof *g->slots);
        g->count = 0, g->arena_len = 0;
        c->turnovers++;
        if (gen_room(c, g, need) != 0)
            return; /* out of memory: just do not cache */
    }
    gen_put(g, h, lang, w, n, v, vn);
}

/* The cached value of (lang, w) copied to out, or -1. */
static long cache_get(cxs_stemmers_cache *c, uint32_t h, cxs_lang lang, const char *w,
                      size_t n, unsigned char *out, size_t cap) {
    size_t slot;
    for (int k = 0; k < 2; k++) {
        int gi = k == 0 ? c->young : !c->young;
        const unsigned char *v = gen_get(&c->gen[gi], h, lang, w, n, &slot);
        if (!v)
            continue;
        size_t vn = (size_t)v[0] | ((size_t)v[1] << 8);
        if (vn > cap)
            vn = 0;
        memcpy(out, v + 2, vn);
        if (k == 1) /* an old hit: keep it alive in the young generation */
            cache_put(c, h, lang, w, n, out, vn);
        return (long)vn;
    }
    return -1;
}

size_t cxs_stemmers_lexicon_terms(cxs_stemmers *a, cxs_lang lang, const char *word,
                            size_t n, unsigned char *out, size_t cap) {
    cxs_stemmers_cache *c = a->cache;
    if (lang <= CXS_LANG_UNKNOWN || lang >= CXS_STEMMERS_NLANG || !a->sb[lang] ||
        n == 0 || n > CXS_STEMMERS_TERM_MAX)
        return 0;
    uint32_t h = hash_bytes(2166136261u ^ (uint32_t)lang, word, n);
    pthread_mutex_lock(&c->mu);
    long got = cache_get(c, h, lang, word, n, out, cap);
    if (got >= 0)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    if (got >= 0)
        return (size_t)got;
    /* Hunspell and Snowball run outside the lock: a word two threads miss
     * at once is looked up twice and stored once (gen_put). */
    size_t len = 0;
    if (a->use_lemmas)
        len = hunspell_lemmas(a, lang, word, n, out, len, cap);
    len = snowball_stem(a, lang, word, n, out, len, cap);
    pthread_mutex_lock(&c->mu);
    cache_put(c, h, lang, word, n, out, len);
    pthread_mutex_unlock(&c->mu);
    return len;
}
