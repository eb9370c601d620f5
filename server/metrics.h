/*
 * metrics.h - counters for GET /metrics (Prometheus text format 0.0.4).
 *
 * Facts that shaped it: every request updates them from any pool thread,
 * so they are relaxed atomics in arrays fixed at start-up (routes x status
 * classes x latency buckets): no lock and no allocation per request.
 * Gauges that live in the index (posts, revision) are read at scrape time
 * by the caller and passed in.
 *
 * Ownership: cxs_metrics_new allocates; cxs_metrics_free (NULL allowed).
 * Thread-safety: all functions but new/free may be called concurrently.
 */
#ifndef CXS_SERVER_METRICS_H
#define CXS_SERVER_METRICS_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"

typedef struct cxs_metrics cxs_metrics;

typedef enum cxs_metric {
    CXS_M_POSTS_ADDED,
    CXS_M_POSTS_UPDATED,
    CXS_M_POSTS_UNCHANGED,
    CXS_M_POSTS_DELETED,
    CXS_M_COMMITS,
    CXS_M_READER_OPENS,
    CXS_M_READER_REOPENS,
    CXS_M_RATE_LIMITED,
    CXS_M_COUNT
} cxs_metric;

typedef struct cxs_metrics_gauges {
    int index_ok; /* 0: posts/revision unknown (index unreadable) */
    unsigned long long posts, revision, disk_bytes;
    double uptime_seconds;
    unsigned long long generation;
} cxs_metrics_gauges;

/* routes: names of the routes (borrowed, must outlive the metrics); route
 * index n (== nroutes) is used for requests that matched none. */
CXS_MUST_CHECK
cxs_status cxs_metrics_new(const char *const *routes, size_t nroutes,
                           cxs_metrics **out, cxs_err *err);
void cxs_metrics_free(cxs_metrics *m);

void cxs_metrics_request(cxs_metrics *m, size_t route, unsigned status,
                         double seconds);
void cxs_metrics_add(cxs_metrics *m, cxs_metric which, unsigned long long n);

CXS_MUST_CHECK
cxs_status cxs_metrics_render(cxs_metrics *m, const cxs_metrics_gauges *g,
                              cxs_buf *out);

#endif /* CXS_SERVER_METRICS_H */
