/*
 * post.h - the post: the unit cxsearch indexes and returns.
 *
 * A post is what one message, article or note says, with where it came
 * from. Its JSON form (one object per line in JSON Lines) is the canonical
 * import format and what `cxsearch dump` writes, so dump | index
 * round-trips:
 *
 *   {"id": "cxlogic/485", "channel": "cxlogic", "author": "...",
 *    "date": "2024-03-22T10:00:00+03:00", "lang": "ru",
 *    "url": "https://t.me/cxlogic/485", "title": "...", "text": "...",
 *    "tags": ["nps"], "source": {"file": "...", "line": 12},
 *    ... extra fields (reactions, forwarded_from, edited, date_text,
 *        views, reply_to, poll) are kept as they are}
 *
 * Ownership: a cxs_post owns all its strings (malloc'ed) and its extra
 * object (a jansson reference). cxs_post_release frees them all.
 * Thread-safety: plain data; no shared state.
 */
#ifndef CXS_POST_H
#define CXS_POST_H

#include <jansson.h>
#include <stddef.h>

#include "cxs_err.h"

typedef struct cxs_post {
    char *id;      /* stable id; may be NULL until cxs_post_finish */
    char *channel; /* channel or publication name, NULL when unknown */
    char *author;
    char *date;  /* ISO 8601, NULL when unknown */
    char *lang;  /* "ru", "it", "en"; NULL until detected */
    char *url;   /* link to the original, NULL when unknown */
    char *title; /* first line or heading; derived from text when NULL */
    char *text;  /* the body, required and non-empty for a valid post */
    char **tags; /* hashtags without '#', case-folded */
    size_t ntags;
    char *source_file; /* where it came from, NULL when unknown */
    long source_line;  /* 1-based line or position in that file, 0 unknown */
    json_t *extra;     /* other fields, an object or NULL (owned reference) */
} cxs_post;

#define CXS_POST_INIT {0}

/* Frees every field and zeroes the post. NULL allowed. */
void cxs_post_release(cxs_post *p);

/* Replaces *field with a copy of s[0..n) (NULL s clears it). */
CXS_MUST_CHECK cxs_status cxs_post_set(char **field, const char *s, size_t n);

/* Adds a tag (leading '#' stripped, lower-cased ASCII; duplicates and empty
 * tags are ignored). */
CXS_MUST_CHECK
cxs_status cxs_post_add_tag(cxs_post *p, const char *tag, size_t n);

/* Reads a post from a JSON object. Unknown fields go to extra. "text" is
 * required (a string, or an array of strings joined by newlines); "tags"
 * may be a list of strings; other known fields must be strings when
 * present. On error the post is released and err names the field. */
CXS_MUST_CHECK
cxs_status cxs_post_from_json(const json_t *obj, cxs_post *p, cxs_err *err);

/* Returns a new JSON object for the post (caller owns the reference), or
 * NULL on OOM. Fields that are NULL are omitted; extra fields are merged. */
json_t *cxs_post_to_json(const cxs_post *p);

/* Fills what can be derived: title from the first non-empty line of text
 * (at most ~120 characters, cut at a word), tags from #hashtags in text,
 * and an id when missing: "<channel>/h<16 hex digits of
 * cxs_post_text_hash>" or "h/<16 hex digits>" without a channel. Validates that text is non-empty and
 * the id is 1..512 bytes with no control characters. */
CXS_MUST_CHECK cxs_status cxs_post_finish(cxs_post *p, cxs_err *err);

/* A 64-bit FNV-1a hash of text with white space collapsed and case folded
 * (ASCII); used for ids and duplicate detection. */
unsigned long long cxs_post_text_hash(const char *text, size_t len);

#endif /* CXS_POST_H */
