/*
 * server.h - the state cxsearchd shares between its pool threads: the
 * configuration snapshot, one index reader per thread, the one writer,
 * the generation counter, metrics, logs and the rate limiter.
 *
 * Facts that shaped it:
 *  - A cxs_index is not thread-safe (index.h), and opening one builds an
 *    analyzer (ICU, Snowball, Hunspell): too slow per request. Each pool
 *    thread keeps its own reader in a slot created at its first request;
 *    slots are registered here so shutdown can close them after the
 *    threads have stopped.
 *  - So that the first request on each thread does not pay that open
 *    (some 150 ms, long after the daemon said it was listening), one
 *    thread started once the daemon listens opens readers ahead from the
 *    current snapshot, until every pool thread has a slot or a reader
 *    waits for it, and leaves them in a stash (guarded by slots_mu). A
 *    thread's first call takes one when one waits, else opens its own as
 *    before; a stashed reader of an older snapshot, generation or
 *    revision is rebuilt or reopened like any stale slot. Any thread
 *    calling cxs_server_reader may take one (the Meilisearch task
 *    worker too), so this is a best effort, never a requirement.
 *  - A reader moves to the newest revision (cxs_index_reopen) when the
 *    shared generation changed (a commit through the API, or SIGHUP), and
 *    otherwise at most every reopen_interval_ms, which is how commits made
 *    by another process (`cxsearch index`) become visible.
 *  - SIGHUP swaps in a new configuration while requests run: a request
 *    holds the snapshot it started with (refcounted); a reader built with
 *    an older snapshot is rebuilt, so new synonyms and BM25 settings take
 *    effect without re-indexing.
 *  - Writes: one writer, opened at the first write (so `cxsearch index`
 *    may run while nobody writes through the API), guarded by a mutex; a
 *    failed write closes it, which discards what was not committed. Over
 *    several shards (local or remote) it routes each post to its shard
 *    (cxs_index_open_writers); a remote shard that failed is reconnected
 *    with the writer at the next write.
 *  - Remote shards (index.h): each reader has its own connections; a
 *    shard down is retried at the reader's next check and by /health.
 *
 * Thread-safety: every function here may be called from any pool thread
 * unless it says otherwise.
 */
#ifndef CXS_SERVER_H
#define CXS_SERVER_H

#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "cxs_err.h"
#include "index.h"
#include "log.h"
#include "metrics.h"

/* A configuration snapshot with what is derived from it. */
typedef struct cxs_snapshot {
    cxs_server_config *cfg; /* owned */
    cxs_index_config ixcfg; /* points into cfg */
    unsigned long long gen; /* 1, 2, ... one per load */
    int refs;               /* guarded by cxs_server.cfg_mu */
} cxs_snapshot;

typedef struct cxs_reader_slot cxs_reader_slot;
typedef struct cxs_sources cxs_sources;
typedef struct cxs_ratelimit cxs_ratelimit;
typedef struct cxs_meili_tasks cxs_meili_tasks;

typedef struct cxs_server {
    cxs_server_args args;

    pthread_mutex_t cfg_mu;
    cxs_snapshot *snap; /* current; guarded by cfg_mu */

    atomic_ullong generation; /* bumped after a commit or a reload */
    atomic_ullong newest_rev; /* newest index revision any reader saw */

    pthread_mutex_t slots_mu;
    cxs_reader_slot **slots; /* every thread's; guarded by slots_mu */
    size_t nslots, capslots;
    cxs_reader_slot **stash; /* opened ahead, no thread's yet; slots_mu */
    size_t nstash;           /* < preopen_target, the stash's room */
    unsigned preopen_target; /* threads, once started; slots_mu */
    pthread_t preopen_th;
    bool preopen_started; /* main thread only */

    pthread_mutex_t write_mu;
    cxs_index *writer; /* guarded by write_mu */

    cxs_metrics *metrics;
    cxs_log log;
    cxs_ratelimit *rl;
    cxs_meili_tasks *tasks; /* Meilisearch tasks (meili_tasks.h) */
    double started; /* monotonic seconds */
    atomic_int stopping;
    cxs_sources *sources; /* the live-source poller (sources.h), or NULL */
} cxs_server;

/* Sets up the server from a built configuration (taken over). Opens the
 * access log, checks that the index can be read. Main thread only. */
CXS_MUST_CHECK
cxs_status cxs_server_init(cxs_server *s, const cxs_server_args *args,
                           cxs_server_config *cfg, cxs_err *err);

/* Starts the thread that opens the pool's readers ahead (see above),
 * once the daemon listens. Never fails: a thread that cannot be started
 * or a reader that cannot be opened is logged, and each pool thread then
 * opens its own. Main thread only, at most once. */
void cxs_server_preopen_start(cxs_server *s);

/* Stops and joins the pre-open thread (after the reader it is opening),
 * then closes readers, stashed or not, the writer and the log. Call after
 * the HTTP daemon has stopped (no pool thread may run). Main thread
 * only. */
void cxs_server_release(cxs_server *s);

/* SIGHUP: rebuilds the configuration from the same file and flags, swaps
 * it in (keys, CORS, synonyms, BM25, limits, access log; listen, db and
 * threads need a restart and are only reported), bumps the generation.
 * On error the running configuration stays. Main thread only. */
CXS_MUST_CHECK cxs_status cxs_server_reload(cxs_server *s, cxs_err *err);

cxs_snapshot *cxs_server_snapshot_acquire(cxs_server *s);
void cxs_server_snapshot_release(cxs_server *s, cxs_snapshot *snap);

/* This thread's reader, opened or moved to the newest revision as needed
 * (see above). Borrowed: valid until this thread's next call. */
CXS_MUST_CHECK
cxs_status cxs_server_reader(cxs_server *s, cxs_snapshot *snap, cxs_index **out,
                             cxs_err *err);

/* Takes the write lock and opens the writer when needed. On success the
 * caller must call cxs_server_writer_done. CXS_ERR_LOCKED when another
 * process holds the database. */
CXS_MUST_CHECK
cxs_status cxs_server_writer_begin(cxs_server *s, cxs_snapshot *snap,
                                   cxs_index **out, cxs_err *err);

/* Releases the write lock. committed: bump the generation so readers see
 * the commit; failed: close the writer, discarding uncommitted changes. */
void cxs_server_writer_done(cxs_server *s, int committed, int failed);

/* Monotonic clock in seconds. */
double cxs_server_now(void);

/* Rate limiter (ratelimit.c): true when a request from addr may proceed.
 * rate <= 0 always allows. */
CXS_MUST_CHECK cxs_status cxs_ratelimit_new(cxs_ratelimit **out, cxs_err *err);
void cxs_ratelimit_free(cxs_ratelimit *rl);
bool cxs_ratelimit_allow(cxs_ratelimit *rl, const char *addr, double rate,
                        unsigned burst, double now);

#endif /* CXS_SERVER_H */
