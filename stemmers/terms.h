/*
 * terms.h - how cxsearch lays out a post in Xapian: term prefixes and value
 * slots. The one place that knows it; importers and the server never do.
 *
 * Prefixes follow Xapian's convention (upper-case letters; terms are
 * always case-folded, so no ':' separator is needed). No prefix is a
 * prefix of another, so iterating terms by prefix never mixes classes.
 */
#ifndef CXS_TERMS_H
#define CXS_TERMS_H

#include "stemmers.h"
#include "cxs_buf.h"

#define CXS_PFX_EXACT ""    /* exact normalized form (with positions) */
#define CXS_PFX_ASCII "XF"  /* accent-free form */
#define CXS_PFX_LEMMA "XL"  /* Hunspell lemma */
#define CXS_PFX_STEM "Z"    /* Snowball stem */
#define CXS_PFX_TAG "K"     /* hashtag */
#define CXS_PFX_ID "Q"      /* unique post id (boolean) */
#define CXS_PFX_CHANNEL "XC"/* channel, folded (boolean) */
#define CXS_PFX_AUTHOR "XP" /* author, folded (boolean) */
#define CXS_PFX_LANG "XG"   /* language code (boolean) */
#define CXS_PFX_HASH "XH"   /* normalized-text hash, for duplicates */
#define CXS_PFX_PHRASE "XS" /* a glossary phrase found in the post (phrases.h) */

enum {
    CXS_SLOT_DATE = 0,    /* "YYYYMMDDhhmmss" in UTC: sorts as a string */
    CXS_SLOT_CHANNEL = 1, /* channel as written (facet) */
    CXS_SLOT_AUTHOR = 2,  /* author as written (facet) */
    CXS_SLOT_LANG = 3,    /* language code (facet) */
    CXS_SLOT_YEAR = 4,    /* "2024" (facet) */
    CXS_SLOT_TAGS = 5,    /* tags joined by '\x1f' (multi-valued facet) */
    CXS_SLOT_TIME = 6     /* unix seconds, Xapian::sortable_serialise
                             (recency boost) */
};

/* The prefix of a term class. Never NULL. */
const char *cxs_terms_prefix(cxs_term_kind kind);

/* Appends prefix + the folded form of a field value (channel, author,
 * lang, tag) to out: NFKC, full case folding, ё->е, surrounding white
 * space and a leading '#' or '@' dropped, inner white space collapsed.
 * Index and query fold field values with this one function, so
 * channel:CXLogic finds channel "cxlogic". Term length is capped at 240
 * bytes (Xapian's limit is 245). */
CXS_MUST_CHECK cxs_status cxs_terms_field(const char *prefix, const char *value,
                           cxs_buf *out);

#endif /* CXS_TERMS_H */
