/*
 * checkpoints.c - see checkpoints.h.
 *
 * The payload is small: a resume point every 16 positions costs about 3
 * bytes (a one-byte position delta, a one- or two-byte byte delta) for
 * some 100 bytes of text. Readers walk it from the start: a post has at
 * most a few thousand points, and the walk is bytes, not ICU.
 */
#include "checkpoints.h"

#include <string.h>

#define TRAILER_MARK 0xFF
#define TRAILER_TAIL 3 /* 2 length bytes + the mark */
#define PAYLOAD_MAX 0xFFFF

void cxs_checkpoints_begin(cxs_checkpoints *b, const char *text, size_t len) {
    cxs_buf payload = b->payload;
    memset(b, 0, sizeof *b);
    b->payload = payload;
    cxs_buf_reset(&b->payload);
    b->text = text;
    b->len = len;
    /* A text cut into chunks cannot be resumed (stemmers.h). */
    cxs_token start = {0};
    b->off = !cxs_stemmers_can_resume(text, len, &start);
}

static int repeated(cxs_checkpoints *b, const cxs_token *tok) {
    if (b->any && tok->start == b->tok_start && tok->pos == b->tok_pos &&
        tok->flags == b->tok_flags)
        return 1;
    b->any = 1;
    b->tok_start = tok->start;
    b->tok_pos = tok->pos;
    b->tok_flags = tok->flags;
    return 0;
}

cxs_status cxs_checkpoints_token(cxs_checkpoints *b, const cxs_token *tok) {
    if (b->off || repeated(b, tok))
        return CXS_OK;
    if (tok->pos + 1 > b->npos)
        b->npos = tok->pos + 1;
    if (!(tok->flags & CXS_TOKF_COMPOUND)) {
        /* The snippet counts one token per position (snippet.c): two
         * overlapping tokens would break that. */
        if (tok->start < b->span_end) {
            b->off = 1;
            return CXS_OK;
        }
        b->span_end = tok->end;
    }
    if (tok->pos < b->cp_pos + CXS_CHECKPOINT_EVERY || tok->start <= b->cp_byte ||
        !cxs_stemmers_can_resume(b->text, b->len, tok))
        return CXS_OK;
    cxs_status rc = cxs_buf_append_varint(&b->payload, tok->pos - b->cp_pos);
    if (rc == CXS_OK)
        rc = cxs_buf_append_varint(&b->payload, tok->start - b->cp_byte);
    b->cp_pos = tok->pos;
    b->cp_byte = tok->start;
    return rc;
}

cxs_status cxs_checkpoints_append(cxs_checkpoints *b, cxs_buf *data) {
    if (b->off)
        return CXS_OK;
    size_t at = data->len;
    cxs_status rc = cxs_buf_append_varint(data, b->npos);
    if (rc == CXS_OK)
        rc = cxs_buf_append(data, b->payload.data ? b->payload.data : "",
                            b->payload.len);
    size_t n = data->len - at;
    if (rc == CXS_OK && n > PAYLOAD_MAX) {
        data->len = at; /* too many to say in two bytes: no trailer */
        return CXS_OK;
    }
    char tail[TRAILER_TAIL] = {(char)(n & 0xFF), (char)(n >> 8),
                               (char)TRAILER_MARK};
    return rc == CXS_OK ? cxs_buf_append(data, tail, sizeof tail) : rc;
}

void cxs_checkpoints_release(cxs_checkpoints *b) {
    cxs_buf_release(&b->payload);
}

size_t cxs_checkpoints_split(const char *data, size_t len,
                             const unsigned char **payload, size_t *plen) {
    const unsigned char *d = (const unsigned char *)data;
    size_t n = len > TRAILER_TAIL ? (size_t)d[len - 3] | (size_t)d[len - 2] << 8
                                  : 0;
    int has = len > TRAILER_TAIL && d[len - 1] == TRAILER_MARK && n &&
              n + TRAILER_TAIL < len;
    if (payload)
        *payload = has ? d + len - TRAILER_TAIL - n : NULL;
    if (plen)
        *plen = has ? n : 0;
    return has ? len - TRAILER_TAIL - n : len;
}

int cxs_checkpoints_positions(const unsigned char *payload, size_t plen,
                              unsigned long long *npos) {
    return payload && cxs_varint_get(&payload, payload + plen, npos);
}

void cxs_checkpoints_seek(const unsigned char *payload, size_t plen,
                          int by_byte, size_t pos, unsigned *at_pos,
                          size_t *at_byte) {
    const unsigned char *p = payload, *end = payload + plen;
    unsigned long long npos, dp, db, cp = 0, cb = 0;
    *at_pos = 0;
    *at_byte = 0;
    if (!payload || !cxs_varint_get(&p, end, &npos))
        return;
    while (cxs_varint_get(&p, end, &dp) && cxs_varint_get(&p, end, &db)) {
        cp += dp;
        cb += db;
        if ((by_byte ? cb : cp) > pos)
            break;
        *at_pos = (unsigned)cp;
        *at_byte = (size_t)cb;
    }
}
