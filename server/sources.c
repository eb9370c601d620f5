/*
 * sources.c - the daemon's poller of live sources (sources.h).
 *
 * Facts that shaped it:
 * - One thread for all sources: passes are mostly waiting on the network,
 *   the fetcher's per-host pause must see every request to a host, and
 *   the writer is one anyway. The thread sleeps on a condition variable
 *   (monotonic clock) until the earliest source is due, a reload or stop.
 * - Jitter: each next poll is interval * (1 +- jitter), so that sources
 *   added together (and daemons started together) drift apart instead of
 *   hitting hosts in bursts.
 * - A source's status is kept by its address across reloads; the address
 *   is the source's identity in the index too (follow.h).
 * - Errors are a source's, never the daemon's: logged, counted, shown in
 *   /sources, and the source is polled again on its schedule (or after a
 *   429's Retry-After when that is later).
 */
#include "sources.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"
#include "follow.h"
#include "http.h"
#include "routes.h"
#include "server.h"

typedef struct src {
    char *url;
    double interval; /* seconds */
    double next_due; /* monotonic seconds */
    time_t last_attempt, last_success, last_error_at;
    char last_error[CXS_ERR_MSG_MAX];
    char last_report[512];
    char kind[16], channel[128];
    unsigned long long polls, errors, fetches, added, updated;
    int running;
} src;

struct cxs_sources {
    cxs_server *srv;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    src *v;
    size_t n;
    int reload;
    volatile int stop;            /* read by the fetcher to end waits early */
    unsigned long long fetch_gen; /* configuration the fetcher was built for */
    cxs_fetcher *f;
    unsigned seed;
};

/* ------------------------------------------------------------- list */

static void src_free(src *s) {
    free(s->url);
}

/* "URL [SECONDS]" into url (new string) and *interval. */
static char *parse_line(const char *line, double dflt, double *interval) {
    size_t n = strcspn(line, " \t");
    *interval = dflt;
    if (line[n])
        *interval = strtod(line + n, NULL);
    return cxs_strndup(line, n);
}

static src *find_in(src *v, size_t n, const char *url) {
    for (size_t i = 0; i < n; i++)
        if (v[i].url && strcmp(v[i].url, url) == 0)
            return &v[i];
    return NULL;
}

static src *find(cxs_sources *ss, const char *url) {
    return find_in(ss->v, ss->n, url);
}

/* Takes the list of the current configuration (under mu). */
static void apply_list(cxs_sources *ss) {
    cxs_snapshot *snap = cxs_server_snapshot_acquire(ss->srv);
    const cxs_server_config *c = snap->cfg;
    src *nv = calloc(c->nsources ? c->nsources : 1, sizeof *nv);
    size_t nn = 0;
    double now = cxs_server_now();
    for (size_t i = 0; nv && i < c->nsources; i++) {
        double iv;
        char *url = parse_line(c->sources[i], c->source_interval, &iv);
        if (!url || find_in(nv, nn, url)) {
            free(url);
            continue;
        }
        src *old = find(ss, url);
        if (old) {
            nv[nn] = *old;
            old->url = NULL; /* moved */
            free(url);
            if (nv[nn].next_due > now + iv)
                nv[nn].next_due = now + iv;
        } else {
            nv[nn].url = url;
            nv[nn].next_due = now;
        }
        nv[nn++].interval = iv;
    }
    cxs_server_snapshot_release(ss->srv, snap);
    if (!nv)
        return; /* out of memory: keep the old list */
    for (size_t i = 0; i < ss->n; i++)
        src_free(&ss->v[i]);
    free(ss->v);
    ss->v = nv;
    ss->n = nn;
}

/* ------------------------------------------------------------- a pass */

typedef struct lend {
    cxs_server *srv;
    cxs_snapshot *snap;
} lend;

static cxs_status lend_begin(void *ud, cxs_index **ix, cxs_err *err) {
    lend *l = ud;
    return cxs_server_writer_begin(l->srv, l->snap, ix, err);
}

static void lend_end(void *ud, int committed, int failed) {
    lend *l = ud;
    cxs_server_writer_done(l->srv, committed, failed);
}

static void fetch_config(const cxs_server_config *c, cxs_fetch_config *fc) {
    cxs_fetch_config_init(fc);
    fc->timeout = c->source_timeout;
    fc->connect_timeout = c->source_connect_timeout;
    fc->max_bytes = c->source_max_bytes;
    fc->host_pause = c->source_host_pause > 0 ? c->source_host_pause : -1;
    fc->retries = c->source_retries ? c->source_retries : CXS_FETCH_NO_RETRY;
}

/* The fetcher for this configuration (rebuilt after a reload). */
static cxs_fetcher *fetcher(cxs_sources *ss, cxs_snapshot *snap, cxs_err *err) {
    if (ss->f && ss->fetch_gen == snap->gen)
        return ss->f;
    cxs_fetch_config fc;
    fetch_config(snap->cfg, &fc);
    cxs_fetcher *f = NULL;
    if (cxs_fetcher_new(&fc, &f, err) != CXS_OK)
        return NULL;
    cxs_fetcher_set_stop(f, &ss->stop);
    cxs_fetcher_free(ss->f);
    ss->f = f;
    ss->fetch_gen = snap->gen;
    return f;
}

static void warn_cb(void *ud, const char *file, long line, const char *msg) {
    (void)ud;
    (void)line;
    cxs_log_msg("warning", "source %s: %s", file ? file : "?", msg);
}

/* One pass over url, holding nothing but the writer while it writes. */
static cxs_status poll_one(cxs_sources *ss, const char *url,
                           cxs_follow_report *rep, cxs_err *err) {
    cxs_snapshot *snap = cxs_server_snapshot_acquire(ss->srv);
    lend l = {ss->srv, snap};
    cxs_follow_writer w = {lend_begin, lend_end, &l};
    cxs_follow_opts o = {0};
    o.backfill = snap->cfg->source_backfill;
    o.max_pages = snap->cfg->source_max_pages;
    o.writer = &w;
    o.warn = warn_cb;
    memset(rep, 0, sizeof *rep);
    cxs_fetcher *f = fetcher(ss, snap, err);
    cxs_status rc =
        f ? cxs_follow_source(NULL, f, url, &o, rep, err) : CXS_ERR_INTERNAL;
    cxs_server_snapshot_release(ss->srv, snap);
    return rc;
}

/* Records a pass in the source's status (under mu). */
static void record(cxs_sources *ss, const char *url, cxs_status rc,
                   const cxs_follow_report *rep, const cxs_err *err,
                   time_t started) {
    src *s = find(ss, url);
    if (!s)
        return; /* removed by a reload meanwhile */
    s->running = 0;
    s->polls++;
    s->fetches += rep->pages + (rep->not_modified ? 1 : 0);
    s->added += rep->added;
    s->updated += rep->updated;
    s->last_attempt = started;
    snprintf(s->kind, sizeof s->kind, "%s", cxs_live_kind_name(rep->kind));
    if (rep->channel[0])
        snprintf(s->channel, sizeof s->channel, "%s", rep->channel);
    cxs_follow_report_line(rep, s->last_report, sizeof s->last_report);
    if (rc == CXS_OK) {
        s->last_success = time(NULL);
    } else {
        s->errors++;
        s->last_error_at = time(NULL);
        snprintf(s->last_error, sizeof s->last_error, "%s", err->msg);
    }
    double r = (double)rand_r(&ss->seed) / RAND_MAX * 2 - 1;
    cxs_snapshot *snap = cxs_server_snapshot_acquire(ss->srv);
    double wait = s->interval * (1 + snap->cfg->source_jitter * r);
    cxs_server_snapshot_release(ss->srv, snap);
    if (rep->retry_after > wait)
        wait = rep->retry_after;
    s->next_due = cxs_server_now() + (wait < 1 ? 1 : wait);
}

/* ----------------------------------------------------------- thread */

static src *earliest(cxs_sources *ss) {
    src *best = NULL;
    for (size_t i = 0; i < ss->n; i++)
        if (!best || ss->v[i].next_due < best->next_due)
            best = &ss->v[i];
    return best;
}

static void wait_until(cxs_sources *ss, double due) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double left = due - cxs_server_now();
    if (left > 3600)
        left = 3600;
    double at = (double)ts.tv_sec + ts.tv_nsec / 1e9 + left;
    ts.tv_sec = (time_t)at;
    ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
    pthread_cond_timedwait(&ss->cv, &ss->mu, &ts);
}

static void run_due(cxs_sources *ss, src *s) {
    char *url = cxs_strndup(s->url, strlen(s->url));
    if (!url)
        return;
    s->running = 1;
    time_t started = time(NULL);
    pthread_mutex_unlock(&ss->mu);
    cxs_follow_report rep;
    cxs_err err = {0};
    cxs_status rc = poll_one(ss, url, &rep, &err);
    char line[512];
    cxs_follow_report_line(&rep, line, sizeof line);
    if (rc == CXS_OK)
        cxs_log_msg("info", "source %s: %s", url, line);
    else
        cxs_log_msg("error", "source %s failed: %s", url, err.msg);
    pthread_mutex_lock(&ss->mu);
    record(ss, url, rc, &rep, &err, started);
    free(url);
}

static void *run(void *ud) {
    cxs_sources *ss = ud;
    pthread_mutex_lock(&ss->mu);
    while (!ss->stop) {
        if (ss->reload) {
            ss->reload = 0;
            apply_list(ss);
        }
        src *s = earliest(ss);
        if (!s || s->next_due > cxs_server_now())
            wait_until(ss, s ? s->next_due : cxs_server_now() + 3600);
        else
            run_due(ss, s);
    }
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

cxs_status cxs_sources_start(cxs_server *s, cxs_sources **out, cxs_err *err) {
    *out = NULL;
    cxs_sources *ss = calloc(1, sizeof *ss);
    if (!ss)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    ss->srv = s;
    ss->reload = 1;
    ss->seed = (unsigned)time(NULL) ^ (unsigned)(size_t)ss;
    pthread_mutex_init(&ss->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ss->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ss->th, NULL, run, ss) != 0) {
        cxs_sources_stop(ss);
        return cxs_err_set(err, CXS_ERR_INTERNAL, "cannot start the poller");
    }
    ss->started = 1;
    *out = ss;
    return CXS_OK;
}

void cxs_sources_stop(cxs_sources *ss) {
    if (!ss)
        return;
    pthread_mutex_lock(&ss->mu);
    ss->stop = 1;
    pthread_cond_broadcast(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    if (ss->started)
        pthread_join(ss->th, NULL);
    for (size_t i = 0; i < ss->n; i++)
        src_free(&ss->v[i]);
    free(ss->v);
    cxs_fetcher_free(ss->f);
    pthread_cond_destroy(&ss->cv);
    pthread_mutex_destroy(&ss->mu);
    free(ss);
}

void cxs_sources_reload(cxs_sources *ss) {
    if (!ss)
        return;
    pthread_mutex_lock(&ss->mu);
    ss->reload = 1;
    pthread_cond_broadcast(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
}

/* ----------------------------------------------------------- status */

static json_t *when(time_t t) {
    if (!t)
        return json_null();
    char buf[21];
    cxs_date_format_utc(t, buf);
    return json_string(buf);
}

static json_t *src_json(const src *s, double now_mono, time_t now) {
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(s->url));
    json_object_set_new(o, "kind",
                        json_string(s->kind[0] ? s->kind : "unknown"));
    json_object_set_new(o, "channel",
                        s->channel[0] ? json_string(s->channel) : json_null());
    json_object_set_new(o, "interval_seconds", json_real(s->interval));
    json_object_set_new(o, "running", json_boolean(s->running));
    json_object_set_new(o, "last_attempt", when(s->last_attempt));
    json_object_set_new(o, "last_success", when(s->last_success));
    json_object_set_new(o, "last_error",
                        s->last_error[0] ? json_string(s->last_error)
                                         : json_null());
    json_object_set_new(o, "last_error_at", when(s->last_error_at));
    json_object_set_new(o, "last_report",
                        s->last_report[0] ? json_string(s->last_report)
                                          : json_null());
    double left = s->next_due - now_mono;
    json_object_set_new(o, "next_poll",
                        when(now + (time_t)(left > 0 ? ceil(left) : 0)));
    json_object_set_new(o, "polls", json_integer((json_int_t)s->polls));
    json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
    json_object_set_new(o, "fetches", json_integer((json_int_t)s->fetches));
    json_object_set_new(o, "posts_added", json_integer((json_int_t)s->added));
    json_object_set_new(o, "posts_updated",
                        json_integer((json_int_t)s->updated));
    return o;
}

json_t *cxs_sources_json(cxs_sources *ss) {
    json_t *a = json_array();
    if (!ss || !a)
        return a;
    pthread_mutex_lock(&ss->mu);
    double mono = cxs_server_now();
    time_t now = time(NULL);
    for (size_t i = 0; i < ss->n; i++)
        json_array_append_new(a, src_json(&ss->v[i], mono, now));
    pthread_mutex_unlock(&ss->mu);
    return a;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(cxs_buf *b, const char *v) {
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            cxs_buf_appendc(b, '\\');
        if (*v == '\n')
            cxs_buf_appends(b, "\\n");
        else
            cxs_buf_appendc(b, *v);
    }
}

static void counter(cxs_buf *b, cxs_sources *ss, const char *name,
                    const char *help, size_t off) {
    cxs_buf_appendf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < ss->n; i++) {
        cxs_buf_appendf(b, "%s{source=\"", name);
        label(b, ss->v[i].url);
        cxs_buf_appendf(b, "\"} %llu\n",
                        *(unsigned long long *)((char *)&ss->v[i] + off));
    }
}

cxs_status cxs_sources_metrics(cxs_sources *ss, cxs_buf *b) {
    if (!ss)
        return CXS_OK;
    pthread_mutex_lock(&ss->mu);
    counter(b, ss, "cxsearch_source_polls_total",
            "Passes over each followed source.", offsetof(src, polls));
    counter(b, ss, "cxsearch_source_errors_total",
            "Passes that failed, per source.", offsetof(src, errors));
    counter(b, ss, "cxsearch_source_fetches_total",
            "Pages fetched (or revalidated) per source.",
            offsetof(src, fetches));
    counter(b, ss, "cxsearch_source_posts_added_total",
            "New posts written from each source.", offsetof(src, added));
    counter(b, ss, "cxsearch_source_posts_updated_total",
            "Posts replaced by an edited copy, per source.",
            offsetof(src, updated));
    cxs_buf_appends(b, "# HELP cxsearch_source_last_success_timestamp_seconds "
                       "When each source was last followed without error.\n"
                       "# TYPE cxsearch_source_last_success_timestamp_seconds "
                       "gauge\n");
    for (size_t i = 0; i < ss->n; i++) {
        cxs_buf_appends(b, "cxsearch_source_last_success_timestamp_seconds"
                           "{source=\"");
        label(b, ss->v[i].url);
        cxs_buf_appendf(b, "\"} %lld\n", (long long)ss->v[i].last_success);
    }
    pthread_mutex_unlock(&ss->mu);
    return b->data || !ss->n ? CXS_OK : CXS_ERR_NOMEM;
}

/* GET /sources (read key). */
void cxs_api_sources(cxs_req *r) {
    json_t *o = json_object();
    json_object_set_new(o, "sources", cxs_sources_json(r->srv->sources));
    cxs_req_json(r, 200, o);
}
