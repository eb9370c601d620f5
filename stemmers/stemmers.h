/*
 * stemmers.h - the one text analyzer of cxsearch (the stemmers module).
 *
 * The same code turns text into terms at index time, at query time and for
 * highlighting, so a word found by a query is always the word highlighted.
 *
 * Pipeline, per token (see docs/analysis.md for the rules and examples):
 *   ICU word break (UAX #29) -> NFKC + full case folding, ё -> е
 *   -> Italian elision dropped (dell'informazione -> informazione)
 *   -> hyphen/slash compounds: parts are tokens, the whole is a term too
 *   -> terms: exact form, accent-free form, look-alike (confusable) fold,
 *      Hunspell lemmas, Snowball stem for the token's language.
 *
 * Memory: every pointer handed to a callback (token forms, terms) is
 * borrowed and valid only during that callback; copy what you keep.
 *
 * Thread-safety: a cxs_stemmers is NOT thread-safe (it owns an ICU break
 * iterator, Snowball stemmers, Hunspell handles and a lemma cache). Create
 * one per thread. Creating analyzers concurrently is safe. Analyzers of
 * different threads may share their lemma cache (cxs_stemmers_share_cache),
 * which locks itself.
 *
 * Errors: functions returning cxs_status fill the cxs_err (see cxs_err.h).
 * Bad UTF-8 and NUL bytes are not errors: they become U+FFFD and are not
 * terms; the rest of the text is analyzed.
 */
#ifndef CXS_STEMMERS_H
#define CXS_STEMMERS_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"

typedef struct cxs_stemmers cxs_stemmers;

typedef enum cxs_lang {
    CXS_LANG_UNKNOWN = 0, /* query side: stem for every language that fits */
    CXS_LANG_RU,
    CXS_LANG_IT,
    CXS_LANG_EN
} cxs_lang;

typedef struct cxs_stemmers_config {
    /* Folder with stopwords/{ru,it,en}.txt. NULL: the compiled-in
     * CXS_DATA_DIR, or $CXSEARCH_DATA_DIR when set. */
    const char *data_dir;
    /* Folder with Hunspell .aff/.dic (ru_RU, it_IT, en_US). NULL:
     * /usr/share/hunspell. A missing dictionary disables lemmas for that
     * language only (Snowball stems remain). */
    const char *hunspell_dir;
    /* 0 disables Hunspell lemmas entirely (Snowball stems only). */
    int use_lemmas;
    /* Size of the per-analyzer lemma/stem cache in (language, word)
     * entries; 0: 400,000 (about 30 MB when full, grown on demand). */
    size_t lemma_cache_entries;
} cxs_stemmers_config;

/* Token kinds as found in the text. */
typedef enum cxs_token_kind {
    CXS_TOK_WORD,    /* letters (any script), possibly with digits */
    CXS_TOK_NUMBER,  /* 2024, 22.03.24, 3,5 */
    CXS_TOK_URL,     /* kept whole, not stemmed */
    CXS_TOK_MENTION, /* @name, kept whole, not stemmed */
    CXS_TOK_HASHTAG  /* #tag: form is the tag without '#'; also a word */
} cxs_token_kind;

/* Token flags. */
#define CXS_TOKF_STOPWORD 0x1u /* in the stopword list of its language */
#define CXS_TOKF_COMPOUND 0x2u /* a whole hyphen/slash compound */
#define CXS_TOKF_PART 0x4u     /* a part of a compound */
#define CXS_TOKF_CYRILLIC 0x8u /* letters are Cyrillic */
#define CXS_TOKF_LATIN 0x10u   /* letters are Latin */
/* Written in capitals (2+ letters, none lower-case; for a compound's whole:
 * some part was): an acronym candidate. An all-Cyrillic CAPS token whose
 * letters all look like Latin ones (СХ) also gets the Latin form (cx) as an
 * exact term; lower-case Russian words are never folded that way. */
#define CXS_TOKF_CAPS 0x20u

typedef struct cxs_token {
    const char *form; /* normalized exact form (NFKC, case-folded, ё->е) */
    size_t form_len;
    size_t start, end; /* byte span in the original input */
    unsigned pos;      /* term position, 0-based, consecutive per word;
                          a compound's whole form shares its first part's
                          position */
    cxs_token_kind kind;
    unsigned flags; /* CXS_TOKF_* */
} cxs_token;

/* The classes of index terms. The index layer maps each to a Xapian term
 * prefix; the analyzer only says which class a term is. */
typedef enum cxs_term_kind {
    CXS_TERM_EXACT, /* exact normalized form; also whole URLs, @mentions,
                       whole compounds and look-alike folds (СХ -> cx) */
    CXS_TERM_ASCII, /* accent-free form of a Latin-script word, only when
                       it differs from exact; except with CXS_LANG_UNKNOWN
                       (query side), where every Latin word gets it, so
                       the query "perche" meets the post's "perché" */
    CXS_TERM_LEMMA, /* Hunspell lemma */
    CXS_TERM_STEM,  /* Snowball stem */
    CXS_TERM_TAG    /* hashtag without '#', case-folded */
} cxs_term_kind;

/* Called once per token. Return nonzero to stop early (the analyzer then
 * returns CXS_OK). */
typedef int (*cxs_token_fn)(void *ud, const cxs_token *tok);

/* Called once per term. tok is the token the term came from. Terms of one
 * token are reported together, exact form first. Duplicates within one
 * token are suppressed. Return nonzero to stop early. */
typedef int (*cxs_term_fn)(void *ud, cxs_term_kind kind, const char *term,
                           size_t len, const cxs_token *tok);

/* Creates an analyzer. cfg may be NULL for defaults (lemmas on). On
 * failure *out is NULL and err says why (e.g. a stopword file missing). */
CXS_MUST_CHECK
cxs_status cxs_stemmers_new(const cxs_stemmers_config *cfg, cxs_stemmers **out,
                            cxs_err *err);

/* Frees an analyzer; NULL is allowed. */
void cxs_stemmers_free(cxs_stemmers *a);

/* Makes a use with's lemma/stem cache from now on, its own dropped and
 * its size added to the shared one: analyzers of one import's threads,
 * which see the same words, then ask Hunspell once per word, not once per
 * thread, in the memory their caches took apart. Both must come from the
 * same configuration (the cache holds its answers). Call it before a is
 * in use on another thread; with may be in use. The cache lives until
 * the last analyzer sharing it is freed. */
void cxs_stemmers_share_cache(cxs_stemmers *a, cxs_stemmers *with);

/* Reports every token of text[0..len) in order. */
CXS_MUST_CHECK
cxs_status cxs_stemmers_tokenize(cxs_stemmers *a, const char *text, size_t len,
                                 cxs_token_fn fn, void *ud, cxs_err *err);

/* Reports the tokens of text[from..len) as if the scan had begun at 0 and
 * reached a token starting at byte `from` with position pos: positions
 * count on from pos, spans are bytes of the whole text. The tokens are
 * exactly those of cxs_stemmers_tokenize from that token on when that
 * token was a resume point (cxs_stemmers_can_resume) of this text; from
 * anywhere else they may differ. from > len is an error. */
CXS_MUST_CHECK
cxs_status cxs_stemmers_tokenize_from(cxs_stemmers *a, const char *text,
                                      size_t len, size_t from, unsigned pos,
                                      cxs_token_fn fn, void *ud, cxs_err *err);

/* Whether a scan may resume at tok, a token reported for text[0..len)
 * (by cxs_stemmers_tokenize or cxs_stemmers_terms): it starts the text or
 * follows ASCII white space, is not a part of a compound (the whole form
 * comes first, with the group's start), and the text is scanned in one
 * piece (long texts are cut into chunks where a resumed scan would cut
 * elsewhere). */
int cxs_stemmers_can_resume(const char *text, size_t len,
                            const cxs_token *tok);

/* Reports every index term of text[0..len): for each token its terms for
 * language lang (words in Cyrillic are always stemmed as Russian; Latin
 * words as Italian in an Italian post, else English). With
 * CXS_LANG_UNKNOWN (query side) Latin words get the stems and lemmas of
 * both Italian and English. */
CXS_MUST_CHECK
cxs_status cxs_stemmers_terms(cxs_stemmers *a, const char *text, size_t len,
                              cxs_lang lang, cxs_term_fn fn, void *ud,
                              cxs_err *err);

/* Reports the terms of one token, as cxs_stemmers_terms would. Used by the
 * query parser and the highlighter, which tokenize first. */
void cxs_stemmers_expand(cxs_stemmers *a, const cxs_token *tok, cxs_lang lang,
                         cxs_term_fn fn, void *ud);

/* The terms of one token that need no dictionary: the exact form, the
 * hashtag, the accent-free form and look-alike folds, but no lemmas or
 * stems (no Hunspell, no Snowball: a fraction of the cost). The
 * highlighter uses it when the index already says where lemmas stand. */
void cxs_stemmers_expand_forms(cxs_stemmers *a, const cxs_token *tok,
                               cxs_lang lang, cxs_term_fn fn, void *ud);

/* Detects the language of a text (CLD2). Returns CXS_LANG_UNKNOWN when the
 * text is too short or in another language; the caller picks a default. */
cxs_lang cxs_stemmers_detect_lang(cxs_stemmers *a, const char *text,
                                  size_t len);

/* "ru", "it", "en", or "" for CXS_LANG_UNKNOWN. Never NULL. */
const char *cxs_lang_code(cxs_lang lang);

/* Parses "ru"/"it"/"en" (case-insensitive, also "rus", "ita", "eng");
 * anything else gives CXS_LANG_UNKNOWN. NULL allowed. */
cxs_lang cxs_lang_from_code(const char *code);

/* Opens the transliterator of cxs_stemmers_translit_ru now: the first
 * open in a process sets up ICU's transliterator registry (about 10 ms),
 * which a reader would otherwise pay on its first Latin query. A failure
 * is remembered as on first use (nothing is transliterated). Not
 * thread-safe, like the rest of the analyzer. */
void cxs_stemmers_translit_prepare(cxs_stemmers *a);

/* Russian written in Latin letters ("klientskiy opyt") read back into
 * Cyrillic through ICU's Latin-Russian/BGN transliterator ("клиенцкий
 * опыт": the spelling is a guess, which forgiving search then matches
 * against the index's words). Appends the result to out as UTF-8; out
 * stays empty when text[0..len) has no Latin letter, or holds anything but
 * Latin letters, hyphens and apostrophes. The transliterator is opened on
 * the first call (one per analyzer: not thread-safe, like the rest). */
CXS_MUST_CHECK cxs_status cxs_stemmers_translit_ru(cxs_stemmers *a,
                                                   const char *text,
                                                   size_t len,
                                                   cxs_buf *out,
                                                   cxs_err *err);

#endif /* CXS_STEMMERS_H */
