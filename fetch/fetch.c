/*
 * fetch.c - the polite client of fetch.h on libcurl's easy interface.
 *
 * Facts that shaped it:
 * - Sources are third-party servers, some slow, some broken, some
 *   hostile: every limit is set on the handle (timeouts, redirects,
 *   protocols http/https only, the body cap checked as bytes arrive, not
 *   after), so one source can cost at most timeout seconds and max_bytes
 *   of memory, and a redirect cannot lead to file:// or another scheme.
 * - Politeness is per host (scheme, host and port): t.me pages of many
 *   channels come from one host, and a second request to it waits out
 *   host_pause since the last one. Hosts are few, so a short array with
 *   a linear search is enough.
 * - 429 and 503 may say when to come back (Retry-After: seconds or an
 *   HTTP date); a wait over max_wait is not slept through, it fails the
 *   fetch with retry_after set so that a scheduler can come back later.
 *   5xx and network errors are retried after backoff, 2x each time.
 * - Sleeps are sliced so that a stop flag (the daemon shutting down)
 *   ends them within a tenth of a second.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef CXS_VERSION
#define CXS_VERSION "0"
#endif

#define MAX_HOSTS 64

typedef struct host_seen {
    char key[160];
    double at; /* monotonic seconds of the last request's end */
} host_seen;

struct cxs_fetcher {
    cxs_fetch_config cfg;
    CURL *curl;
    host_seen hosts[MAX_HOSTS];
    size_t nhosts;
    const volatile int *stop;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *cxs_fetch_user_agent(void) {
    return "cxsearch/" CXS_VERSION " (+https://github.com/cxsearch; follows "
           "public channels and feeds)";
}

void cxs_fetch_config_init(cxs_fetch_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout = 10;
    cfg->timeout = 30;
    cfg->max_redirects = 5;
    cfg->max_bytes = 8u << 20;
    cfg->host_pause = 1;
    cfg->retries = 3;
    cfg->backoff = 2;
    cfg->max_wait = 120;
}

static void fill_defaults(cxs_fetch_config *c) {
    cxs_fetch_config d;
    cxs_fetch_config_init(&d);
    if (c->connect_timeout <= 0)
        c->connect_timeout = d.connect_timeout;
    if (c->timeout <= 0)
        c->timeout = d.timeout;
    if (c->max_redirects <= 0)
        c->max_redirects = d.max_redirects;
    if (!c->max_bytes)
        c->max_bytes = d.max_bytes;
    if (c->host_pause == 0)
        c->host_pause = d.host_pause;
    if (c->retries == 0)
        c->retries = d.retries;
    else if (c->retries == CXS_FETCH_NO_RETRY)
        c->retries = 0;
    if (c->backoff <= 0)
        c->backoff = d.backoff;
    if (c->max_wait <= 0)
        c->max_wait = d.max_wait;
}

cxs_status cxs_fetcher_new(const cxs_fetch_config *cfg, cxs_fetcher **out,
                           cxs_err *err) {
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return cxs_err_set(err, CXS_ERR_INTERNAL, "libcurl: %s",
                           curl_easy_strerror(curl_init_rc));
    cxs_fetcher *f = calloc(1, sizeof *f);
    if (!f)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (cfg)
        f->cfg = *cfg;
    fill_defaults(&f->cfg);
    f->curl = curl_easy_init();
    if (!f->curl) {
        free(f);
        return cxs_err_set(err, CXS_ERR_INTERNAL, "libcurl: no handle");
    }
    *out = f;
    return CXS_OK;
}

void cxs_fetcher_free(cxs_fetcher *f) {
    if (!f)
        return;
    curl_easy_cleanup(f->curl);
    free(f);
}

void cxs_fetcher_set_stop(cxs_fetcher *f, const volatile int *stop) {
    f->stop = stop;
}

void cxs_fetch_res_release(cxs_fetch_res *res) {
    if (!res)
        return;
    cxs_buf_release(&res->body);
    free(res->content_type);
    free(res->etag);
    free(res->last_modified);
    free(res->final_url);
    memset(res, 0, sizeof *res);
}

/* ------------------------------------------------------------- time */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps s seconds in slices; false when the stop flag ended it. */
static bool nap(cxs_fetcher *f, double s) {
    double until = now_s() + s;
    for (;;) {
        if (f->stop && *f->stop)
            return false;
        double left = until - now_s();
        if (left <= 0)
            return true;
        double step = left < 0.1 ? left : 0.1;
        struct timespec ts = {(time_t)step,
                              (long)((step - (time_t)step) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

/* "http://host:port" of url into key. */
static void host_key(const char *url, char *key, size_t cap) {
    const char *p = strstr(url, "://");
    size_t n = p ? (size_t)(p - url) + 3 + strcspn(p + 3, "/?#") : strlen(url);
    if (n >= cap)
        n = cap - 1;
    memcpy(key, url, n);
    key[n] = '\0';
}

static host_seen *host_of(cxs_fetcher *f, const char *url) {
    char key[160];
    host_key(url, key, sizeof key);
    for (size_t i = 0; i < f->nhosts; i++)
        if (strcmp(f->hosts[i].key, key) == 0)
            return &f->hosts[i];
    size_t i = f->nhosts < MAX_HOSTS ? f->nhosts++ : 0; /* reuse the first */
    snprintf(f->hosts[i].key, sizeof f->hosts[i].key, "%s", key);
    f->hosts[i].at = -1e9;
    return &f->hosts[i];
}

/* Waits out the host's pause; false when stopped. */
static bool be_polite(cxs_fetcher *f, host_seen *h) {
    if (f->cfg.host_pause <= 0)
        return true;
    double wait = h->at + f->cfg.host_pause - now_s();
    return wait <= 0 || nap(f, wait);
}

/* ---------------------------------------------------------- transfer */

typedef struct xfer {
    cxs_fetch_res *res;
    size_t max;
    bool too_large;
    char *retry_after_hdr;
} xfer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->res->body.len + n > x->max ||
        cxs_buf_append(&x->res->body, ptr, n) != CXS_OK) {
        x->too_large = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

static void keep_header(char **dst, const char *v, size_t n) {
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    free(*dst);
    *dst = cxs_strndup(v, n);
}

static size_t on_header(char *h, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(h, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the last one's. */
        free(x->res->etag), x->res->etag = NULL;
        free(x->res->last_modified), x->res->last_modified = NULL;
        free(x->retry_after_hdr), x->retry_after_hdr = NULL;
    } else if (n > 5 && strncasecmp(h, "ETag:", 5) == 0) {
        keep_header(&x->res->etag, h + 5, n - 5);
    } else if (n > 14 && strncasecmp(h, "Last-Modified:", 14) == 0) {
        keep_header(&x->res->last_modified, h + 14, n - 14);
    } else if (n > 12 && strncasecmp(h, "Retry-After:", 12) == 0) {
        keep_header(&x->retry_after_hdr, h + 12, n - 12);
    }
    return n;
}

/* Seconds a Retry-After asks for (seconds or an HTTP date); -1 none. */
static double retry_after_s(const char *v) {
    if (!v || !*v)
        return -1;
    char *end;
    double s = strtod(v, &end);
    if (end != v && *end == '\0')
        return s < 0 ? 0 : s;
    time_t t = curl_getdate(v, NULL);
    if (t < 0)
        return -1;
    double d = difftime(t, time(NULL));
    return d < 0 ? 0 : d;
}

/* Ends a transfer in flight when the stop flag is raised. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un) {
    (void)dt, (void)dn, (void)ut, (void)un;
    const cxs_fetcher *f = ud;
    return f->stop && *f->stop ? 1 : 0;
}

static void set_options(cxs_fetcher *f, const char *url, xfer *x,
                        struct curl_slist *hdrs) {
    CURL *c = f->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, f->cfg.max_redirects);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(f->cfg.connect_timeout * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(f->cfg.timeout * 1000));
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* all curl decodes */
    curl_easy_setopt(c, CURLOPT_USERAGENT, cxs_fetch_user_agent());
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)f->cfg.max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
}

static struct curl_slist *conditional(const char *etag, const char *lm) {
    struct curl_slist *h = NULL;
    char line[600];
    if (etag && *etag) {
        snprintf(line, sizeof line, "If-None-Match: %s", etag);
        h = curl_slist_append(h, line);
    }
    if (lm && *lm) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", lm);
        h = curl_slist_append(h, line);
    }
    return h;
}

/* One request. Returns the curl code; fills res (status, headers). */
static CURLcode one_request(cxs_fetcher *f, const char *url, const char *etag,
                            const char *lm, cxs_fetch_res *res, xfer *x) {
    cxs_buf_reset(&res->body);
    x->too_large = false;
    struct curl_slist *h = conditional(etag, lm);
    set_options(f, url, x, h);
    CURLcode rc = curl_easy_perform(f->curl);
    curl_slist_free_all(h);
    res->attempts++;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &res->status);
    char *ct = NULL, *eff = NULL;
    curl_easy_getinfo(f->curl, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(f->curl, CURLINFO_EFFECTIVE_URL, &eff);
    free(res->content_type);
    res->content_type = ct ? cxs_strndup(ct, strlen(ct)) : NULL;
    free(res->final_url);
    res->final_url = eff ? cxs_strndup(eff, strlen(eff)) : NULL;
    return rc;
}

static cxs_status curl_failure(cxs_fetcher *f, const char *url, CURLcode rc,
                               xfer *x, cxs_err *err) {
    if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return cxs_err_set(err, CXS_ERR_TOO_LARGE,
                           "%s: body over the %zu-byte limit", url,
                           f->cfg.max_bytes);
    if (rc == CURLE_TOO_MANY_REDIRECTS)
        return cxs_err_set(err, CXS_ERR_IO,
                           "%s: redirect loop (more than %ld redirects)", url,
                           f->cfg.max_redirects);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return cxs_err_set(err, CXS_ERR_IO, "%s: timed out (%s)", url,
                           curl_easy_strerror(rc));
    return cxs_err_set(err, CXS_ERR_IO, "%s: %s", url, curl_easy_strerror(rc));
}

/* What to do after an attempt: 0 done, 1 retry after *wait seconds. */
static int next_step(cxs_fetcher *f, CURLcode rc, xfer *x, unsigned attempt,
                     double *wait) {
    long st = x->res->status;
    bool transient =
        (rc != CURLE_OK && !x->too_large && rc != CURLE_FILESIZE_EXCEEDED &&
         rc != CURLE_TOO_MANY_REDIRECTS && rc != CURLE_UNSUPPORTED_PROTOCOL &&
         rc != CURLE_URL_MALFORMAT) ||
        (rc == CURLE_OK && (st == 429 || st >= 500));
    if (!transient || attempt >= f->cfg.retries)
        return 0;
    double ra = rc == CURLE_OK ? retry_after_s(x->retry_after_hdr) : -1;
    *wait = ra >= 0 ? ra
                    : f->cfg.backoff *
                          (double)(1u << (attempt < 16 ? attempt : 16));
    if (*wait > f->cfg.max_wait) {
        if (ra >= 0) {
            x->res->retry_after = ra;
            return 0;
        }
        *wait = f->cfg.max_wait;
    }
    return 1;
}

cxs_status cxs_fetch_get(cxs_fetcher *f, const char *url, const char *etag,
                         const char *last_modified, cxs_fetch_res *res,
                         cxs_err *err) {
    memset(res, 0, sizeof *res);
    cxs_buf_init(&res->body, f->cfg.max_bytes + 1);
    xfer x = {res, f->cfg.max_bytes, false, NULL};
    host_seen *h = host_of(f, url);
    CURLcode rc = CURLE_OK;
    for (unsigned attempt = 0;; attempt++) {
        if (!be_polite(f, h)) {
            free(x.retry_after_hdr);
            return cxs_err_set(err, CXS_ERR_IO, "%s: stopped", url);
        }
        rc = one_request(f, url, etag, last_modified, res, &x);
        h->at = now_s();
        double wait = 0;
        if (!next_step(f, rc, &x, attempt, &wait))
            break;
        if (!nap(f, wait)) {
            free(x.retry_after_hdr);
            return cxs_err_set(err, CXS_ERR_IO, "%s: stopped", url);
        }
    }
    if (res->status == 429 || res->status == 503) {
        double ra = retry_after_s(x.retry_after_hdr);
        if (ra > 0 && res->retry_after == 0)
            res->retry_after = ra;
    }
    free(x.retry_after_hdr);
    if (rc != CURLE_OK)
        return curl_failure(f, url, rc, &x, err);
    if (res->status == 304) {
        res->not_modified = 1;
        return CXS_OK;
    }
    if (res->status >= 400 || res->status < 200)
        return cxs_err_set(err, CXS_ERR_IO, "%s: HTTP %ld%s", url, res->status,
                           res->retry_after > 0 ? " (asked to retry later)"
                                                : "");
    return CXS_OK;
}
