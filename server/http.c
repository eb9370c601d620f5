/*
 * http.c - libmicrohttpd set-up, the request life cycle and response
 * helpers (see http.h).
 *
 * Life of a request:
 *   uri_logger        raw URI in hand: the context is created here
 *   on_request #1     headers in: route, rate limit, CORS, key, size and
 *                     Content-Type checks; GET/DELETE are handled now
 *   on_request #2..   body chunks appended (bounded)
 *   on_request last   body complete: the handler runs
 *   on_completed      metrics, one access-log line, context freed
 * A response may be queued at #1 (an error, or a request without body);
 * libmicrohttpd then skips the rest of the body and closes the connection.
 */
#include "http.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cxs_utf8.h"
#include "jwt.h"
#include "meili_api.h"
#include "routes.h"

#define MAX_PARAMS 256
#define CONN_MEMORY (64u * 1024u)

/* ---- UTF-8 and JSON strings ---- */

json_t *cxs_json_str(const char *s, size_t n) {
    if (!s)
        return json_null();
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    cxs_buf b;
    cxs_buf_init(&b, 0);
    cxs_status st = cxs_utf8_append_fixed(&b, s, n, NULL);
    j = st == CXS_OK ? json_stringn(b.data ? b.data : "", b.len) : NULL;
    cxs_buf_release(&b);
    return j;
}

json_t *cxs_json_cstr(const char *s) {
    return cxs_json_str(s, s ? strlen(s) : 0);
}

/* ---- decoding ---- */

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *cxs_http_decode(const char *s, size_t n, int plus, int strict,
                      size_t *out_len) {
    char *o = malloc(n + 1);
    size_t j = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n &&
            (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0) {
            o[j++] = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '%' && strict) {
            free(o);
            return NULL;
        } else {
            o[j++] = (plus && s[i] == '+') ? ' ' : s[i];
        }
    }
    o[j] = '\0';
    *out_len = j;
    return o;
}

void cxs_http_params_free(cxs_param *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].val);
    }
    free(p);
}

static int add_param(cxs_param **v, size_t *n, const char *s, size_t len) {
    const char *eq = memchr(s, '=', len);
    size_t kl = eq ? (size_t)(eq - s) : len;
    cxs_param p = {0};
    p.key = cxs_http_decode(s, kl, 1, 0, &p.klen);
    p.val = eq ? cxs_http_decode(eq + 1, len - kl - 1, 1, 0, &p.vlen)
               : cxs_http_decode("", 0, 1, 0, &p.vlen);
    cxs_param *nv =
        (p.key && p.val) ? realloc(*v, (*n + 1) * sizeof **v) : NULL;
    if (!nv) {
        free(p.key);
        free(p.val);
        return -1;
    }
    nv[(*n)++] = p;
    *v = nv;
    return 0;
}

cxs_status cxs_http_parse_query(const char *q, size_t n, size_t max,
                                cxs_param **out, size_t *nout, cxs_err *err) {
    cxs_param *v = NULL;
    size_t cnt = 0;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < n && rc == CXS_OK;) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t len = amp ? (size_t)(amp - (q + i)) : n - i;
        if (len > 0 && cnt >= max)
            rc = cxs_err_set(err, CXS_ERR_TOO_LARGE,
                             "more than %zu query parameters", max);
        else if (len > 0 && add_param(&v, &cnt, q + i, len) != 0)
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        i += len + 1;
    }
    if (rc != CXS_OK) {
        cxs_http_params_free(v, cnt);
        v = NULL;
        cnt = 0;
    }
    *out = v;
    *nout = cnt;
    return rc;
}

const char *cxs_req_param(const cxs_req *r, const char *key, size_t *len) {
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].key, key) == 0 &&
            r->params[i].klen == strlen(key)) {
            if (len)
                *len = r->params[i].vlen;
            return r->params[i].val;
        }
    return NULL;
}

const char *cxs_req_header(const cxs_req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- responses ---- */

static void add_cors(cxs_req *r, struct MHD_Response *resp) {
    const char *origin = cxs_req_header(r, "Origin");
    if (!origin || !cxs_server_config_cors_allows(r->snap->cfg, origin))
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Vary", "Origin");
}

static void queue(cxs_req *r, unsigned status, struct MHD_Response *resp,
                  const char *ctype) {
    if (r->responded) {
        if (resp)
            MHD_destroy_response(resp);
        return;
    }
    r->responded = 1;
    r->status = status;
    if (!resp) {
        r->status = 500; /* nothing can be sent; the connection closes */
        r->fatal = 1;
        return;
    }
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    add_cors(r, resp);
    if (atomic_load(&r->srv->stopping))
        MHD_add_response_header(resp, "Connection", "close");
    if (MHD_queue_response(r->conn, status, resp) != MHD_YES) {
        r->status = 500;
        r->fatal = 1;
    }
    MHD_destroy_response(resp);
}

static struct MHD_Response *from_malloc(char *data, size_t len) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(data);
    return resp;
}

void cxs_req_bytes(cxs_req *r, unsigned status, const char *ctype, char *data,
                   size_t len) {
    queue(r, status, from_malloc(data, len), ctype);
}

static struct MHD_Response *json_response(json_t *obj) {
    /* 10 significant digits: scores and timings, not 0.28499999999999998 */
    char *s =
        obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(obj);
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *t = realloc(s, len + 2); /* a final newline, for curl users */
    if (!t)
        return from_malloc(s, len);
    t[len] = '\n';
    t[len + 1] = '\0';
    return from_malloc(t, len + 1);
}

void cxs_req_json(cxs_req *r, unsigned status, json_t *obj) {
    struct MHD_Response *resp = json_response(obj);
    if (resp)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    queue(r, status, resp, "application/json; charset=utf-8");
}

static json_t *error_body(const char *code, const char *msg) {
    json_t *e = json_object();
    json_object_set_new(e, "code", cxs_json_cstr(code));
    json_object_set_new(e, "message", cxs_json_cstr(msg));
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    return o;
}

/* Meilisearch's names for the errors the HTTP layer itself gives; codes
 * of the Meilisearch handlers (api_meili.c) are already its own. */
static const char *meili_code(const char *code) {
    static const char *const MAP[][2] = {
        {"missing_key", "missing_authorization_header"},
        {"invalid_key", "invalid_api_key"},
        {"unsupported_media_type", "invalid_content_type"},
        {"body_too_large", "payload_too_large"},
        {"method_not_allowed", "method_not_allowed"},
        {"writes_disabled", "missing_master_key"},
        {"index_unavailable", "internal"},
        {"out_of_memory", "internal"}};
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (strcmp(code, MAP[i][0]) == 0)
            return MAP[i][1];
    return code;
}

/* {message, code, type, link}: what Meilisearch clients read. */
static json_t *meili_error_body(unsigned status, const char *code,
                                const char *msg) {
    char link[160];
    const char *mc = meili_code(code);
    const char *type = status >= 500                      ? "internal"
                       : (status == 401 || status == 403) ? "auth"
                                                          : "invalid_request";
    snprintf(link, sizeof link, "https://docs.meilisearch.com/errors#%s", mc);
    json_t *o = json_object();
    json_object_set_new(o, "message", cxs_json_cstr(msg));
    json_object_set_new(o, "code", cxs_json_cstr(mc));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "link", cxs_json_cstr(link));
    return o;
}

static void error_with(cxs_req *r, unsigned status, const char *code,
                       const char *msg, const char *hname, const char *hval) {
    struct MHD_Response *resp = json_response(
        r->meili ? meili_error_body(status, code, msg) : error_body(code, msg));
    if (resp && hname)
        MHD_add_response_header(resp, hname, hval);
    queue(r, status, resp, "application/json; charset=utf-8");
}

void cxs_req_error(cxs_req *r, unsigned status, const char *code,
                   const char *fmt, ...) {
    char msg[CXS_ERR_MSG_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_with(r, status, code, msg, NULL, NULL);
}

void cxs_req_fail(cxs_req *r, cxs_status st, const char *msg) {
    unsigned status = 500;
    switch (st) {
    case CXS_ERR_INVALID:
    case CXS_ERR_PARSE: status = 400; break;
    case CXS_ERR_NOT_FOUND: status = 404; break;
    case CXS_ERR_TOO_LARGE: status = 413; break;
    case CXS_ERR_LOCKED:
    case CXS_ERR_UNAVAILABLE: status = 503; break;
    default: break;
    }
    if (status >= 500)
        cxs_log_msg("error", "%s %.*s: %s", r->method_name, (int)r->path_len,
                    r->raw_uri, msg);
    if (st == CXS_ERR_LOCKED || st == CXS_ERR_UNAVAILABLE)
        error_with(r, status, cxs_status_name(st), msg, "Retry-After",
                   st == CXS_ERR_LOCKED ? "5" : "1");
    else
        cxs_req_error(r, status, cxs_status_name(st), "%s", msg);
}

/* Static files may change under a running daemon (a new page after an
 * upgrade): browsers revalidate them instead of keeping a stale copy. */
static struct MHD_Response *revalidated(struct MHD_Response *resp) {
    if (resp)
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return resp;
}

void cxs_req_file(cxs_req *r, int fd, size_t size, const char *ctype) {
    struct MHD_Response *resp = MHD_create_response_from_fd(size, fd);
    if (!resp)
        close(fd);
    queue(r, MHD_HTTP_OK, revalidated(resp), ctype);
}

void cxs_req_file_bytes(cxs_req *r, const char *ctype, char *data,
                        size_t len) {
    queue(r, MHD_HTTP_OK, revalidated(from_malloc(data, len)), ctype);
}

static void methods_text(unsigned mask, char *buf, size_t n) {
    static const struct {
        unsigned m;
        const char *name;
    } M[] = {{CXS_M_GET, "GET"},       {CXS_M_HEAD, "HEAD"},
             {CXS_M_POST, "POST"},     {CXS_M_PUT, "PUT"},
             {CXS_M_DELETE, "DELETE"}, {CXS_M_PATCH, "PATCH"},
             {CXS_M_OPTIONS, "OPTIONS"}};
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (mask & M[i].m) {
            if (buf[0])
                strncat(buf, ", ", n - strlen(buf) - 1);
            strncat(buf, M[i].name, n - strlen(buf) - 1);
        }
}

void cxs_req_not_allowed(cxs_req *r, unsigned mask) {
    char allow[80], msg[160];
    methods_text(mask | CXS_M_OPTIONS, allow, sizeof allow);
    snprintf(msg, sizeof msg, "%s is not allowed here; allowed: %s",
             r->method_name, allow);
    error_with(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", msg,
               "Allow", allow);
}

/* ---- checks at the headers ---- */

static cxs_method method_of(const char *m) {
    static const struct {
        const char *name;
        cxs_method m;
    } M[] = {{"GET", CXS_M_GET},       {"HEAD", CXS_M_HEAD},
             {"POST", CXS_M_POST},     {"PUT", CXS_M_PUT},
             {"DELETE", CXS_M_DELETE}, {"OPTIONS", CXS_M_OPTIONS},
             {"PATCH", CXS_M_PATCH}};
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (strcmp(m, M[i].name) == 0)
            return M[i].m;
    return CXS_M_OTHER;
}

/* Constant-time in the content of both strings: every byte of the
 * expected key is looked at whatever the given one holds. */
static bool key_equal(const char *given, size_t glen, const char *key) {
    return cxs_ct_equal(given, glen, key, strlen(key));
}

/* The bearer token of the Authorization header, or NULL. */
static const char *bearer(const cxs_req *r, size_t *len) {
    const char *h = cxs_req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    *len = strlen(h);
    while (*len > 0 && h[*len - 1] == ' ')
        (*len)--;
    return *len ? h : NULL;
}

/* A tenant token on a search route: checked even when reads are open, so
 * that its filter is never skipped. True: go on (r->tenant set). */
static bool check_tenant(cxs_req *r, const char *tok, size_t len) {
    char msg[400];
    if (cxs_meili_token(r->snap->cfg, tok, len, &r->tenant, msg,
                        sizeof msg) == CXS_OK)
        return true;
    cxs_req_error(r, 403, "invalid_api_key", "%s", msg);
    return false;
}

/* True when the request may go on; otherwise a 401/403 is queued. */
static bool check_key(cxs_req *r, cxs_auth auth) {
    const cxs_server_config *c = r->snap->cfg;
    const char *need = auth == CXS_AUTH_WRITE ? c->write_key : c->read_key;
    size_t len = 0;
    const char *tok = bearer(r, &len);
    int jwt = tok && r->route->tenant && cxs_jwt_shaped(tok, len) &&
              !cxs_meili_key_ok(c, tok, len, 0);
    if (jwt)
        return check_tenant(r, tok, len);
    if (auth == CXS_AUTH_NONE || (auth == CXS_AUTH_READ && !need))
        return true;
    if (!need) {
        cxs_req_error(r, 403, "writes_disabled",
                      "writes are disabled: no write key is configured "
                      "(write_key or CXSEARCH_WRITE_KEY)");
        return false;
    }
    if (!tok) {
        error_with(r, 401, "missing_key",
                   "this endpoint needs a key: Authorization: Bearer KEY",
                   "WWW-Authenticate", "Bearer");
        return false;
    }
    int ok = key_equal(tok, len, need);
    if (auth == CXS_AUTH_READ && c->write_key)
        ok |= key_equal(tok, len, c->write_key);
    ok |= cxs_meili_key_ok(c, tok, len, auth == CXS_AUTH_WRITE);
    if (!ok)
        cxs_req_error(r, 403, "invalid_key", "the key is not valid here");
    return ok;
}

bool cxs_http_media_is(const char *ct, const char *want) {
    size_t n = strlen(want);
    while (ct && *ct == ' ')
        ct++;
    return ct && strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool check_body(cxs_req *r) {
    const cxs_route *rt = r->route;
    if (!(r->method & CXS_M_WITH_BODY) || rt->body == CXS_BODY_NONE)
        return true;
    const char *ct = cxs_req_header(r, "Content-Type");
    int ok = cxs_http_media_is(ct, "application/json") ||
             (rt->body >= CXS_BODY_POSTS &&
              (cxs_http_media_is(ct, "application/x-ndjson") ||
               cxs_http_media_is(ct, "application/jsonl") ||
               cxs_http_media_is(ct, "application/x-jsonlines"))) ||
             (rt->body == CXS_BODY_DOCS && cxs_http_media_is(ct, "text/csv"));
    if (!ok) {
        cxs_req_error(r, 415, "unsupported_media_type",
                      "Content-Type must be application/json%s (got %s)",
                      rt->body == CXS_BODY_DOCS    ? ", application/x-ndjson "
                                                     "or text/csv"
                      : rt->body == CXS_BODY_POSTS ? " or application/x-ndjson"
                                                   : "",
                      ct ? ct : "none");
        return false;
    }
    const char *cl = cxs_req_header(r, "Content-Length");
    size_t max = r->snap->cfg->max_body_bytes;
    if (cl && strtoull(cl, NULL, 10) > max) {
        cxs_req_error(r, 413, "body_too_large",
                      "the request body is over %zu bytes (max_body_bytes)",
                      max);
        return false;
    }
    return true;
}

/* A preflight from an origin not in cors_origins is refused outright.
 * Other requests are served without CORS headers, so the browser keeps
 * the answer from the page; refusing them here would add no safety (keys
 * are bearer tokens a browser never adds by itself) and would break a
 * page served through a proxy that rewrites Host. */
static bool check_origin(cxs_req *r) {
    const char *origin = cxs_req_header(r, "Origin");
    if (!origin || cxs_server_config_cors_allows(r->snap->cfg, origin))
        return true;
    const char *p = strstr(origin, "://");
    const char *host = cxs_req_header(r, "Host");
    if (host && p && strcmp(p + 3, host) == 0)
        return true; /* same origin: our own search page */
    cxs_req_error(r, 403, "origin_not_allowed",
                  "origin %s is not in cors_origins", origin);
    return false;
}

static void preflight(cxs_req *r, unsigned allow) {
    char methods[80];
    methods_text(allow | CXS_M_OPTIONS, methods, sizeof methods);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, "Allow", methods);
        if (cxs_req_header(r, "Origin")) {
            MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                                    methods);
            MHD_add_response_header(
                resp, "Access-Control-Allow-Headers",
                "Authorization, Content-Type, X-Meilisearch-Client");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        }
    }
    queue(r, MHD_HTTP_NO_CONTENT, resp, NULL);
}

static bool route_request(cxs_req *r) {
    cxs_route_match m;
    cxs_route_find(r->method, r->raw_uri, r->path_len, &m);
    r->route = m.route;
    r->route_index = m.index;
    r->meili = m.meili;
    if (r->method == CXS_M_OPTIONS && m.allow) {
        if (check_origin(r))
            preflight(r, m.allow);
        return false;
    }
    if (!m.route && m.allow) {
        cxs_req_not_allowed(r, m.allow);
        return false;
    }
    if (!m.route) {
        cxs_req_error(r, 404, "not_found", "no such endpoint");
        return false;
    }
    if (m.param) {
        r->param = cxs_http_decode(m.param, m.param_len, 0, 1, &r->param_len);
        if (!r->param) {
            cxs_req_error(r, 400, "bad_path", "malformed %%-escape in path");
            return false;
        }
    }
    return true;
}

static bool parse_params(cxs_req *r) {
    const char *q =
        r->raw_uri[r->path_len] == '?' ? r->raw_uri + r->path_len + 1 : "";
    cxs_err err = {0};
    cxs_status rc = cxs_http_parse_query(q, strlen(q), MAX_PARAMS, &r->params,
                                         &r->nparams, &err);
    if (rc == CXS_ERR_TOO_LARGE)
        cxs_req_error(r, 400, "too_many_parameters", "%s", err.msg);
    else if (rc != CXS_OK)
        cxs_req_error(r, 500, "out_of_memory", "out of memory");
    return rc == CXS_OK;
}

static bool check_rate(cxs_req *r) {
    const cxs_server_config *c = r->snap->cfg;
    if (cxs_ratelimit_allow(r->srv->rl, r->remote, c->rate_limit, c->rate_burst,
                            cxs_server_now()))
        return true;
    cxs_metrics_add(r->srv->metrics, CXS_M_RATE_LIMITED, 1);
    error_with(r, 429, "rate_limited", "too many requests from this address",
               "Retry-After", "1");
    return false;
}

/* The checks that need only the headers; true when the request goes on
 * (false: an error answer is queued already). */
static bool begin(cxs_req *r, const char *method) {
    r->begun = 1;
    r->method_name = method;
    r->method = method_of(method);
    return check_rate(r) && route_request(r) && parse_params(r) &&
           check_key(r, r->route->auth) && check_body(r);
}

static void dispatch(cxs_req *r) {
    if (r->body_too_large) {
        cxs_req_error(r, 413, "body_too_large",
                      "the request body is over %zu bytes (max_body_bytes)",
                      r->snap->cfg->max_body_bytes);
        return;
    }
    r->route->fn(r);
    if (!r->responded)
        cxs_req_error(r, 500, "internal", "the handler gave no response");
}

/* ---- libmicrohttpd callbacks ---- */

static void remote_of(struct MHD_Connection *c, char *buf, size_t n) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, n, "?");
    if (!ci || !ci->client_addr)
        return;
    socklen_t len = ci->client_addr->sa_family == AF_INET6
                        ? sizeof(struct sockaddr_in6)
                        : sizeof(struct sockaddr_in);
    if (getnameinfo(ci->client_addr, len, buf, (socklen_t)n, NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(buf, n, "?");
}

static cxs_req *req_new(cxs_server *s, const char *uri,
                        struct MHD_Connection *c) {
    cxs_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = s;
    r->conn = c;
    r->t0 = cxs_server_now();
    r->hits = -1;
    r->raw_uri = strdup(uri ? uri : "/");
    r->snap = cxs_server_snapshot_acquire(s);
    size_t nroutes;
    cxs_routes(&nroutes);
    r->route_index = nroutes;
    r->method_name = "?";
    if (!r->raw_uri) {
        cxs_server_snapshot_release(s, r->snap);
        free(r);
        return NULL;
    }
    r->path_len = strcspn(r->raw_uri, "?");
    cxs_buf_init(&r->body, r->snap->cfg->max_body_bytes);
    remote_of(c, r->remote, sizeof r->remote);
    return r;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c) {
    return req_new(cls, uri, c);
}

static void body_chunk(cxs_req *r, const char *data, size_t n) {
    if (r->body_too_large || r->responded)
        return;
    if (cxs_buf_append(&r->body, data, n) != CXS_OK) {
        r->body_too_large = 1;
        cxs_buf_release(&r->body);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    cxs_req *r = *con_cls;
    (void)version;
    if (!r && !(r = *con_cls = req_new(cls, url, c)))
        return MHD_NO;
    if (!r->started) {
        r->started = 1;
        /* libmicrohttpd closes the connection after a response queued
         * before it has read the whole request, which is where this first
         * call stands: a request without a body is answered on the next
         * call, so the connection stays open for the client's next request
         * (keep-alive: a new connection per search cost clients a TCP
         * handshake and the server an accept and a close). One with a body
         * is checked now, so that a refused upload is not read. */
        if (!(method_of(method) & CXS_M_WITH_BODY))
            return MHD_YES;
        if (begin(r, method) && r->route->body == CXS_BODY_NONE)
            dispatch(r);
        return r->fatal ? MHD_NO : MHD_YES;
    }
    if (*upload_size) {
        /* A body sent with a method that takes none (GET with a
         * Content-Length) is read and dropped: no handler of such a
         * method reads one, and the answer waits for the whole request. */
        if (r->begun)
            body_chunk(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!r->begun) {
        if (begin(r, method))
            dispatch(r);
    } else if (!r->responded) {
        dispatch(r);
    }
    return r->fatal ? MHD_NO : MHD_YES;
}

static void log_request(cxs_req *r, double secs) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t nroutes;
    cxs_routes(&nroutes);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "method", cxs_json_cstr(r->method_name));
    json_object_set_new(o, "route",
                        json_string(r->route_index < nroutes
                                        ? cxs_route_names()[r->route_index]
                                        : "none"));
    json_object_set_new(o, "status", json_integer(r->status));
    json_object_set_new(o, "latency_ms", json_real(round(secs * 1e6) / 1e3));
    if (r->hits >= 0)
        json_object_set_new(o, "hits", json_integer(r->hits));
    json_object_set_new(o, "remote", json_string(r->remote));
    cxs_log_access(&r->srv->log, o);
    json_decref(o);
}

static void req_free(cxs_req *r) {
    json_decref(r->tenant);
    cxs_http_params_free(r->params, r->nparams);
    cxs_buf_release(&r->body);
    free(r->param);
    free(r->raw_uri);
    cxs_server_snapshot_release(r->srv, r->snap);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    cxs_req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (!r)
        return;
    double secs = cxs_server_now() - r->t0;
    cxs_metrics_request(r->srv->metrics, r->route_index, r->status, secs);
    log_request(r, secs);
    req_free(r);
    *con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
    char buf[512];
    (void)cls;
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    cxs_log_msg("mhd", "%s", buf);
}

/* ---- start and stop ---- */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into an address. */
static cxs_status parse_listen(const char *s, struct sockaddr_storage *ss,
                               socklen_t *len, cxs_err *err) {
    char host[256] = "";
    const char *colon = strrchr(s, ':');
    if (!colon || colon - s >= (long)sizeof host || !colon[1])
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "listen = %s: expected HOST:PORT", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (rc != 0)
        return cxs_err_set(err, CXS_ERR_INVALID, "listen = %s: %s", s,
                           gai_strerror(rc));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return CXS_OK;
}

static struct MHD_Daemon *start_with(cxs_server *s, unsigned flags,
                                     const struct sockaddr *sa) {
    const cxs_server_config *c = s->snap->cfg;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_connections_per_ip, NULL},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
        {MHD_OPTION_END, 0, NULL}};
    /* The logger first, so that MHD reports nothing through its own. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, s, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_URI_LOG_CALLBACK,
        uri_logger, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

cxs_status cxs_http_start(cxs_server *s, struct MHD_Daemon **out,
                          unsigned *port, cxs_err *err) {
    struct sockaddr_storage ss;
    socklen_t len;
    size_t nroutes;
    cxs_status rc = parse_listen(s->snap->cfg->listen, &ss, &len, err);
    if (rc != CXS_OK)
        return rc;
    rc = cxs_metrics_new(cxs_route_names(), (cxs_routes(&nroutes), nroutes),
                         &s->metrics, err);
    if (rc != CXS_OK)
        return rc;
    unsigned base = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                    MHD_USE_ERROR_LOG |
                    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* epoll where the library has it, else poll, else select. */
    const unsigned modes[] = {MHD_USE_EPOLL_LINUX_ONLY, MHD_USE_POLL, 0};
    struct MHD_Daemon *d = NULL;
    for (size_t i = 0; !d && i < 3; i++)
        d = start_with(s, base | modes[i], (const struct sockaddr *)&ss);
    if (!d)
        return cxs_err_set(err, CXS_ERR_IO, "cannot listen on %s: %s",
                           s->snap->cfg->listen, strerror(errno));
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : 0;
    *out = d;
    return CXS_OK;
}

void cxs_http_stop(cxs_server *s, struct MHD_Daemon *d) {
    atomic_store(&s->stopping, 1);
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    double until = cxs_server_now() + s->snap->cfg->shutdown_grace;
    while (cxs_server_now() < until) {
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!di || di->num_connections == 0)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
}
