/*
 * pipeline.c - analysis on worker threads, writing on the caller's.
 *
 * Analysis (ICU, Hunspell, Snowball) and the Xapian writer each take about
 * half of an import's time, and Xapian allows one writer. So workers, each
 * with its own analyzer, prepare posts while the caller's thread applies
 * the prepared ones in submission order (the order keeps imports
 * deterministic: the last copy of an id wins, as without the pipeline).
 *
 * Posts sit in a ring of slots indexed by sequence number; the ring's
 * size bounds memory. One mutex guards the ring; preparing and applying
 * happen outside it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

enum { SLOT_FREE, SLOT_QUEUED, SLOT_TAKEN, SLOT_DONE };

typedef struct slot {
    int state;
    cxs_post post;
    cxs_prepared prep;
    cxs_status rc;
    cxs_err err;
} slot;

struct cxs_pipeline {
    cxs_index *ix;
    unsigned nworkers, started;
    pthread_t *threads;
    cxs_stemmers **ans;
    cxs_doc_maker *makers;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a slot was queued, or stopping */
    pthread_cond_t done; /* a slot was prepared */
    slot *ring;
    size_t cap;
    unsigned long long submitted, taken, applied;
    int stopping;
    cxs_status failed; /* sticky: the first error, reported again */
    cxs_err failed_err;
};

typedef struct worker_arg {
    cxs_pipeline *pl;
    unsigned id;
} worker_arg;

static void *worker(void *arg) {
    cxs_pipeline *pl = ((worker_arg *)arg)->pl;
    cxs_doc_maker *m = &pl->makers[((worker_arg *)arg)->id];
    free(arg);
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        while (!pl->stopping && pl->taken == pl->submitted)
            pthread_cond_wait(&pl->work, &pl->mu);
        if (pl->taken == pl->submitted)
            break; /* stopping and nothing left */
        slot *s = &pl->ring[pl->taken++ % pl->cap];
        s->state = SLOT_TAKEN;
        pthread_mutex_unlock(&pl->mu);
        cxs_err_clear(&s->err);
        s->rc = cxs_doc_prepare(m, &s->post, &s->prep, &s->err);
        cxs_post_release(&s->post);
        pthread_mutex_lock(&pl->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

static cxs_status fail(cxs_pipeline *pl, cxs_status rc, const cxs_err *e,
                       cxs_err *err) {
    if (pl->failed == CXS_OK) {
        pl->failed = rc;
        pl->failed_err = *e;
    }
    if (err)
        *err = pl->failed_err;
    return pl->failed;
}

/* Applies prepared posts in order; with block, waits for all submitted. */
static cxs_status apply_ready(cxs_pipeline *pl, int block, cxs_err *err) {
    while (pl->failed == CXS_OK && pl->applied < pl->submitted) {
        slot *s = &pl->ring[pl->applied % pl->cap];
        pthread_mutex_lock(&pl->mu);
        while (block && s->state != SLOT_DONE)
            pthread_cond_wait(&pl->done, &pl->mu);
        int ready = s->state == SLOT_DONE;
        pthread_mutex_unlock(&pl->mu);
        if (!ready)
            break;
        cxs_err e = s->err;
        cxs_status rc = s->rc;
        if (rc == CXS_OK)
            rc = cxs_index_apply(pl->ix, &s->prep, NULL, &e);
        cxs_prepared_release(&s->prep);
        pthread_mutex_lock(&pl->mu);
        s->state = SLOT_FREE;
        pl->applied++;
        pthread_mutex_unlock(&pl->mu);
        if (rc != CXS_OK)
            return fail(pl, rc, &e, err);
    }
    return pl->failed == CXS_OK ? CXS_OK : fail(pl, pl->failed, NULL, err);
}

cxs_status cxs_pipeline_submit(cxs_pipeline *pl, cxs_post *post, cxs_err *err) {
    cxs_status rc = apply_ready(pl, 0, err);
    /* A full ring: apply the oldest, which makes room. */
    while (rc == CXS_OK && pl->submitted - pl->applied == pl->cap) {
        slot *s = &pl->ring[pl->applied % pl->cap];
        pthread_mutex_lock(&pl->mu);
        while (s->state != SLOT_DONE)
            pthread_cond_wait(&pl->done, &pl->mu);
        pthread_mutex_unlock(&pl->mu);
        rc = apply_ready(pl, 0, err);
    }
    if (rc != CXS_OK) {
        cxs_post_release(post);
        return rc;
    }
    pthread_mutex_lock(&pl->mu);
    slot *s = &pl->ring[pl->submitted % pl->cap];
    s->post = *post;
    memset(post, 0, sizeof *post);
    s->state = SLOT_QUEUED;
    pl->submitted++;
    pthread_cond_signal(&pl->work);
    pthread_mutex_unlock(&pl->mu);
    return CXS_OK;
}

cxs_status cxs_pipeline_drain(cxs_pipeline *pl, cxs_err *err) {
    return apply_ready(pl, 1, err);
}

static cxs_status start_workers(cxs_pipeline *pl, cxs_err *err) {
    for (unsigned i = 0; i < pl->nworkers; i++) {
        cxs_status rc =
            cxs_stemmers_new(&pl->ix->cfg.analyzer, &pl->ans[i], err);
        if (rc != CXS_OK)
            return rc;
        /* The workers read the same words: one lemma cache for all. */
        cxs_stemmers_share_cache(pl->ans[i], pl->ix->an);
        pl->makers[i].an = pl->ans[i];
        pl->makers[i].phrases = pl->ix->phrases;
    }
    for (unsigned i = 0; i < pl->nworkers; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a)
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        *a = (worker_arg){pl, i};
        if (pthread_create(&pl->threads[i], NULL, worker, a) != 0) {
            free(a);
            return cxs_err_set(err, CXS_ERR_INTERNAL,
                               "cannot start an indexing thread");
        }
        pl->started++;
    }
    return CXS_OK;
}

cxs_status cxs_pipeline_start(cxs_index *ix, unsigned workers,
                              cxs_pipeline **out, cxs_err *err) {
    *out = NULL;
    cxs_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    pl->ix = ix;
    pl->nworkers = workers;
    pl->cap = 64 * (size_t)workers;
    pl->threads = calloc(workers, sizeof *pl->threads);
    pl->ans = calloc(workers, sizeof *pl->ans);
    pl->makers = calloc(workers, sizeof *pl->makers);
    pl->ring = calloc(pl->cap, sizeof *pl->ring);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work, NULL);
    pthread_cond_init(&pl->done, NULL);
    cxs_status rc = pl->threads && pl->ans && pl->makers && pl->ring
                        ? start_workers(pl, err)
                        : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (rc != CXS_OK) {
        cxs_pipeline_stop(pl);
        return rc;
    }
    *out = pl;
    return CXS_OK;
}

void cxs_pipeline_stop(cxs_pipeline *pl) {
    if (!pl)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->stopping = 1;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&pl->mu);
    for (unsigned i = 0; i < pl->started; i++)
        pthread_join(pl->threads[i], NULL);
    for (size_t i = 0; pl->ring && i < pl->cap; i++) {
        cxs_post_release(&pl->ring[i].post);
        cxs_prepared_release(&pl->ring[i].prep);
    }
    for (unsigned i = 0; pl->ans && i < pl->nworkers; i++) {
        cxs_doc_maker_release(&pl->makers[i]);
        cxs_stemmers_free(pl->ans[i]);
    }
    pthread_cond_destroy(&pl->work);
    pthread_cond_destroy(&pl->done);
    pthread_mutex_destroy(&pl->mu);
    free(pl->ring);
    free(pl->makers);
    free(pl->ans);
    free(pl->threads);
    free(pl);
}
