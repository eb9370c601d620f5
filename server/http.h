/*
 * http.h - cxsearchd's HTTP layer over libmicrohttpd: the per-request
 * context handed to route handlers, the parsed query string, the body
 * buffer, and response helpers (JSON, errors, files) that add CORS.
 *
 * Facts that shaped it:
 *  - libmicrohttpd decodes the path before the access handler sees it, so
 *    "/documents/a%2Fb" and "/documents/a/b" would look alike; we take
 *    the raw URI from MHD_OPTION_URI_LOG_CALLBACK (which is also where the
 *    request context is born) and decode the path and the query string
 *    ourselves. That also keeps NUL and invalid UTF-8 bytes in parameter
 *    values visible (they are passed on with their length, never cut).
 *  - A handler runs when the whole body is in (bounded by max_body_bytes;
 *    a declared Content-Length over it is refused before reading);
 *    method, key, Content-Type and size checks happen at the headers.
 *  - Every response is JSON except static files and /metrics; error bodies
 *    are {"error": {"code", "message"}}; strings put into JSON go through
 *    cxs_json_str, which replaces invalid UTF-8 (jansson refuses it).
 *
 * Ownership: the context and everything in it belong to the HTTP layer and
 * are freed when libmicrohttpd reports the request complete.
 * Thread-safety: a request is handled by one pool thread at a time.
 */
#ifndef CXS_SERVER_HTTP_H
#define CXS_SERVER_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cxs_buf.h"
#include "server.h"

struct MHD_Connection;
struct MHD_Daemon;
typedef struct cxs_route cxs_route;

typedef enum cxs_method {
    CXS_M_GET = 1u << 0,
    CXS_M_HEAD = 1u << 1,
    CXS_M_POST = 1u << 2,
    CXS_M_PUT = 1u << 3,
    CXS_M_DELETE = 1u << 4,
    CXS_M_OPTIONS = 1u << 5,
    CXS_M_PATCH = 1u << 6,
    CXS_M_OTHER = 1u << 7
} cxs_method;

/* The methods whose body is read and handed to the handler. */
#define CXS_M_WITH_BODY (CXS_M_POST | CXS_M_PUT | CXS_M_PATCH)

/* One decoded query-string parameter; both strings are NUL-terminated
 * but may hold NUL bytes, so use the lengths. */
typedef struct cxs_param {
    char *key, *val;
    size_t klen, vlen;
} cxs_param;

typedef struct cxs_req {
    cxs_server *srv;
    cxs_snapshot *snap; /* held for the whole request */
    struct MHD_Connection *conn;
    char *raw_uri;   /* as sent: path?query */
    size_t path_len; /* raw path is raw_uri[0..path_len) */
    cxs_method method;
    const char *method_name;
    const cxs_route *route; /* NULL: none matched */
    int meili;              /* errors in Meilisearch's shape (the path is
                               one of its resources) */
    size_t route_index;     /* for metrics; nroutes when none */
    char *param;            /* decoded {id} of the route, or NULL */
    json_t *tenant;         /* a Meilisearch tenant token's searchRules,
                               or NULL (owned) */
    size_t param_len;
    cxs_param *params;
    size_t nparams;
    cxs_buf body;
    int body_too_large;
    int started, responded;
    int begun; /* checked and routed (begin) */
    int fatal; /* no response could be queued: close the connection */
    unsigned status;
    long hits; /* -1: not a search */
    double t0;
    char remote[64];
} cxs_req;

/* Starts libmicrohttpd on the configured address with the thread pool;
 * *port gets the port bound (useful with port 0). */
CXS_MUST_CHECK cxs_status cxs_http_start(cxs_server *s, struct MHD_Daemon **out,
                          unsigned *port, cxs_err *err);

/* Stops accepting, waits up to the grace time for open connections, then
 * stops the daemon (in-flight handlers finish first). Main thread only. */
void cxs_http_stop(cxs_server *s, struct MHD_Daemon *d);

/* The value of the first parameter named key, or NULL; *len (may be NULL)
 * gets its length. */
const char *cxs_req_param(const cxs_req *r, const char *key, size_t *len);

/* A request header (case-insensitive name), or NULL. */
const char *cxs_req_header(const cxs_req *r, const char *name);

/* Responses. Each queues exactly one response; later calls are ignored.
 * cxs_req_json takes over obj (a reference is stolen). */
void cxs_req_json(cxs_req *r, unsigned status, json_t *obj);
void cxs_req_error(cxs_req *r, unsigned status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A 4xx/5xx error from a cxs_status (invalid -> 400, not_found -> 404,
 * locked -> 503, too_large -> 413, others -> 500). */
void cxs_req_fail(cxs_req *r, cxs_status st, const char *msg);
/* Takes over data (malloc'ed). */
void cxs_req_bytes(cxs_req *r, unsigned status, const char *ctype, char *data,
                   size_t len);
/* Takes over fd. Static files go out with Cache-Control: no-cache. */
void cxs_req_file(cxs_req *r, int fd, size_t size, const char *ctype);
/* A static file assembled in memory, as cxs_req_file sends one; takes
 * over data (malloc'ed). */
void cxs_req_file_bytes(cxs_req *r, const char *ctype, char *data,
                        size_t len);
/* 405 with an Allow header listing the methods in mask. */
void cxs_req_not_allowed(cxs_req *r, unsigned mask);

/* A JSON string of s[0..n) with invalid UTF-8 replaced by U+FFFD; NULL s
 * gives JSON null. New reference (NULL only on OOM). */
json_t *cxs_json_str(const char *s, size_t n);
json_t *cxs_json_cstr(const char *s);

/* Decodes %XX escapes (and '+' as space when plus is nonzero) of
 * s[0..n) into a new string; *out_len gets its length. Returns NULL on
 * OOM or, when strict, on a malformed escape. */
char *cxs_http_decode(const char *s, size_t n, int plus, int strict,
                      size_t *out_len);

/* Splits a raw query string into decoded parameters (at most max). On
 * failure *out is NULL and *nout 0: CXS_ERR_TOO_LARGE when there are more
 * than max, CXS_ERR_NOMEM when out of memory; err says which. */
CXS_MUST_CHECK cxs_status cxs_http_parse_query(const char *q, size_t n,
                                               size_t max, cxs_param **out,
                                               size_t *nout, cxs_err *err);
void cxs_http_params_free(cxs_param *p, size_t n);

/* Whether Content-Type ct (may be NULL) names the media type want,
 * ignoring case, leading spaces and parameters ("; charset=utf-8"). */
bool cxs_http_media_is(const char *ct, const char *want);

#endif /* CXS_SERVER_HTTP_H */
