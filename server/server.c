/*
 * server.c - configuration snapshots, per-thread readers and the writer
 * (see server.h for the rules they follow).
 */
#include "server.h"

#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cxs_grow.h"
#include "meili_tasks.h"

struct cxs_reader_slot {
    cxs_index *ix;
    unsigned long long gen;     /* generation when last (re)opened */
    unsigned long long cfg_gen; /* snapshot the reader was built with */
    double checked;             /* when last reopened */
    unsigned long long rev;     /* index revision it reads */
};

/* The calling pool thread's reader slot. Thread-local because MHD gives a
 * request no handle on its thread; the owner check keeps a slot from being
 * used with another server instance. */
static _Thread_local cxs_reader_slot *tl_slot;
static _Thread_local const cxs_server *tl_owner;

double cxs_server_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cxs_snapshot *snapshot_new(cxs_server_config *cfg,
                                  unsigned long long gen) {
    cxs_snapshot *sn = calloc(1, sizeof *sn);
    if (!sn)
        return NULL;
    sn->cfg = cfg;
    sn->gen = gen;
    sn->refs = 1;
    cxs_index_config_init(&sn->ixcfg);
    sn->ixcfg.synonyms_path = cfg->synonyms;
    if (cfg->bm25_k1 > 0)
        sn->ixcfg.bm25_k1 = cfg->bm25_k1;
    if (cfg->bm25_b > 0)
        sn->ixcfg.bm25_b = cfg->bm25_b;
    sn->ixcfg.recency_boost = cfg->recency_boost;
    if (cfg->recency_halflife_days > 0)
        sn->ixcfg.recency_halflife_days = cfg->recency_halflife_days;
    sn->ixcfg.analyzer.use_lemmas = cfg->lemmas;
    cxs_forgive *f = &sn->ixcfg.forgive;
    f->off = !cfg->forgive;
    f->no_typos = !cfg->typos;
    f->no_layout = !cfg->layouts;
    f->no_translit = !cfg->translit;
    f->one_typo_from = cfg->typo_one_from;
    f->two_typos_from = cfg->typo_two_from;
    f->max_candidates = cfg->typo_max_candidates;
    sn->ixcfg.max_query_len = cfg->max_query_bytes;
    sn->ixcfg.shard_connect_timeout_ms = cfg->shard_connect_timeout_ms;
    sn->ixcfg.shard_timeout_ms = cfg->shard_timeout_ms;
    sn->ixcfg.shard_retry_ms = cfg->shard_retry_ms;
    sn->ixcfg.shard_partial = cfg->shard_partial;
    return sn;
}

static void snapshot_unref_locked(cxs_snapshot *sn) {
    if (sn && --sn->refs == 0) {
        cxs_server_config_free(sn->cfg);
        free(sn);
    }
}

cxs_snapshot *cxs_server_snapshot_acquire(cxs_server *s) {
    pthread_mutex_lock(&s->cfg_mu);
    cxs_snapshot *sn = s->snap;
    sn->refs++;
    pthread_mutex_unlock(&s->cfg_mu);
    return sn;
}

void cxs_server_snapshot_release(cxs_server *s, cxs_snapshot *sn) {
    if (!sn)
        return;
    pthread_mutex_lock(&s->cfg_mu);
    snapshot_unref_locked(sn);
    pthread_mutex_unlock(&s->cfg_mu);
}

/* A database that does not exist yet is created empty, so a daemon can be
 * started first and fed through POST /documents. */
static cxs_status ensure_db(const cxs_snapshot *sn, cxs_err *err) {
    struct stat st;
    const char *path = sn->cfg->dbs[0];
    if (sn->cfg->ndbs != 1 || cxs_index_path_is_remote(path) ||
        stat(path, &st) == 0 || errno != ENOENT)
        return CXS_OK;
    cxs_index *w = NULL;
    cxs_status rc = cxs_index_open_writer(path, &sn->ixcfg, &w, err);
    if (rc == CXS_OK)
        rc = cxs_index_commit(w, err);
    cxs_index_close(w);
    if (rc == CXS_OK)
        cxs_log_msg("info", "created an empty index at %s", path);
    return rc;
}

static cxs_status open_reader(const cxs_snapshot *sn, cxs_index **out,
                              cxs_err *err) {
    return cxs_index_open_reader((const char *const *)sn->cfg->dbs,
                                 sn->cfg->ndbs, &sn->ixcfg, out, err);
}

/* A remote shard down at start is no reason not to start (it is tried
 * again while running), but it is said, as is a setting remote shards
 * cannot honour. */
static void warn_down(cxs_index *ix, const cxs_server_config *cfg) {
    int remote = 0;
    for (size_t i = 0; i < cxs_index_nshards(ix); i++) {
        cxs_index_shard sh;
        if (cxs_index_shard_get(ix, i, 0, &sh, NULL) != CXS_OK)
            continue;
        remote |= sh.remote;
        if (!sh.up)
            cxs_log_msg("warning", "shard %s is down: %s", sh.name, sh.error);
    }
    if (remote && cfg->recency_boost > 0)
        cxs_log_msg("warning", "recency_boost is not applied with remote "
                               "shards (docs/scale-out.md)");
}

cxs_status cxs_server_init(cxs_server *s, const cxs_server_args *args,
                           cxs_server_config *cfg, cxs_err *err) {
    memset(s, 0, sizeof *s);
    s->args = *args;
    pthread_mutex_init(&s->cfg_mu, NULL);
    pthread_mutex_init(&s->slots_mu, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    atomic_init(&s->generation, 1);
    atomic_init(&s->newest_rev, 0);
    atomic_init(&s->stopping, 0);
    cxs_log_init(&s->log);
    s->started = cxs_server_now();
    s->snap = snapshot_new(cfg, 1);
    if (!s->snap) {
        cxs_server_config_free(cfg);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    cxs_status rc = cxs_log_open(&s->log, cfg->access_log, err);
    if (rc == CXS_OK)
        rc = cxs_ratelimit_new(&s->rl, err);
    if (rc == CXS_OK)
        rc = cxs_meili_tasks_new(s, &s->tasks, err);
    if (rc == CXS_OK)
        rc = ensure_db(s->snap, err);
    cxs_index *probe = NULL;
    if (rc == CXS_OK)
        rc = open_reader(s->snap, &probe, err);
    if (rc == CXS_OK)
        warn_down(probe, s->snap->cfg);
    cxs_index_close(probe);
    return rc;
}

static void slots_free(cxs_reader_slot **slots, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cxs_index_close(slots[i]->ix);
        free(slots[i]);
    }
    free(slots);
}

static void preopen_join(cxs_server *s);

void cxs_server_release(cxs_server *s) {
    preopen_join(s);
    cxs_meili_tasks_free(s->tasks); /* applies what is queued first */
    s->tasks = NULL;
    slots_free(s->slots, s->nslots);
    s->slots = NULL;
    s->nslots = 0;
    slots_free(s->stash, s->nstash);
    s->stash = NULL;
    s->nstash = 0;
    cxs_index_close(s->writer);
    s->writer = NULL;
    if (s->snap)
        snapshot_unref_locked(s->snap);
    s->snap = NULL;
    cxs_ratelimit_free(s->rl);
    s->rl = NULL;
    cxs_metrics_free(s->metrics);
    s->metrics = NULL;
    cxs_log_close(&s->log);
    pthread_mutex_destroy(&s->cfg_mu);
    pthread_mutex_destroy(&s->slots_mu);
    pthread_mutex_destroy(&s->write_mu);
}

static bool same_list(char **a, size_t na, char **b, size_t nb) {
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

/* What the running daemon cannot change (its socket, its thread pool, the
 * databases its writer and readers hold) is carried over from the running
 * configuration, so the snapshot tells the truth; a change is reported. */
static cxs_status keep_running(const cxs_server_config *o, cxs_server_config *n,
                               cxs_err *err) {
    if (strcmp(o->listen, n->listen) != 0 ||
        !same_list(o->dbs, o->ndbs, n->dbs, n->ndbs) ||
        o->threads != n->threads || o->max_connections != n->max_connections ||
        o->connection_timeout != n->connection_timeout ||
        o->max_connections_per_ip != n->max_connections_per_ip)
        cxs_log_msg("warning", "reload: listen, db, threads and connection "
                               "limits change only on restart");
    n->threads = o->threads;
    n->max_connections = o->max_connections;
    n->connection_timeout = o->connection_timeout;
    n->max_connections_per_ip = o->max_connections_per_ip;
    char *listen = strdup(o->listen);
    char **dbs = calloc(o->ndbs, sizeof *dbs);
    size_t i = 0;
    while (dbs && listen && i < o->ndbs && (dbs[i] = strdup(o->dbs[i])))
        i++;
    if (i < o->ndbs || !listen) {
        while (dbs && i > 0)
            free(dbs[--i]);
        free(dbs);
        free(listen);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < n->ndbs; j++)
        free(n->dbs[j]);
    free(n->dbs);
    free(n->listen);
    n->dbs = dbs;
    n->ndbs = o->ndbs;
    n->listen = listen;
    return CXS_OK;
}

cxs_status cxs_server_reload(cxs_server *s, cxs_err *err) {
    cxs_server_config *cfg = NULL;
    cxs_status rc = cxs_server_config_build(&s->args, &cfg, err);
    if (rc == CXS_OK)
        rc = keep_running(s->snap->cfg, cfg, err);
    cxs_snapshot *sn =
        rc == CXS_OK ? snapshot_new(cfg, s->snap->gen + 1) : NULL;
    if (rc == CXS_OK && !sn)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc != CXS_OK) {
        cxs_server_config_free(cfg);
        return rc;
    }
    /* A synonyms file broken by the edit must not take every reader down:
     * try the new settings once before swapping them in. */
    cxs_index *probe = NULL;
    rc = open_reader(sn, &probe, err);
    cxs_index_close(probe);
    if (rc == CXS_OK)
        rc = cxs_log_open(&s->log, cfg->access_log, err);
    if (rc != CXS_OK) {
        snapshot_unref_locked(sn);
        return rc;
    }
    pthread_mutex_lock(&s->cfg_mu);
    cxs_snapshot *old = s->snap;
    s->snap = sn;
    snapshot_unref_locked(old);
    pthread_mutex_unlock(&s->cfg_mu);
    atomic_fetch_add(&s->generation, 1);
    return CXS_OK;
}

/* A thread's first call takes a reader opened ahead by the pre-open
 * thread when one is waiting, else a new empty slot (opened by the
 * caller). A taken reader may be stale (an older snapshot, generation or
 * revision): cxs_server_reader rebuilds or reopens it like any slot. */
static cxs_reader_slot *thread_slot(cxs_server *s) {
    if (tl_slot && tl_owner == s)
        return tl_slot;
    cxs_reader_slot *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return NULL;
    pthread_mutex_lock(&s->slots_mu);
    if (CXS_GROW(s->slots, s->capslots, s->nslots + 1) != CXS_OK) {
        pthread_mutex_unlock(&s->slots_mu);
        free(fresh);
        return NULL;
    }
    cxs_reader_slot *slot = s->nstash ? s->stash[--s->nstash] : fresh;
    s->slots[s->nslots++] = slot;
    pthread_mutex_unlock(&s->slots_mu);
    if (slot != fresh)
        free(fresh);
    tl_slot = slot;
    tl_owner = s;
    return slot;
}

/* Opens slot's reader without counting it (the caller does). */
static cxs_status slot_fill(cxs_reader_slot *slot, cxs_snapshot *snap,
                            unsigned long long gen, cxs_err *err) {
    cxs_index_close(slot->ix);
    slot->ix = NULL;
    cxs_status rc = open_reader(snap, &slot->ix, err);
    if (rc != CXS_OK)
        return rc;
    slot->gen = gen;
    slot->cfg_gen = snap->gen;
    slot->checked = cxs_server_now();
    return CXS_OK;
}

static cxs_status slot_open(cxs_server *s, cxs_reader_slot *slot,
                            cxs_snapshot *snap, unsigned long long gen,
                            cxs_err *err) {
    cxs_status rc = slot_fill(slot, snap, gen, err);
    if (rc == CXS_OK)
        cxs_metrics_add(s->metrics, CXS_M_READER_OPENS, 1);
    return rc;
}

/* Readers the pool may still need: one per thread, less the threads that
 * have a slot and the readers waiting. Caller holds slots_mu. */
static bool preopen_wanted_locked(const cxs_server *s) {
    return !atomic_load(&s->stopping) &&
           s->nslots + s->nstash < s->preopen_target;
}

/* Stashes slot if it is still wanted (a thread may have opened its own
 * meanwhile); false when it is not, and the caller frees it. Counted only
 * once waiting, so a client that saw the count also finds the reader. */
static bool preopen_put(cxs_server *s, cxs_reader_slot *slot) {
    bool kept = false;
    pthread_mutex_lock(&s->slots_mu);
    if (preopen_wanted_locked(s)) { /* so nstash < preopen_target */
        s->stash[s->nstash++] = slot;
        kept = true;
    }
    pthread_mutex_unlock(&s->slots_mu);
    cxs_metrics_add(s->metrics, CXS_M_READER_OPENS, 1);
    return kept;
}

static bool preopen_wanted(cxs_server *s) {
    pthread_mutex_lock(&s->slots_mu);
    bool want = preopen_wanted_locked(s);
    pthread_mutex_unlock(&s->slots_mu);
    return want;
}

/* One reader opened ahead, from the current snapshot; *kept counts the
 * ones stashed. */
static cxs_status preopen_one(cxs_server *s, size_t *kept, cxs_err *err) {
    cxs_reader_slot *slot = calloc(1, sizeof *slot);
    if (!slot)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    unsigned long long gen = atomic_load(&s->generation);
    cxs_snapshot *snap = cxs_server_snapshot_acquire(s);
    cxs_status rc = slot_fill(slot, snap, gen, err);
    cxs_server_snapshot_release(s, snap);
    if (rc == CXS_OK) /* what note_revision would set, so not reopened */
        slot->rev = cxs_index_revision(slot->ix);
    if (rc == CXS_OK && preopen_put(s, slot)) {
        (*kept)++;
        return CXS_OK;
    }
    cxs_index_close(slot->ix);
    free(slot);
    return rc;
}

/* The pre-open thread: niced, so that on a busy machine the readers the
 * first requests open for themselves come first (cold start is measured
 * to the first answer); nice() changes only the calling thread on Linux.
 * A failure is said and ends it: threads then open their own readers.
 * What it did is said too (the e2e test waits for that line). */
static void *preopen_main(void *arg) {
    cxs_server *s = arg;
    errno = 0;
    if (nice(10) == -1 && errno != 0)
        cxs_log_msg("info", "pre-open thread keeps its priority");
    size_t kept = 0;
    while (preopen_wanted(s)) {
        cxs_err err = {0};
        if (preopen_one(s, &kept, &err) != CXS_OK) {
            cxs_log_msg("warning", "readers not opened ahead: %s", err.msg);
            break;
        }
    }
    if (kept)
        cxs_log_msg("info", "%zu index reader%s opened ahead for the pool",
                    kept, kept > 1 ? "s" : "");
    return NULL;
}

void cxs_server_preopen_start(cxs_server *s) {
    cxs_snapshot *snap = cxs_server_snapshot_acquire(s);
    unsigned n = snap->cfg->threads;
    cxs_server_snapshot_release(s, snap);
    cxs_reader_slot **stash = calloc(n, sizeof *stash);
    if (!stash) {
        cxs_log_msg("warning", "readers not opened ahead: out of memory");
        return;
    }
    pthread_mutex_lock(&s->slots_mu); /* pool threads already look */
    s->stash = stash;
    s->preopen_target = n;
    pthread_mutex_unlock(&s->slots_mu);
    int e = pthread_create(&s->preopen_th, NULL, preopen_main, s);
    s->preopen_started = e == 0;
    if (e != 0)
        cxs_log_msg("warning", "readers not opened ahead: %s", strerror(e));
}

/* Stops the pre-open thread after the reader it is opening, if any. */
static void preopen_join(cxs_server *s) {
    if (!s->preopen_started)
        return;
    atomic_store(&s->stopping, 1);
    pthread_join(s->preopen_th, NULL);
    s->preopen_started = false;
}

/* Readers are per thread and reopen on their own schedule, so without care
 * two requests in a row could be answered from revisions going backwards.
 * Every reader publishes the revision it reads; one that is behind the
 * newest any thread has seen reopens before answering. */
static void note_revision(cxs_server *s, cxs_reader_slot *slot) {
    slot->rev = cxs_index_revision(slot->ix);
    unsigned long long seen = atomic_load(&s->newest_rev);
    while (slot->rev > seen &&
           !atomic_compare_exchange_weak(&s->newest_rev, &seen, slot->rev))
        ;
}

cxs_status cxs_server_reader(cxs_server *s, cxs_snapshot *snap, cxs_index **out,
                             cxs_err *err) {
    cxs_reader_slot *slot = thread_slot(s);
    *out = NULL;
    if (!slot)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    unsigned long long gen = atomic_load(&s->generation);
    double now = cxs_server_now();
    cxs_status rc = CXS_OK;
    if (!slot->ix || slot->cfg_gen < snap->gen) {
        rc = slot_open(s, slot, snap, gen, err);
    } else if (slot->gen != gen || slot->rev < atomic_load(&s->newest_rev) ||
               now - slot->checked >= snap->cfg->reopen_interval_ms / 1000.0) {
        rc = cxs_index_reopen(slot->ix, NULL, err);
        slot->gen = gen;
        slot->checked = now;
        cxs_metrics_add(s->metrics, CXS_M_READER_REOPENS, 1);
        if (rc != CXS_OK) /* a reader that cannot move is rebuilt */
            rc = slot_open(s, slot, snap, gen, err);
    }
    if (rc == CXS_OK) {
        note_revision(s, slot);
        *out = slot->ix;
    }
    return rc;
}

cxs_status cxs_server_writer_begin(cxs_server *s, cxs_snapshot *snap,
                                   cxs_index **out, cxs_err *err) {
    pthread_mutex_lock(&s->write_mu);
    if (!s->writer) {
        /* With several shards, each post goes to its own (index.h). */
        cxs_status rc = cxs_index_open_writers(
            (const char *const *)snap->cfg->dbs, snap->cfg->ndbs,
            &snap->ixcfg, &s->writer, err);
        if (rc != CXS_OK) {
            s->writer = NULL;
            pthread_mutex_unlock(&s->write_mu);
            *out = NULL;
            return rc;
        }
    }
    *out = s->writer;
    return CXS_OK;
}

/* After a commit of ours: this thread's reader moves to it and its
 * vocabulary is built now, on the writing request's time, so that the
 * searches after it neither wait for it nor miss the words just written
 * (cxs_index_warm). Only a thread that reads too (an HTTP worker) does
 * it: a reader opened just for this would cost more than it saves. */
static void warm_after_commit(cxs_server *s) {
    if (!tl_slot || tl_owner != s || !tl_slot->ix)
        return;
    cxs_snapshot *snap = cxs_server_snapshot_acquire(s);
    cxs_index *ix = NULL;
    cxs_err err = {0};
    if (snap && cxs_server_reader(s, snap, &ix, &err) == CXS_OK)
        cxs_index_warm(ix);
    if (snap)
        cxs_server_snapshot_release(s, snap);
}

void cxs_server_writer_done(cxs_server *s, int committed, int failed) {
    if (failed) {
        cxs_index_close(s->writer);
        s->writer = NULL;
    }
    if (committed) {
        atomic_fetch_add(&s->generation, 1);
        cxs_metrics_add(s->metrics, CXS_M_COMMITS, 1);
    }
    pthread_mutex_unlock(&s->write_mu);
    if (committed)
        warm_after_commit(s);
}
