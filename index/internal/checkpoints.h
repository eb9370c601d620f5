/*
 * checkpoints.h - where a post's text can be tokenized from mid-way.
 *
 * A snippet shows a passage of a few dozen tokens, but finding the bytes
 * of token 900 of a post means tokenizing tokens 0..899 first (ICU, per
 * character). So while the indexer analyzes a post's text it records, about
 * every CXS_CHECKPOINT_EVERY positions, a resume point: a token (position,
 * byte offset) from which the analyzer's scan gives exactly the tokens a
 * scan from the start gives (cxs_stemmers_can_resume), and the number of
 * positions the text has. The snippet then tokenizes only its passage.
 *
 * Storage: a trailer after the stored post record in the document data,
 *   record || payload || payload length (2 bytes, little-endian) || 0xFF
 * payload: varint positions, then per resume point varint position delta
 * and varint byte delta (LEB128, from the previous point, from (0, 0)).
 * A record never ends in 0xFF (stored.h: it ends in a varint's last byte,
 * below 0x80, or in JSON's '}'), so data without a trailer (indexes made
 * before it) is told apart and read as before. The trailer belongs to the
 * index layer: post/stored.c does not know it.
 *
 * No trailer is written for texts the analyzer cuts into chunks, or where
 * positions do not map one to one onto the snippet's tokens (two tokens
 * overlapping), so a trailer is always exact.
 *
 * Not thread-safe per builder; the readers are pure functions.
 */
#ifndef CXS_CHECKPOINTS_H
#define CXS_CHECKPOINTS_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"
#include "stemmers.h"

#define CXS_CHECKPOINT_EVERY 16

/* Collects the resume points of one text, fed every token of it in order
 * (each token may be fed several times in a row: once per term). */
typedef struct cxs_checkpoints {
    const char *text;
    size_t len;
    cxs_buf payload; /* the resume points, encoded */
    unsigned npos;   /* positions seen: last position + 1 */
    unsigned cp_pos; /* the last resume point */
    size_t cp_byte;
    /* the last token fed, to skip repeats */
    size_t tok_start;
    unsigned tok_pos, tok_flags;
    int any;
    size_t span_end; /* end of the last token that is not a whole compound */
    int off;         /* no trailer for this text (see above) */
} cxs_checkpoints;

/* Starts a text; b->payload keeps its memory across texts. */
void cxs_checkpoints_begin(cxs_checkpoints *b, const char *text, size_t len);

/* Feeds a token of the text (as reported by the analyzer). */
CXS_MUST_CHECK
cxs_status cxs_checkpoints_token(cxs_checkpoints *b, const cxs_token *tok);

/* Appends the trailer for the text to data (nothing when there is none). */
CXS_MUST_CHECK
cxs_status cxs_checkpoints_append(cxs_checkpoints *b, cxs_buf *data);

void cxs_checkpoints_release(cxs_checkpoints *b);

/* The length of the stored record in data[0..len): len when there is no
 * trailer. payload and plen get the trailer's payload (NULL/0 when none);
 * either may be NULL. */
size_t cxs_checkpoints_split(const char *data, size_t len,
                             const unsigned char **payload, size_t *plen);

/* The number of positions of the text; 0 when payload is corrupt. */
int cxs_checkpoints_positions(const unsigned char *payload, size_t plen,
                              unsigned long long *npos);

/* The last resume point at or before position pos (by_byte 0) or byte
 * offset pos (by_byte 1): its position and byte offset; (0, 0), the text's
 * start, when none comes before. */
void cxs_checkpoints_seek(const unsigned char *payload, size_t plen,
                          int by_byte, size_t pos, unsigned *at_pos,
                          size_t *at_byte);

#endif /* CXS_CHECKPOINTS_H */
