/*
 * stemmers_internal.h - what the analyzer's source files share; not a public
 * contract (use stemmers.h).
 *
 * Shape of the module:
 *   an_text.c       UTF-8 <-> UTF-16, NFKC_Casefold, script classes,
 *                   accent stripping (no allocation: fixed buffers)
 *   an_scan.c       ICU word break -> tokens (URLs, mentions, hashtags,
 *                   Italian elision, hyphen/slash compounds, positions)
 *   an_expand.c     token -> terms (exact, accent-free, look-alike folds,
 *                   lemmas, stems), de-duplicated per token
 *   an_lexicon.c    stopword sets, Hunspell, Snowball, the lemma cache
 *   an_lookalike.c  cross-script look-alike tables from ICU uspoof
 *   analyzer.c      the public functions
 *   langdetect.cc   the CLD2 boundary (C++ inside, C outside;
 *                   declared in langdetect.h)
 *
 * Everything here belongs to one cxs_stemmers and so to one thread.
 */
#ifndef CXS_STEMMERS_INTERNAL_H
#define CXS_STEMMERS_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <unicode/ubrk.h>
#include <unicode/ucnv.h>
#include <unicode/unorm2.h>
#include <unicode/utrans.h>
#include <unicode/utypes.h>

#include "cxs_utf8.h"
#include "stemmers.h"

/* Xapian refuses terms over 245 bytes; every form and term is cut (at a
 * UTF-8 boundary) to this many bytes. */
#define CXS_STEMMERS_TERM_MAX 240
/* At most this many UTF-16 units of one token are normalized: more than
 * enough for 240 bytes of output, and it bounds the work on a 1 MB "word". */
#define CXS_STEMMERS_TOKEN_UNITS 512
/* Scratch for NFKC_Casefold output of one token (worst-case expansion of
 * 512 units is far below this; on overflow the input is shortened). */
#define CXS_STEMMERS_NBUF 4096
/* Input is analyzed in chunks of about this many bytes, cut at white
 * space, so memory stays bounded for any input size. */
#define CXS_STEMMERS_CHUNK (256 * 1024)
/* A compound has at most this many parts (more: a new compound starts). */
#define CXS_STEMMERS_MAX_PARTS 16
/* Hunspell may offer several lemmas; more than this is noise. */
#define CXS_STEMMERS_MAX_LEMMAS 4

/* Languages with resources, indexed by cxs_lang (slot 0 unused). */
#define CXS_STEMMERS_NLANG 4

/* ---- stopword sets (an_lexicon.c) ---- */
typedef struct cxs_stemmers_strset {
    char **keys; /* NULL = empty slot */
    uint32_t *lens;
    size_t nslots, count;
} cxs_stemmers_strset;

/* ---- lemma/stem cache (an_lexicon.c) ---- */
typedef struct cxs_stemmers_slot {
    uint32_t hash;
    uint32_t off; /* 0 = empty, else arena offset + 1 */
} cxs_stemmers_slot;

/* One generation: open addressing over an append-only arena; both grow
 * on demand up to the cache's limits. */
typedef struct cxs_stemmers_gen {
    cxs_stemmers_slot *slots;
    size_t nslots, count;
    unsigned char *arena;
    size_t arena_len, arena_cap;
} cxs_stemmers_gen;

/* Two generations: lookups try the young one, then the old one (and copy a
 * hit back into the young one); when the young one is full, the old one is
 * emptied and becomes the young one. Frequent words so survive every
 * turnover; rare ones age out. Analyzers may share one cache
 * (cxs_stemmers_share_cache): mu guards everything below it, refs counts
 * the analyzers using it, and the last one frees it. */
typedef struct cxs_stemmers_cache {
    pthread_mutex_t mu;
    unsigned refs;
    size_t entries; /* the limit in all: the sharers' sizes added up */
    cxs_stemmers_gen gen[2];
    int young;
    size_t gen_entries, gen_slots, gen_arena; /* limits per generation */
    unsigned long hits, misses, turnovers;
} cxs_stemmers_cache;

/* ---- look-alike tables (an_lookalike.c) ---- */
typedef struct cxs_stemmers_lookalike {
    /* Lower-case Cyrillic U+0430..U+045F (index c - 0x430) -> the ASCII
     * lower-case letter its capital looks like ('\0' if none). */
    char lat_of_cap[48];
    /* The same through either case (used for mixed-script words). */
    char lat_of_any[48];
    /* 'a'..'z' -> the lower-case Cyrillic letter that looks like it in
     * either case (0 if none). */
    uint16_t cyr_of[26];
} cxs_stemmers_lookalike;

struct sb_stemmer;
struct Hunhandle;

struct cxs_stemmers {
    UBreakIterator *bi;
    const UNormalizer2 *nfkc_cf;
    const UNormalizer2 *nfd;
    struct sb_stemmer *sb[CXS_STEMMERS_NLANG];
    struct Hunhandle *hun[CXS_STEMMERS_NLANG];
    UConverter *hconv[CXS_STEMMERS_NLANG]; /* NULL: the dictionary is UTF-8 */
    cxs_stemmers_strset stop[CXS_STEMMERS_NLANG];
    cxs_stemmers_cache *cache; /* owned with the other sharers (refs) */
    cxs_stemmers_lookalike look;
    int use_lemmas;
    /* Chunk buffers: UTF-16 text and, per unit, its byte offset in the
     * chunk (one more entry for the end). */
    UChar *u;
    uint32_t *off;
    size_t ucap;
    /* Normalization scratch (one token at a time). */
    UChar nbuf[CXS_STEMMERS_NBUF];
    /* Token forms of one compound group. */
    char forms[(CXS_STEMMERS_MAX_PARTS + 2) * (CXS_STEMMERS_TERM_MAX + 8)];
    /* Terms of one token under construction. */
    char terms[32 * (CXS_STEMMERS_TERM_MAX + 8)];
    /* Language detection: sanitized text. */
    char *ld;
    size_t ldcap;
    /* Latin -> Russian transliterator (stemmers_translit.c), opened on
     * first use; NULL until then. */
    UTransliterator *translit;
    int translit_failed; /* ICU could not open it: never retried */
};

/* ---- an_text.c ---- */

/* Letter classes of a form, counted per code point. */
typedef struct cxs_stemmers_class {
    unsigned lat, cyr, other, digit, dot, apos, upper, lower;
} cxs_stemmers_class;

/* Decodes UTF-8 s[0..n) into a->u / a->off (offsets relative to s).
 * Invalid sequences and NUL become U+FFFD. Returns the number of UTF-16
 * units, or -1 when memory runs out. */
int32_t cxs_stemmers_decode(cxs_stemmers *a, const char *s, size_t n);

/* NFKC_Casefold of u[0..n), then ё -> е and apostrophes -> '\'', as UTF-8
 * into out (room for CXS_STEMMERS_TERM_MAX + 4), cut at CXS_STEMMERS_TERM_MAX bytes.
 * Returns the length. Fills *cls (of the ORIGINAL text, for case) when
 * non-NULL. */
size_t cxs_stemmers_fold(cxs_stemmers *a, const UChar *u, int32_t n, char *out,
                   cxs_stemmers_class *cls);

/* The same for UTF-8 input (lemmas from Hunspell, stopword files). */
size_t cxs_stemmers_fold_utf8(cxs_stemmers *a, const char *s, size_t n, char *out);

/* Classifies the code points of a UTF-8 form. */
void cxs_stemmers_classify(const char *s, size_t n, cxs_stemmers_class *cls);

/* Accent-free copy of a folded form: Latin letters lose their combining
 * marks (é -> e); other scripts are untouched (й stays й). Returns the
 * length written to out (room for CXS_STEMMERS_TERM_MAX + 4). */
size_t cxs_stemmers_strip_accents(cxs_stemmers *a, const char *s, size_t n,
                            char *out);

/* Is c one of the apostrophes that may elide or join a word? */
int cxs_stemmers_is_apos(UChar32 c);

/* ---- an_lexicon.c ---- */

CXS_MUST_CHECK
cxs_status cxs_stemmers_stop_load(cxs_stemmers *a, cxs_lang lang, const char *dir,
                            cxs_err *err);
int cxs_stemmers_stop_has(const cxs_stemmers *a, cxs_lang lang, const char *s,
                    size_t n);
void cxs_stemmers_strset_free(cxs_stemmers_strset *set);

/* Opens the Snowball stemmer and (when wanted and present) the Hunspell
 * dictionary of lang. */
CXS_MUST_CHECK
cxs_status cxs_stemmers_lexicon_open(cxs_stemmers *a, cxs_lang lang,
                               const char *hunspell_dir, cxs_err *err);
/* A new cache of the given size in entries (0: the default), used by one
 * analyzer; NULL when out of memory. */
cxs_stemmers_cache *cxs_stemmers_cache_new(size_t entries);
void cxs_stemmers_lexicon_close(cxs_stemmers *a);

/* Lemmas then the stem of word in lang, packed as (kind byte, length
 * byte, bytes)... into out; returns the number of bytes used. The packed
 * data is a copy: valid until out is reused. */
size_t cxs_stemmers_lexicon_terms(cxs_stemmers *a, cxs_lang lang, const char *word,
                            size_t n, unsigned char *out, size_t cap);

/* ---- an_lookalike.c ---- */

CXS_MUST_CHECK
cxs_status cxs_stemmers_lookalike_init(cxs_stemmers_lookalike *t, cxs_err *err);

/* ---- stemmers_translit.c ---- */
void cxs_stemmers_translit_close(cxs_stemmers *a);

/* Latin form of a Cyrillic/mixed word, via lat_of_cap (caps) or
 * lat_of_any. Returns the length, or 0 when some letter has no look-alike
 * or the word has other letters or digits. */
size_t cxs_stemmers_fold_to_latin(const cxs_stemmers_lookalike *t, const char *s, size_t n,
                            int caps_only, char *out);

/* Cyrillic form of a mixed word. Returns the length, or 0 when a Latin
 * letter has no Cyrillic look-alike. */
size_t cxs_stemmers_fold_to_cyrillic(const cxs_stemmers_lookalike *t, const char *s,
                               size_t n, char *out);

/* ---- an_scan.c ---- */

/* Tokenizes text; stopword flags follow lang (CXS_LANG_UNKNOWN: every
 * language the token's script allows). fn returning nonzero stops. */
CXS_MUST_CHECK
cxs_status cxs_stemmers_scan(cxs_stemmers *a, const char *text, size_t len,
                       cxs_lang lang, cxs_token_fn fn, void *ud, cxs_err *err);

/* The same from byte `from` of text, positions counting from pos, token
 * spans still in bytes of the whole text (cxs_stemmers_tokenize_from). */
CXS_MUST_CHECK
cxs_status cxs_stemmers_scan_from(cxs_stemmers *a, const char *text,
                                  size_t len, size_t from, unsigned pos,
                                  cxs_lang lang, cxs_token_fn fn, void *ud,
                                  cxs_err *err);

/* Is the folded token a stopword for lang (see cxs_stemmers_scan)? */
int cxs_stemmers_is_stopword(const cxs_stemmers *a, const char *form, size_t n,
                       unsigned flags, cxs_lang lang);

/* ---- an_expand.c ---- */

/* Reports the terms of tok (without lemmas and stems when no_dict is
 * set); returns nonzero when fn asked to stop. */
int cxs_stemmers_expand_token(cxs_stemmers *a, const cxs_token *tok, cxs_lang lang,
                  int no_dict, cxs_term_fn fn, void *ud);

#endif /* CXS_STEMMERS_INTERNAL_H */
