/*
 * fuzz_live.c - libFuzzer target for the live readers (import/live.h): the
 * input is a fetched page, any bytes; it is sniffed and parsed as a
 * t.me/s page or a feed. Invariants: no crash, no leak, every post handed
 * to the sink is finished (valid UTF-8 text and id), and a failure comes
 * with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_utf8.h"
#include "live.h"

static cxs_status sink(void *ud, cxs_post *p, cxs_err *err) {
    (void)ud;
    (void)err;
    if (!p->id || !p->text || !*p->text ||
        !cxs_utf8_valid(p->text, strlen(p->text)))
        abort();
    return CXS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cxs_live_page pg;
    cxs_err err = {0};
    cxs_status rc = cxs_live_parse((const char *)data, size, NULL,
                                   "http://127.0.0.1:1/s/fuzz", sink, NULL,
                                   NULL, NULL, &pg, &err);
    if (rc != CXS_OK && !err.msg[0])
        abort();
    cxs_live_page_release(&pg);
    return 0;
}
