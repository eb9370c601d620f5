/*
 * routes.h - cxsearchd's route table and the handlers it names.
 *
 * Facts that shaped it: more APIs will be mounted beside the native one
 * (a Meilisearch-compatible API, the search page), so routing is data: a
 * table of (pattern, methods, key needed, body accepted, handler), tried
 * in order. A pattern is a literal path, optionally with one "{name}"
 * that matches one or more bytes of the raw (still %-encoded) path up to
 * the pattern's literal tail, so ids containing '/' work (a "{uid}"
 * never holds a '/': Meilisearch index uids cannot)
 * ("/documents/{id}/similar" is listed before "/documents/{id}"). The
 * first pattern that matches a path is the resource: its entries decide
 * between the handler, 405 (with Allow) and OPTIONS. A "fallback" entry
 * (static files) never turns a 404 into a 405. The Meilisearch-compatible
 * rows are marked so that every error on them, including the key and
 * Content-Type checks of the HTTP layer, comes in Meilisearch's shape.
 *
 * Thread-safety: the table is constant.
 */
#ifndef CXS_SERVER_ROUTES_H
#define CXS_SERVER_ROUTES_H

#include <stddef.h>

#include "http.h"

typedef enum cxs_auth {
    CXS_AUTH_NONE, /* open to all */
    CXS_AUTH_READ, /* read key (or write key) when a read key is set */
    CXS_AUTH_WRITE /* write key; refused when none is configured */
} cxs_auth;

typedef enum cxs_body {
    CXS_BODY_NONE, /* a body is ignored */
    CXS_BODY_JSON, /* application/json */
    CXS_BODY_POSTS, /* application/json or application/x-ndjson */
    CXS_BODY_DOCS   /* the same, or text/csv (Meilisearch documents) */
} cxs_body;

typedef void (*cxs_handler)(cxs_req *r);

struct cxs_route {
    const char *name;    /* for metrics and the access log */
    const char *pattern; /* "/search", "/documents/{id}", or "/" "*" for
                            every path (static files) */
    unsigned methods;    /* CXS_M_*; GET implies HEAD */
    cxs_auth auth;
    cxs_body body;
    int fallback;
    cxs_handler fn;
    int meili; /* errors in Meilisearch's shape {message, code, type, link}
                  (its clients read those); others {"error": {...}} */
    int tenant; /* a Meilisearch tenant token is accepted as the key */
};

/* The table and its length. */
const cxs_route *cxs_routes(size_t *n);

/* The names of the routes, in table order (for metrics). */
const char *const *cxs_route_names(void);

typedef struct cxs_route_match {
    const cxs_route *route; /* NULL: 404 or 405 */
    size_t index;
    unsigned allow;    /* methods of the matched resource; 0: none */
    const char *param; /* raw {id} span inside the path */
    size_t param_len;
    int meili; /* the resource answers errors in Meilisearch's shape */
} cxs_route_match;

/* Finds the route for method and the raw path[0..n). */
void cxs_route_find(cxs_method method, const char *path, size_t n,
                    cxs_route_match *m);

/* Handlers (api_search.c, api_write.c, static.c, http.c). */
void cxs_api_search(cxs_req *r);
void cxs_api_suggest(cxs_req *r);
void cxs_api_document(cxs_req *r);
void cxs_api_similar(cxs_req *r);
void cxs_api_health(cxs_req *r);
void cxs_api_stats(cxs_req *r);
void cxs_api_metrics(cxs_req *r);
void cxs_api_post_documents(cxs_req *r);
void cxs_api_put_document(cxs_req *r);
void cxs_api_delete_document(cxs_req *r);
void cxs_static_serve(cxs_req *r);
/* api_shards.c: the shards of the reader (index.h). */
json_t *cxs_api_shards_json(cxs_index *ix, int probe, size_t *up,
                            unsigned long long *posts);
/* Adds "partial": true and "missing_shards" when ix answers without some
 * shards. */
void cxs_api_note_partial(cxs_index *ix, json_t *o);
CXS_MUST_CHECK cxs_status cxs_api_shard_metrics(cxs_index *ix, cxs_buf *b);
void cxs_api_sources(cxs_req *r); /* sources.c */
/* api_meili.c: the Meilisearch-compatible subset. */
void cxs_api_meili_search(cxs_req *r);
void cxs_api_meili_multi_search(cxs_req *r);
void cxs_api_meili_facet_search(cxs_req *r);
/* api_meili_docs.c, meili_keys.c: the rest of it for the official
 * clients (documents, tasks, indexes, settings, keys, version). */
void cxs_api_meili_indexes(cxs_req *r);
void cxs_api_meili_index(cxs_req *r);
void cxs_api_meili_tasks(cxs_req *r);
void cxs_api_meili_task(cxs_req *r);
void cxs_api_meili_version(cxs_req *r);
void cxs_api_meili_keys(cxs_req *r);
void cxs_api_meili_key(cxs_req *r);

#endif /* CXS_SERVER_ROUTES_H */
