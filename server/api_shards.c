/*
 * api_shards.c - what the daemon says about its shards: GET /health (each
 * shard asked: up, round trip, posts), the shard list of /stats, the
 * per-shard lines of /metrics, and the "partial" marks of answers made
 * without some shards (on_shard_failure = partial).
 *
 * Facts that shaped it:
 *  - A shard is a local database or one served by xapian-tcpsrv or
 *    xapian-progsrv (index.h); a remote one may stop answering and come
 *    back. /health asks each shard once (one round trip each), which is
 *    also how a shard that came back is reconnected when nothing else
 *    asks for it.
 *  - Healthy (200) when every shard answers, or, with partial answers, at
 *    least one: "status" is then "degraded" and the shards down are named.
 *    Otherwise 503, so a load balancer takes the daemon out.
 *  - Each pool thread has its own reader with its own connections: the
 *    answer is this thread's view; another thread finds a dead shard on
 *    its own first request that needs it.
 */
#include <stdlib.h>
#include <string.h>

#include "meili_api.h"
#include "routes.h"

static json_t *shard_json(const cxs_index_shard *sh) {
    json_t *o = json_object();
    json_object_set_new(o, "name", cxs_json_cstr(sh->name));
    json_object_set_new(o, "up", json_boolean(sh->up));
    json_object_set_new(o, "remote", json_boolean(sh->remote));
    json_object_set_new(o, "documents", json_integer((json_int_t)sh->posts));
    json_object_set_new(o, "revision", json_integer((json_int_t)sh->revision));
    if (sh->up && sh->latency_ms > 0) /* probed */
        json_object_set_new(o, "latency_ms", json_real(sh->latency_ms));
    else if (!sh->up)
        json_object_set_new(o, "error", cxs_json_cstr(sh->error));
    return o;
}

json_t *cxs_api_shards_json(cxs_index *ix, int probe, size_t *up,
                            unsigned long long *posts) {
    json_t *a = json_array();
    *up = 0;
    *posts = 0;
    for (size_t i = 0; i < cxs_index_nshards(ix); i++) {
        cxs_index_shard sh;
        cxs_err err = {0};
        if (cxs_index_shard_get(ix, i, probe, &sh, &err) != CXS_OK)
            continue; /* only an out-of-memory: the shard is left out */
        *up += sh.up != 0;
        *posts += sh.posts;
        json_array_append_new(a, shard_json(&sh));
    }
    return a;
}

void cxs_api_note_partial(cxs_index *ix, json_t *o) {
    const char *names[64];
    size_t n = cxs_index_missing_shards(ix, names, 64);
    if (!n)
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < 64; i++)
        json_array_append_new(a, cxs_json_cstr(names[i]));
    json_object_set_new(o, "partial", json_true());
    json_object_set_new(o, "missing_shards", a);
}

void cxs_api_health(cxs_req *r) {
    if (cxs_meili_client(r)) /* its clients read {"status": "available"} */
        return cxs_api_meili_health(r);
    cxs_index *ix = NULL;
    cxs_err err = {0};
    if (cxs_server_reader(r->srv, r->snap, &ix, &err) != CXS_OK) {
        cxs_req_error(r, 503, "index_unavailable", "index unavailable: %s",
                      err.msg);
        return;
    }
    size_t up = 0, n = cxs_index_nshards(ix);
    unsigned long long posts = 0;
    json_t *shards = cxs_api_shards_json(ix, 1, &up, &posts);
    int ok = up == n || (r->snap->cfg->shard_partial && up > 0);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(up == n ? "ok"
                                                 : ok  ? "degraded"
                                                       : "unavailable"));
    json_object_set_new(o, "documents", json_integer((json_int_t)posts));
    json_object_set_new(o, "shards", shards);
    cxs_req_json(r, ok ? 200 : 503, o);
}

/* One gauge line per shard, labelled with its name. */
static cxs_status gauge(cxs_buf *b, const char *name, const char *shard,
                        double v) {
    cxs_status rc = cxs_buf_appendf(b, "%s{shard=\"", name);
    for (const char *c = shard; rc == CXS_OK && *c; c++)
        rc = (*c == '"' || *c == '\\') ? cxs_buf_appendf(b, "\\%c", *c)
                                       : cxs_buf_appendc(b, *c);
    return rc == CXS_OK ? cxs_buf_appendf(b, "\"} %.6g\n", v) : rc;
}

cxs_status cxs_api_shard_metrics(cxs_index *ix, cxs_buf *b) {
    static const char *const help =
        "# HELP cxsearch_shard_up Whether the shard answered when last "
        "asked.\n# TYPE cxsearch_shard_up gauge\n"
        "# HELP cxsearch_shard_documents Posts in the shard.\n"
        "# TYPE cxsearch_shard_documents gauge\n"
        "# HELP cxsearch_shard_latency_seconds Round trip of the last "
        "probe.\n# TYPE cxsearch_shard_latency_seconds gauge\n";
    cxs_status rc = cxs_buf_appends(b, help);
    for (size_t i = 0; rc == CXS_OK && i < cxs_index_nshards(ix); i++) {
        cxs_index_shard sh;
        rc = cxs_index_shard_get(ix, i, 1, &sh, NULL);
        if (rc == CXS_OK)
            rc = gauge(b, "cxsearch_shard_up", sh.name, sh.up);
        if (rc == CXS_OK)
            rc = gauge(b, "cxsearch_shard_documents", sh.name,
                       (double)sh.posts);
        if (rc == CXS_OK)
            rc = gauge(b, "cxsearch_shard_latency_seconds", sh.name,
                       sh.latency_ms / 1000.0);
    }
    return rc;
}
