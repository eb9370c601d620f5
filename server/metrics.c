/*
 * metrics.c - lock-free request counters and a latency histogram per route
 * (see metrics.h).
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

static const unsigned STATUSES[] = {200, 201, 204, 304, 400, 401, 403, 404,
                                    405, 409, 413, 414, 415, 429, 500, 503};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0] + 1) /* + "other" */

static const double BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1,    2.5,   5};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0] + 1) /* + +Inf */

typedef struct route_stats {
    atomic_ullong by_status[NSTATUS];
    atomic_ullong buckets[NBUCKETS]; /* not cumulative; summed at render */
    atomic_ullong sum_us;
} route_stats;

struct cxs_metrics {
    const char *const *names;
    size_t nroutes; /* plus one slot for "none" */
    route_stats *routes;
    atomic_ullong counters[CXS_M_COUNT];
};

cxs_status cxs_metrics_new(const char *const *routes, size_t nroutes,
                           cxs_metrics **out, cxs_err *err) {
    cxs_metrics *m = calloc(1, sizeof *m);
    if (m)
        m->routes = calloc(nroutes + 1, sizeof *m->routes);
    if (!m || !m->routes) {
        free(m);
        *out = NULL;
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    /* calloc's zero bytes are valid initial atomics on every platform we
     * build for (lock-free 64-bit atomics). */
    m->names = routes;
    m->nroutes = nroutes;
    *out = m;
    return CXS_OK;
}

void cxs_metrics_free(cxs_metrics *m) {
    if (!m)
        return;
    free(m->routes);
    free(m);
}

static size_t status_slot(unsigned status) {
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (STATUSES[i] == status)
            return i;
    return NSTATUS - 1;
}

void cxs_metrics_request(cxs_metrics *m, size_t route, unsigned status,
                         double seconds) {
    if (route > m->nroutes)
        route = m->nroutes;
    route_stats *r = &m->routes[route];
    size_t b = 0;
    while (b + 1 < NBUCKETS && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&r->by_status[status_slot(status)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

void cxs_metrics_add(cxs_metrics *m, cxs_metric which, unsigned long long n) {
    if (which < CXS_M_COUNT)
        atomic_fetch_add_explicit(&m->counters[which], n, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *a) {
    return atomic_load_explicit(a, memory_order_relaxed);
}

static const char *route_name(const cxs_metrics *m, size_t i) {
    return i < m->nroutes ? m->names[i] : "none";
}

static cxs_status render_requests(cxs_metrics *m, cxs_buf *o) {
    cxs_status st = cxs_buf_appends(
        o, "# HELP cxsearch_requests_total HTTP requests by route and "
           "status.\n# TYPE cxsearch_requests_total counter\n");
    for (size_t r = 0; st == CXS_OK && r <= m->nroutes; r++)
        for (size_t s = 0; st == CXS_OK && s < NSTATUS; s++) {
            unsigned long long v = get(&m->routes[r].by_status[s]);
            if (v == 0)
                continue;
            if (s + 1 < NSTATUS)
                st = cxs_buf_appendf(o,
                                     "cxsearch_requests_total{route=\"%s\","
                                     "status=\"%u\"} %llu\n",
                                     route_name(m, r), STATUSES[s], v);
            else
                st = cxs_buf_appendf(o,
                                     "cxsearch_requests_total{route=\"%s\","
                                     "status=\"other\"} %llu\n",
                                     route_name(m, r), v);
        }
    return st;
}

static cxs_status render_histogram(cxs_metrics *m, size_t r, cxs_buf *o) {
    const char *n = route_name(m, r);
    unsigned long long cum = 0;
    cxs_status st = CXS_OK;
    for (size_t b = 0; st == CXS_OK && b < NBUCKETS; b++) {
        cum += get(&m->routes[r].buckets[b]);
        if (b + 1 < NBUCKETS)
            st = cxs_buf_appendf(o,
                                 "cxsearch_request_duration_seconds_bucket{"
                                 "route=\"%s\",le=\"%g\"} %llu\n",
                                 n, BUCKETS[b], cum);
        else
            st = cxs_buf_appendf(o,
                                 "cxsearch_request_duration_seconds_bucket{"
                                 "route=\"%s\",le=\"+Inf\"} %llu\n",
                                 n, cum);
    }
    if (st == CXS_OK)
        st = cxs_buf_appendf(
            o,
            "cxsearch_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
            "cxsearch_request_duration_seconds_count{route=\"%s\"} %llu\n",
            n, (double)get(&m->routes[r].sum_us) / 1e6, n, cum);
    return st;
}

static cxs_status render_latency(cxs_metrics *m, cxs_buf *o) {
    cxs_status st = cxs_buf_appends(
        o, "# HELP cxsearch_request_duration_seconds Time from request to "
           "response queued.\n# TYPE cxsearch_request_duration_seconds "
           "histogram\n");
    for (size_t r = 0; st == CXS_OK && r <= m->nroutes; r++) {
        unsigned long long any = 0;
        for (size_t b = 0; b < NBUCKETS; b++)
            any += get(&m->routes[r].buckets[b]);
        if (any)
            st = render_histogram(m, r, o);
    }
    return st;
}

static cxs_status render_counters(cxs_metrics *m, cxs_buf *o) {
    static const char *const ops[] = {"added", "updated", "unchanged",
                                      "deleted"};
    cxs_status st = cxs_buf_appends(
        o, "# HELP cxsearch_posts_written_total Posts written through the "
           "API, by outcome.\n# TYPE cxsearch_posts_written_total counter\n");
    for (size_t i = 0; st == CXS_OK && i < 4; i++)
        st =
            cxs_buf_appendf(o, "cxsearch_posts_written_total{op=\"%s\"} %llu\n",
                            ops[i], get(&m->counters[i]));
    if (st == CXS_OK)
        st = cxs_buf_appendf(o,
                             "# TYPE cxsearch_commits_total counter\n"
                             "cxsearch_commits_total %llu\n"
                             "# TYPE cxsearch_reader_opens_total counter\n"
                             "cxsearch_reader_opens_total %llu\n"
                             "# TYPE cxsearch_reader_reopens_total counter\n"
                             "cxsearch_reader_reopens_total %llu\n"
                             "# TYPE cxsearch_rate_limited_total counter\n"
                             "cxsearch_rate_limited_total %llu\n",
                             get(&m->counters[CXS_M_COMMITS]),
                             get(&m->counters[CXS_M_READER_OPENS]),
                             get(&m->counters[CXS_M_READER_REOPENS]),
                             get(&m->counters[CXS_M_RATE_LIMITED]));
    return st;
}

static cxs_status render_gauges(const cxs_metrics_gauges *g, cxs_buf *o) {
    cxs_status st = cxs_buf_appendf(
        o,
        "# HELP cxsearch_uptime_seconds Seconds since the daemon started.\n"
        "# TYPE cxsearch_uptime_seconds gauge\n"
        "cxsearch_uptime_seconds %.3f\n"
        "# HELP cxsearch_generation Index changes seen by the daemon "
        "(writes and reloads).\n# TYPE cxsearch_generation counter\n"
        "cxsearch_generation %llu\n",
        g->uptime_seconds, g->generation);
    if (st == CXS_OK && g->index_ok)
        st = cxs_buf_appendf(
            o,
            "# HELP cxsearch_posts Posts in the index.\n"
            "# TYPE cxsearch_posts gauge\ncxsearch_posts %llu\n"
            "# HELP cxsearch_index_revision Revision of the index read.\n"
            "# TYPE cxsearch_index_revision gauge\n"
            "cxsearch_index_revision %llu\n"
            "# TYPE cxsearch_index_disk_bytes gauge\n"
            "cxsearch_index_disk_bytes %llu\n",
            g->posts, g->revision, g->disk_bytes);
    return st;
}

cxs_status cxs_metrics_render(cxs_metrics *m, const cxs_metrics_gauges *g,
                              cxs_buf *out) {
    cxs_status st = render_requests(m, out);
    if (st == CXS_OK)
        st = render_latency(m, out);
    if (st == CXS_OK)
        st = render_counters(m, out);
    if (st == CXS_OK)
        st = render_gauges(g, out);
    return st;
}
