/*
 * meili_keys.c - Meilisearch's keys and tenant tokens on cxsearch's
 * write and read keys (see meili_api.h for the derivation and why).
 *
 * Facts that shaped it:
 *  - Every comparison with a key or a signature is constant-time
 *    (cxs_ct_equal), and every key is compared even after a match, so the
 *    time says nothing about which key or how much of it matched.
 *  - A tenant token is refused (403 invalid_api_key, the message saying
 *    why) when it is not a JWT, its alg is not HS256 ("none" included),
 *    its apiKeyUid names no key, its signature is not that key's, its exp
 *    has passed (or is not a number), or its searchRules are missing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "meili_api.h"
#include "routes.h"

static void uuid_of(const char *key, char out[40]) {
    unsigned char h[CXS_SHA256_LEN];
    char x[2 * CXS_SHA256_LEN + 1];
    cxs_hmac_sha256(key, strlen(key), "cxsearch key uid", 16, h);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x40); /* version 4 */
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    cxs_hex(h, 16, x);
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16,
             x + 20);
}

static void derived(const char *master, const char *what, char out[72]) {
    unsigned char h[CXS_SHA256_LEN];
    cxs_hmac_sha256(master, strlen(master), what, strlen(what), h);
    cxs_hex(h, CXS_SHA256_LEN, out);
}

size_t cxs_meili_keys(const cxs_server_config *c, cxs_meili_key out[2]) {
    size_t n = 0;
    memset(out, 0, 2 * sizeof *out);
    if (c->read_key && *c->read_key)
        snprintf(out[n].key, sizeof out[n].key, "%.64s", c->read_key);
    else if (c->write_key && *c->write_key)
        derived(c->write_key, "cxsearch default search key", out[n].key);
    if (out[n].key[0])
        uuid_of(out[n].key, out[n].uid), n++;
    if (c->write_key && *c->write_key) {
        derived(c->write_key, "cxsearch default admin key", out[n].key);
        uuid_of(out[n].key, out[n].uid);
        out[n++].admin = 1;
    }
    return n;
}

bool cxs_meili_key_ok(const cxs_server_config *c, const char *tok, size_t n,
                      int write) {
    cxs_meili_key k[2];
    size_t nk = cxs_meili_keys(c, k);
    int ok = 0;
    for (size_t i = 0; i < nk; i++)
        ok |= cxs_ct_equal(tok, n, k[i].key, strlen(k[i].key)) &
              (k[i].admin || !write);
    return ok;
}

static cxs_status refuse(char *msg, size_t cap, const char *why) {
    snprintf(msg, cap, "The provided tenant token is invalid: %s.", why);
    return CXS_ERR_INVALID;
}

/* The key a token names by apiKeyUid, or NULL. */
static const cxs_meili_key *key_of(const cxs_meili_key *k, size_t nk,
                                   const json_t *payload) {
    const char *uid = json_string_value(json_object_get(payload, "apiKeyUid"));
    const cxs_meili_key *found = NULL;
    for (size_t i = 0; uid && i < nk; i++)
        if (cxs_ct_equal(uid, strlen(uid), k[i].uid, strlen(k[i].uid)))
            found = &k[i];
    return found;
}

static cxs_status claims(const json_t *p, char *msg, size_t cap) {
    const json_t *exp = json_object_get(p, "exp");
    const json_t *rules = json_object_get(p, "searchRules");
    if (exp && !json_is_null(exp) && !json_is_integer(exp))
        return refuse(msg, cap, "`exp` is not a timestamp");
    if (json_is_integer(exp) &&
        json_integer_value(exp) <= (json_int_t)time(NULL))
        return refuse(msg, cap, "it has expired");
    if (!json_is_object(rules) && !json_is_array(rules))
        return refuse(msg, cap, "`searchRules` is missing");
    return CXS_OK;
}

cxs_status cxs_meili_token(const cxs_server_config *c, const char *tok,
                           size_t n, json_t **rules, char *msg, size_t cap) {
    cxs_meili_key k[2];
    size_t nk = cxs_meili_keys(c, k);
    json_t *p = NULL;
    char why[256];
    *rules = NULL;
    if (cxs_jwt_payload(tok, n, &p, why, sizeof why) != CXS_OK)
        return refuse(msg, cap, why);
    const cxs_meili_key *key = key_of(k, nk, p);
    cxs_status rc = CXS_OK;
    if (!key)
        rc = refuse(msg, cap, "its `apiKeyUid` names no key");
    else if (!cxs_jwt_signed_by(tok, n, key->key, strlen(key->key)))
        rc = refuse(msg, cap, "its signature is not valid");
    else
        rc = claims(p, msg, cap);
    if (rc == CXS_OK)
        *rules = json_incref(json_object_get(p, "searchRules"));
    json_decref(p);
    return rc;
}

bool cxs_meili_tenant_filter(const json_t *rules, const char *uid,
                             const json_t **filter) {
    size_t i;
    const json_t *x;
    *filter = NULL;
    if (json_is_array(rules)) {
        json_array_foreach(rules, i, x) {
            const char *s = json_string_value(x);
            if (s && (!strcmp(s, "*") || !strcmp(s, uid)))
                return 1;
        }
        return 0;
    }
    const json_t *rule = json_object_get(rules, uid);
    if (!rule)
        rule = json_object_get(rules, "*");
    if (!rule)
        return 0;
    *filter = json_object_get(rule, "filter");
    if (*filter && json_is_null(*filter))
        *filter = NULL;
    return 1;
}

/* ---- /keys ---- */

static json_t *key_json(const cxs_meili_key *k, const char *when) {
    return json_pack(
        "{sssssssss[s]s[s]snssss}", "name",
        k->admin ? "Default Admin API Key" : "Default Search API Key",
        "description",
        k->admin ? "Use it for anything that is not a search operation."
                 : "Use it to search from the frontend",
        "key", k->key, "uid", k->uid, "actions", k->admin ? "*" : "search",
        "indexes", "*", "expiresAt", "createdAt", when, "updatedAt", when);
}

static void no_key_changes(cxs_req *r) {
    cxs_req_error(r, 400, "immutable_api_key",
                  "cxsearch's keys are derived from its write and read keys "
                  "(write_key, read_key) and cannot be created, changed or "
                  "deleted through the API; change the configuration "
                  "instead.");
}

void cxs_api_meili_keys(cxs_req *r) {
    cxs_meili_key k[2];
    const char *when = "1970-01-01T00:00:00Z";
    if (r->method == CXS_M_POST)
        return no_key_changes(r);
    size_t nk = cxs_meili_keys(r->snap->cfg, k);
    json_t *a = json_array();
    for (size_t i = nk; i-- > 0;)
        json_array_append_new(a, key_json(&k[i], when));
    cxs_req_json(r, 200,
                 json_pack("{sosisisI}", "results", a, "offset", 0, "limit", 20,
                           "total", (json_int_t)nk));
}

void cxs_api_meili_key(cxs_req *r) {
    cxs_meili_key k[2];
    if (r->method != CXS_M_GET && r->method != CXS_M_HEAD)
        return no_key_changes(r);
    size_t nk = cxs_meili_keys(r->snap->cfg, k);
    for (size_t i = 0; i < nk; i++)
        if (!strcmp(r->param, k[i].uid) ||
            cxs_ct_equal(r->param, r->param_len, k[i].key, strlen(k[i].key)))
            return cxs_req_json(r, 200,
                                key_json(&k[i], "1970-01-01T00:00:00Z"));
    cxs_req_error(r, 404, "api_key_not_found", "API key `%.64s` not found.",
                  r->param);
}
