/*
 * meili_api.h - what the Meilisearch-compatible handlers share beyond
 * routes.h: the keys and tenant tokens (meili_keys.c), settings
 * (meili_settings.c), and the Meilisearch forms of /health and /stats
 * (api_meili_docs.c).
 *
 * Facts that shaped it:
 *  - Meilisearch derives its default keys from the master key; so does
 *    cxsearch, with the write key as the master key: the "Default Admin
 *    API Key" (writes, keys) and the "Default Search API Key" (searches;
 *    the read key when one is configured) are HMAC-SHA256 of the write key,
 *    their uids UUID-shaped HMACs of the keys. Nothing is stored, the
 *    keys survive restarts, and changing the write key changes them.
 *  - A tenant token is a JWT (HS256) signed with the search or admin key
 *    and naming it by apiKeyUid; its searchRules add a filter per index.
 *    It is accepted on the search routes only.
 *
 * Thread-safety: pure functions over the configuration snapshot.
 */
#ifndef CXS_SERVER_MEILI_API_H
#define CXS_SERVER_MEILI_API_H

#include <jansson.h>
#include <stdbool.h>

#include "cxs_err.h"
#include "http.h"

/* The Meilisearch version whose API this one follows (GET /version). */
#define CXS_MEILI_API_VERSION "1.12.0"

typedef struct cxs_meili_key {
    char uid[40];
    char key[72];
    int admin; /* 1: the admin key; 0: the search key */
} cxs_meili_key;

/* The default keys (search first, then admin); returns how many (0 when
 * neither a write key nor a read key is configured). */
size_t cxs_meili_keys(const cxs_server_config *c, cxs_meili_key out[2]);

/* True when tok is the admin key (write) or either default key (!write). */
bool cxs_meili_key_ok(const cxs_server_config *c, const char *tok, size_t n,
                      int write);

/* Checks a tenant token; on success *rules is its searchRules (new
 * reference). Else CXS_ERR_INVALID and msg says why (not a JWT, another
 * algorithm, unknown apiKeyUid, bad signature, expired, no rules). */
CXS_MUST_CHECK cxs_status cxs_meili_token(const cxs_server_config *c,
                                          const char *tok, size_t n,
                                          json_t **rules, char *msg,
                                          size_t cap);

/* What the rules allow on index uid: false when refused; else true and *filter
 * is the filter they add (borrowed), or NULL for none. */
bool cxs_meili_tenant_filter(const json_t *rules, const char *uid,
                             const json_t **filter);

/* GET /keys, /keys/{uid or key}; key creation, update and deletion are
 * refused (the keys are derived, see above). */
void cxs_api_meili_keys(cxs_req *r);
void cxs_api_meili_key(cxs_req *r);

/* /indexes/{uid}/settings[/sub] (sub NULL: all). */
void cxs_meili_settings(cxs_req *r, const char *sub);
/* Queues a settings task with payload (taken over). */
void cxs_meili_enqueue_settings(cxs_req *r, json_t *payload);

/* Adds Meilisearch's /stats fields to cxsearch's /stats answer o. */
void cxs_meili_stats_extend(cxs_req *r, json_t *o, const cxs_index_stats *st);

/* True when the request comes from a Meilisearch client (its
 * X-Meilisearch-Client header, or a User-Agent starting "Meilisearch"). */
bool cxs_meili_client(const cxs_req *r);

/* /health in Meilisearch's form: {"status": "available"}. */
void cxs_api_meili_health(cxs_req *r);

#endif /* CXS_SERVER_MEILI_API_H */
