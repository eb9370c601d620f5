/*
 * fuzz_query.c - libFuzzer target for the query language: cxs_query_parse
 * on arbitrary bytes (with the shipped synonyms), then the same text as a
 * real search over the sample corpus, which also drives the Xapian query
 * built from the tree, ranking, the relaxed retry and snippets.
 *
 * Invariants checked (besides ASan/UBSan): the parser never fails except
 * with CXS_ERR_TOO_LARGE for an over-long query; a parsed query has a
 * strict tree of bounded depth; highlight terms are sorted and unique;
 * search results carry valid UTF-8, escaped snippets and titles, and
 * UTF-8 rewrites (forgiving search runs on every query).
 *
 * The first byte picks options (sort, facets, a tiny max_len) so one
 * corpus explores them all; the rest is the query.
 */
#include "fuzz_util.h"
#include "query.h"

/* 4 nodes per nesting level (group, synonym, scale, term) is generous. */
#define MAX_TREE_DEPTH 256

static size_t depth_of(const cxs_qnode *q) {
    size_t d = 0;
    for (size_t i = 0; i < q->nkids; i++) {
        size_t k = depth_of(q->kids[i]);
        if (k > d)
            d = k;
    }
    return d + 1;
}

static const cxs_synonyms *synonyms(void) {
    static cxs_synonyms *syn;
    static int tried;
    if (!tried) {
        tried = 1;
        cxs_err err = {0};
        if (cxs_synonyms_load(CXS_SOURCE_DIR "/config/synonyms.txt",
                              fuzz_stemmers(), &syn, &err) != CXS_OK) {
            fprintf(stderr, "fuzz: synonyms: %s\n", err.msg);
            abort();
        }
    }
    return syn;
}

static void parse(const char *q, size_t n, size_t max_len) {
    cxs_query_opts o = {0};
    o.syn = synonyms();
    o.max_len = max_len;
    cxs_query out;
    cxs_err err = {0};
    cxs_status st = cxs_query_parse(fuzz_stemmers(), q, n, &o, &out, &err);
    if (st != CXS_OK) {
        FUZZ_ASSERT(st == CXS_ERR_TOO_LARGE && n > (max_len ? max_len : 4096),
                    "the parser fails only for an over-long query");
        return;
    }
    FUZZ_ASSERT(out.strict != NULL, "a parsed query has a strict tree");
    FUZZ_ASSERT(depth_of(out.strict) <= MAX_TREE_DEPTH, "strict tree depth");
    if (out.relaxed)
        FUZZ_ASSERT(depth_of(out.relaxed) <= MAX_TREE_DEPTH, "relaxed depth");
    for (size_t i = 1; i < out.nhl_terms; i++)
        FUZZ_ASSERT(strcmp(out.hl_terms[i - 1], out.hl_terms[i]) < 0,
                    "highlight terms sorted and unique");
    char desc[256];
    cxs_qnode_describe(out.strict, desc, sizeof desc);
    cxs_query_release(&out);
}

static void search(const char *q, size_t n, unsigned opt) {
    cxs_search_req rq = {0};
    rq.q = q;
    rq.q_len = n;
    rq.limit = 1 + (opt & 7);
    rq.offset = (opt >> 3) & 1;
    rq.sort = (cxs_sort)((opt >> 4) % 3);
    rq.facets =
        (opt & 0x40) ? CXS_FACET_CHANNEL | CXS_FACET_TAG | CXS_FACET_YEAR : 0;
    rq.typing = (opt & 0x20) != 0; /* the last word as a prefix too */
    cxs_search_res res = {0};
    cxs_err err = {0};
    cxs_status st = cxs_index_search(fuzz_sample_index(), &rq, &res, &err);
    FUZZ_ASSERT(st == CXS_OK || st == CXS_ERR_TOO_LARGE ||
                    st == CXS_ERR_INVALID,
                "search fails only on a bad query");
    for (size_t i = 0; st == CXS_OK && i < res.nhits; i++) {
        fuzz_check_highlighted(res.hits[i].snippet, "snippet");
        fuzz_check_highlighted(res.hits[i].title_hl, "title");
    }
    if (res.suggestion)
        FUZZ_ASSERT(fuzz_utf8_ok(res.suggestion, strlen(res.suggestion)),
                    "suggestion is UTF-8");
    for (size_t i = 0; i < res.nrewrites; i++)
        FUZZ_ASSERT(fuzz_utf8_ok(res.rewrites[i].typed,
                                 strlen(res.rewrites[i].typed)) &&
                        fuzz_utf8_ok(res.rewrites[i].read_as,
                                     strlen(res.rewrites[i].read_as)) &&
                        res.rewrites[i].read_as[0],
                    "rewrites are UTF-8, each read as something");
    cxs_search_res_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    size_t n = size - 1;
    /* NUL-terminated: cxs_search_req reads q_len 0 as "use strlen". */
    char *q = malloc(n + 1);
    FUZZ_ASSERT(q != NULL, "memory");
    memcpy(q, data + 1, n);
    q[n] = '\0';
    parse(q, n, (opt & 0x80) ? 16 : 0);
    search(q, n, opt);
    free(q);
    return 0;
}
