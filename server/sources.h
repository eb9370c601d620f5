/*
 * sources.h - the daemon follows live sources ([sources] of the
 * configuration): one thread polls each source on its interval, with
 * jitter, through follow/ and the daemon's one writer, and keeps each
 * source's status for GET /sources and /metrics.
 *
 * Facts that shaped it: polling must never hold up the API, so the thread
 * fetches holding nothing and takes the writer (cxs_server_writer_begin)
 * only to write a page and commit; SIGHUP swaps the list in (sources kept
 * by address keep their status and schedule; new ones are polled at
 * once); shutdown raises a flag that ends waits and transfers in flight.
 *
 * Thread-safety: cxs_sources_reload, _json and _metrics may be called from
 * any thread; start and stop from the main thread.
 * Memory: json and metrics output belong to the caller.
 */
#ifndef CXS_SERVER_SOURCES_H
#define CXS_SERVER_SOURCES_H

#include <jansson.h>

#include "cxs_buf.h"
#include "cxs_err.h"

typedef struct cxs_server cxs_server;
typedef struct cxs_sources cxs_sources;

/* Starts the poller over s's configuration (a thread even with no
 * sources, so that a reload may add some). */
CXS_MUST_CHECK cxs_status cxs_sources_start(cxs_server *s, cxs_sources **out,
                                            cxs_err *err);

/* Stops and joins the poller and frees it (NULL allowed). */
void cxs_sources_stop(cxs_sources *ss);

/* Takes the source list of the server's current configuration. */
void cxs_sources_reload(cxs_sources *ss);

/* The sources and their status, a new JSON array. */
json_t *cxs_sources_json(cxs_sources *ss);

/* Appends per-source counters in Prometheus text format. */
CXS_MUST_CHECK cxs_status cxs_sources_metrics(cxs_sources *ss, cxs_buf *out);

#endif /* CXS_SERVER_SOURCES_H */
