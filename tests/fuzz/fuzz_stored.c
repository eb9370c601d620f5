/*
 * fuzz_stored.c - libFuzzer target for the stored form of a post
 * (post/stored.h), the bytes every search hit is decoded from.
 *
 * The input is decoded as document data: a record (first byte
 * CXS_STORED_MARK) or JSON, as an index of either age holds. Invariants
 * checked (besides ASan/UBSan): decoding fails only with a parse or index
 * error (or out of memory) and then leaves the post empty; a decoded post
 * encodes to a record that decodes to the same post; every cut of that
 * record short of its end is refused.
 */
#include <jansson.h>

#include "fuzz_util.h"
#include "stored.h"

static int same_post(const cxs_post *a, const cxs_post *b) {
    json_t *ja = cxs_post_to_json(a), *jb = cxs_post_to_json(b);
    int same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

static int empty_post(const cxs_post *p) {
    return !p->id && !p->text && !p->title && !p->tags && !p->extra;
}

/* Every proper prefix of the record, each in a buffer of its exact size. */
static void check_cuts(const cxs_buf *rec) {
    for (size_t n = 1; n < rec->len; n++) {
        char *cut = malloc(n);
        FUZZ_ASSERT(cut, "out of memory");
        memcpy(cut, rec->data, n);
        cxs_post q = CXS_POST_INIT;
        cxs_err err = {0};
        cxs_status rc = cxs_stored_decode(cut, n, &q, &err);
        FUZZ_ASSERT(rc == CXS_ERR_INDEX && empty_post(&q),
                    "a cut record was accepted");
        free(cut);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    cxs_status rc = cxs_stored_decode((const char *)data, size, &p, &err);
    if (rc != CXS_OK) {
        FUZZ_ASSERT(rc == CXS_ERR_INDEX || rc == CXS_ERR_PARSE ||
                        rc == CXS_ERR_NOMEM,
                    "unexpected status from decoding");
        FUZZ_ASSERT(empty_post(&p), "a failed decode left fields behind");
        return 0;
    }
    cxs_buf rec = CXS_BUF_INIT;
    FUZZ_ASSERT(cxs_stored_encode(&p, &rec) == CXS_OK, "encoding failed");
    cxs_post q = CXS_POST_INIT;
    FUZZ_ASSERT(cxs_stored_decode(rec.data, rec.len, &q, &err) == CXS_OK,
                "an encoded post does not decode");
    FUZZ_ASSERT(same_post(&p, &q), "a post changed through its record");
    if (rec.len < 4096)
        check_cuts(&rec);
    cxs_post_release(&q);
    cxs_post_release(&p);
    cxs_buf_release(&rec);
    return 0;
}
