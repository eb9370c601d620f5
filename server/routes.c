/*
 * routes.c - the route table of cxsearchd (see routes.h). New APIs (the
 * Meilisearch-compatible one, the search page) are new rows here; the
 * Meilisearch rows (api_meili.c) set the last column so that their errors
 * take Meilisearch's shape.
 */
#include "routes.h"

#include <stdbool.h>
#include <string.h>

#define GET CXS_M_GET
#define POST CXS_M_POST
#define PUT CXS_M_PUT
#define DEL CXS_M_DELETE

static const cxs_route ROUTES[] = {
    {"search", "/search", GET | POST, CXS_AUTH_READ, CXS_BODY_JSON, 0,
     cxs_api_search, 0},
    {"suggest", "/suggest", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0,
     cxs_api_suggest, 0},
    {"similar", "/documents/{id}/similar", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0,
     cxs_api_similar, 0},
    {"document_get", "/documents/{id}", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0,
     cxs_api_document, 0},
    {"document_put", "/documents/{id}", PUT, CXS_AUTH_WRITE, CXS_BODY_JSON, 0,
     cxs_api_put_document, 0},
    {"document_delete", "/documents/{id}", DEL, CXS_AUTH_WRITE, CXS_BODY_NONE,
     0, cxs_api_delete_document, 0},
    {"documents_post", "/documents", POST, CXS_AUTH_WRITE, CXS_BODY_POSTS, 0,
     cxs_api_post_documents, 0},
    {"health", "/health", GET, CXS_AUTH_NONE, CXS_BODY_NONE, 0, cxs_api_health,
     0},
    {"stats", "/stats", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0, cxs_api_stats, 0},
    {"metrics", "/metrics", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0,
     cxs_api_metrics, 0},
    {"sources", "/sources", GET, CXS_AUTH_READ, CXS_BODY_NONE, 0,
     cxs_api_sources, 0},
    {"meili_search", "/indexes/{uid}/search", GET | POST, CXS_AUTH_READ,
     CXS_BODY_JSON, 0, cxs_api_meili_search, 1},
    {"meili_facet_search", "/indexes/{uid}/facet-search", POST, CXS_AUTH_READ,
     CXS_BODY_JSON, 0, cxs_api_meili_facet_search, 1},
    {"meili_multi_search", "/multi-search", POST, CXS_AUTH_READ, CXS_BODY_JSON,
     0, cxs_api_meili_multi_search, 1},
    {"static", "/*", GET, CXS_AUTH_NONE, CXS_BODY_NONE, 1, cxs_static_serve, 0},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

static const char *const NAMES[NROUTES] = {"search",
                                           "suggest",
                                           "similar",
                                           "document_get",
                                           "document_put",
                                           "document_delete",
                                           "documents_post",
                                           "health",
                                           "stats",
                                           "metrics",
                                           "sources",
                                           "meili_search",
                                           "meili_facet_search",
                                           "meili_multi_search",
                                           "static"};

const cxs_route *cxs_routes(size_t *n) {
    *n = NROUTES;
    return ROUTES;
}

const char *const *cxs_route_names(void) {
    return NAMES;
}

/* Matches a pattern against the raw path; see routes.h. */
static bool match(const char *pat, const char *path, size_t n,
                 const char **param, size_t *plen) {
    *param = NULL;
    *plen = 0;
    if (strcmp(pat, "/*") == 0)
        return n > 0 && path[0] == '/';
    const char *open = strchr(pat, '{');
    if (!open)
        return strlen(pat) == n && memcmp(pat, path, n) == 0;
    const char *tail = strchr(open, '}') + 1;
    size_t head = (size_t)(open - pat), tl = strlen(tail);
    if (n < head + tl + 1 || memcmp(path, pat, head) != 0 ||
        memcmp(path + n - tl, tail, tl) != 0)
        return false;
    *param = path + head;
    *plen = n - head - tl;
    return true;
}

static unsigned with_head(unsigned m) {
    return (m & CXS_M_GET) ? (m | CXS_M_HEAD) : m;
}

void cxs_route_find(cxs_method method, const char *path, size_t n,
                    cxs_route_match *m) {
    const char *resource = NULL;
    int fallback = 0;
    memset(m, 0, sizeof *m);
    m->index = NROUTES;
    for (size_t i = 0; i < NROUTES; i++) {
        const char *p;
        size_t pl;
        if (resource ? strcmp(resource, ROUTES[i].pattern) != 0
                     : !match(ROUTES[i].pattern, path, n, &p, &pl))
            continue;
        if (!resource) {
            resource = ROUTES[i].pattern;
            fallback = ROUTES[i].fallback;
            m->meili = ROUTES[i].meili;
            m->param = p;
            m->param_len = pl;
        }
        m->allow |= with_head(ROUTES[i].methods);
        if (!m->route && (with_head(ROUTES[i].methods) & method)) {
            m->route = &ROUTES[i];
            m->index = i;
        }
    }
    if (!m->route && fallback)
        m->allow = 0; /* an unknown path, not a wrong method */
}
