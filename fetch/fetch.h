/*
 * fetch.h - a polite HTTP client for live sources, on libcurl.
 *
 * One fetcher serves a run of passes over many sources. It bounds every
 * request (connect and total timeouts, a redirect cap, a body-size cap),
 * asks for gzip, names itself ("cxsearch/VERSION (+...)"), revalidates
 * with If-None-Match / If-Modified-Since, waits at least host_pause
 * between two requests to the same host, honours 429 Retry-After, and
 * retries 5xx answers and network errors with exponential backoff.
 *
 * Errors: a transfer that fails for good returns CXS_ERR_IO (network,
 * timeout, redirect loop, an HTTP status >= 400 after the retries) or
 * CXS_ERR_TOO_LARGE (body over the cap), with a message naming the URL
 * and the cause; res->status holds the last HTTP status (0 when none).
 * 404 and other 4xx answers are not retried.
 *
 * Thread-safety: a fetcher is used by one thread at a time; separate
 * fetchers may run in separate threads (curl_global_init is done once).
 * Memory: cxs_fetch_res owns its body and strings (cxs_fetch_res_release).
 */
#ifndef CXS_FETCH_H
#define CXS_FETCH_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"

typedef struct cxs_fetch_config {
    double connect_timeout; /* seconds; 0: 10 */
    double timeout;         /* whole transfer, seconds; 0: 30 */
    long max_redirects;     /* 0: 5 */
    size_t max_bytes;       /* body cap; 0: 8 MiB */
    double host_pause;      /* seconds between two requests to one host;
                               0: 1 (negative: none) */
    unsigned retries;       /* retries after a 5xx, 429 or network error;
                               0: 3 (use CXS_FETCH_NO_RETRY for none) */
    double backoff;         /* first retry's wait, doubled each time;
                               0: 2 */
    double max_wait;        /* the longest wait honoured (Retry-After or
                               backoff); a longer Retry-After fails the
                               fetch, saying when to come back; 0: 120 */
} cxs_fetch_config;

#define CXS_FETCH_NO_RETRY ((unsigned)-1)

/* Fills cfg with the defaults. */
void cxs_fetch_config_init(cxs_fetch_config *cfg);

typedef struct cxs_fetcher cxs_fetcher;

CXS_MUST_CHECK cxs_status cxs_fetcher_new(const cxs_fetch_config *cfg,
                                          cxs_fetcher **out, cxs_err *err);
void cxs_fetcher_free(cxs_fetcher *f);

/* Waits (host pause, backoff, Retry-After) end early, failing the fetch,
 * once *stop is nonzero (the daemon shutting down). NULL: never. */
void cxs_fetcher_set_stop(cxs_fetcher *f, const volatile int *stop);

typedef struct cxs_fetch_res {
    long status;        /* last HTTP status, 0 when none came */
    int not_modified;   /* 1: 304, the validators still hold */
    cxs_buf body;       /* the (decoded) body */
    char *content_type; /* or NULL */
    char *etag;         /* validators to send next time, or NULL */
    char *last_modified;
    char *final_url;    /* after redirects */
    unsigned attempts;  /* requests made */
    double retry_after; /* seconds asked by a 429/503 that was not waited
                           for (over max_wait), else 0 */
} cxs_fetch_res;

/* GETs url. etag and last_modified (may be NULL) make it conditional: a
 * 304 gives CXS_OK with res->not_modified = 1. A 2xx gives CXS_OK with the
 * body. Release res in every case. */
CXS_MUST_CHECK cxs_status cxs_fetch_get(cxs_fetcher *f, const char *url,
                                        const char *etag,
                                        const char *last_modified,
                                        cxs_fetch_res *res, cxs_err *err);

void cxs_fetch_res_release(cxs_fetch_res *res);

/* The User-Agent sent: "cxsearch/<CXS_VERSION> (+https://...)". */
const char *cxs_fetch_user_agent(void);

#endif /* CXS_FETCH_H */
