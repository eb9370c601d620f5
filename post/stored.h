/*
 * stored.h - the form a post takes as Xapian document data.
 *
 * Every hit of a search is decoded from its stored form, ten per page, so
 * the form is built for decoding speed: a marker byte, then each field as
 * a length and its bytes, in a fixed order. Parsing JSON for this cost a
 * tenth of the daemon's time under load (docs/performance.md). Fields
 * other than the known ones (cxs_post.extra) stay JSON inside the record:
 * they are rare and only passed through.
 *
 * Indexes written before this format hold JSON objects; decoding accepts
 * both (JSON starts with '{', a record with CXS_STORED_MARK), so an old
 * index keeps working and is rewritten post by post as posts change.
 *
 * Both functions are reentrant. Errors come back as a status, with a
 * message in err for decoding (a corrupt record is CXS_ERR_INDEX).
 */
#ifndef CXS_STORED_H
#define CXS_STORED_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"
#include "post.h"

#define CXS_STORED_MARK 0x01 /* first byte of a record (format 1) */

/* Appends the record of p to out (reset by the caller when needed). */
CXS_MUST_CHECK cxs_status cxs_stored_encode(const cxs_post *p, cxs_buf *out);

/* Fills *p (zeroed by the caller) from data[0..len), a record or a JSON
 * object. The post owns copies; the caller releases it. On error *p is
 * released (left empty). */
CXS_MUST_CHECK
cxs_status cxs_stored_decode(const char *data, size_t len, cxs_post *p,
                             cxs_err *err);

#endif /* CXS_STORED_H */
