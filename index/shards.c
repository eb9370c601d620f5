/*
 * shards.c - a new index built on every core, then merged (index_internal.h).
 *
 * Facts that shaped it:
 * - Xapian allows one writer per database, and a writer thread applying
 *   posts took about two thirds of an import's time (docs/performance.md):
 *   with one writer, a second core only analyzed. So a new index is built
 *   as n private databases beside the target, each by its own thread that
 *   analyzes and writes its share, and Xapian's compactor merges them into
 *   the target at the end (what the issue and Xapian's own docs suggest).
 * - Posts are routed by id: every copy of an id goes to the same shard,
 *   in submission order, so the last copy wins as in a plain import.
 * - Only an empty target is built this way: the merge replaces it, so
 *   there is nothing in it to lose. An import that fails or is
 *   interrupted leaves the target empty, and its shard folders are
 *   removed (a crash leaves them; the next bulk build removes those of
 *   dead processes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_internal.h"

#define QUEUE_CAP 256

typedef struct shard {
    struct cxs_shards *owner;
    cxs_index *ix; /* writer on path */
    char *path;
    pthread_t thread;
    int started;
    cxs_post queue[QUEUE_CAP];
    size_t head, count;
    pthread_cond_t more, room;
    cxs_status rc; /* the first error; the shard stops at it */
    cxs_err err;
} shard;

struct cxs_shards {
    shard *v;
    unsigned n;
    pthread_mutex_t mu;
    int stopping;
    int commit; /* stopping to merge: each shard commits its last batch */
};

static void *shard_main(void *arg) {
    shard *s = arg;
    pthread_mutex_t *mu = &s->owner->mu;
    pthread_mutex_lock(mu);
    for (;;) {
        while (!s->count && !s->owner->stopping)
            pthread_cond_wait(&s->more, mu);
        if (!s->count)
            break;
        cxs_post p = s->queue[s->head];
        s->head = (s->head + 1) % QUEUE_CAP;
        s->count--;
        pthread_cond_signal(&s->room);
        int failed = s->rc != CXS_OK;
        pthread_mutex_unlock(mu);
        cxs_err e = {0};
        cxs_status rc = failed ? CXS_OK : cxs_index_put(s->ix, &p, NULL, &e);
        cxs_post_release(&p);
        pthread_mutex_lock(mu);
        if (rc != CXS_OK && s->rc == CXS_OK) {
            s->rc = rc;
            s->err = e;
        }
    }
    int failed = s->rc != CXS_OK || !s->owner->commit;
    pthread_mutex_unlock(mu);
    /* Each shard's last commit (a batch of postings to flush) runs on its
     * own thread, beside the others'. */
    cxs_err e = {0};
    cxs_status rc = failed ? CXS_OK : cxs_index_commit(s->ix, &e);
    pthread_mutex_lock(mu);
    if (rc != CXS_OK && s->rc == CXS_OK) {
        s->rc = rc;
        s->err = e;
    }
    pthread_mutex_unlock(mu);
    return NULL;
}

static unsigned route(const char *id, unsigned n) {
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (unsigned)(h % n);
}

/* Removes a folder and the files in it (shard databases are flat). */
static void remove_db(const char *path) {
    DIR *d = opendir(path);
    struct dirent *e;
    char f[4096];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            snprintf(f, sizeof f, "%s/%s", path, e->d_name) < (int)sizeof f)
            unlink(f);
    if (d)
        closedir(d);
    rmdir(path);
}

/* Removes shard folders left by bulk builds of target whose process is
 * gone ("<target>.build-<pid>-..."). */
static void remove_stale(const char *target) {
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == target)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t bl = strlen(base);
    while (d && (e = readdir(d))) {
        long pid = 0;
        if (strncmp(e->d_name, base, bl) != 0 ||
            strncmp(e->d_name + bl, ".build-", 7) != 0 ||
            sscanf(e->d_name + bl + 7, "%ld", &pid) != 1 || pid <= 0 ||
            (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        char f[4096];
        if (snprintf(f, sizeof f, "%s/%s", dir, e->d_name) < (int)sizeof f)
            remove_db(f);
    }
    if (d)
        closedir(d);
}

static cxs_status open_shard(cxs_shards *ss, unsigned i, const cxs_index *ix,
                             cxs_err *err) {
    shard *s = &ss->v[i];
    size_t n = strlen(ix->path) + 48;
    s->owner = ss;
    pthread_cond_init(&s->more, NULL);
    pthread_cond_init(&s->room, NULL);
    if (!(s->path = malloc(n)))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    snprintf(s->path, n, "%s.build-%ld-%u", ix->path, (long)getpid(), i);
    remove_db(s->path);
    cxs_index_config cfg = ix->cfg;
    cfg.workers = 0; /* the shard's thread analyzes its own posts */
    cxs_status rc = cxs_index_open_writer(s->path, &cfg, &s->ix, err);
    if (rc == CXS_OK && pthread_create(&s->thread, NULL, shard_main, s) != 0)
        rc = cxs_err_set(err, CXS_ERR_INTERNAL, "cannot start a shard thread");
    s->started = rc == CXS_OK;
    return rc;
}

/* Stops the threads once their queues are done (and committed, with
 * commit set). */
static void join_all(cxs_shards *ss, int commit) {
    pthread_mutex_lock(&ss->mu);
    ss->stopping = 1;
    ss->commit = commit;
    for (unsigned i = 0; i < ss->n; i++)
        pthread_cond_broadcast(&ss->v[i].more);
    pthread_mutex_unlock(&ss->mu);
    for (unsigned i = 0; i < ss->n; i++)
        if (ss->v[i].started) {
            pthread_join(ss->v[i].thread, NULL);
            ss->v[i].started = 0;
        }
}

static void free_all(cxs_shards *ss) {
    for (unsigned i = 0; i < ss->n; i++) {
        shard *s = &ss->v[i];
        for (size_t k = 0; k < s->count; k++)
            cxs_post_release(&s->queue[(s->head + k) % QUEUE_CAP]);
        cxs_index_close(s->ix);
        if (s->path)
            remove_db(s->path);
        free(s->path);
        pthread_cond_destroy(&s->more);
        pthread_cond_destroy(&s->room);
    }
    pthread_mutex_destroy(&ss->mu);
    free(ss->v);
    free(ss);
}

void cxs_shards_abort(cxs_shards *ss) {
    if (!ss)
        return;
    join_all(ss, 0);
    free_all(ss);
}

cxs_status cxs_shards_start(cxs_index *ix, unsigned n, cxs_shards **out,
                            cxs_err *err) {
    *out = NULL;
    cxs_shards *ss = calloc(1, sizeof *ss);
    if (ss && !(ss->v = calloc(n, sizeof *ss->v))) {
        free(ss);
        ss = NULL;
    }
    if (!ss)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&ss->mu, NULL);
    remove_stale(ix->path);
    cxs_status rc = CXS_OK;
    for (; ss->n < n && rc == CXS_OK; ss->n++)
        rc = open_shard(ss, ss->n, ix, err);
    if (rc != CXS_OK) {
        cxs_shards_abort(ss);
        return rc;
    }
    *out = ss;
    return CXS_OK;
}

cxs_status cxs_shards_submit(cxs_shards *ss, cxs_post *post, cxs_err *err) {
    shard *s = &ss->v[route(post->id ? post->id : "", ss->n)];
    pthread_mutex_lock(&ss->mu);
    while (s->count == QUEUE_CAP && s->rc == CXS_OK)
        pthread_cond_wait(&s->room, &ss->mu);
    cxs_status rc = s->rc;
    if (rc == CXS_OK) {
        s->queue[(s->head + s->count) % QUEUE_CAP] = *post;
        memset(post, 0, sizeof *post);
        s->count++;
        pthread_cond_signal(&s->more);
    } else if (err) {
        *err = s->err;
    }
    pthread_mutex_unlock(&ss->mu);
    cxs_post_release(post);
    return rc;
}

cxs_status cxs_shards_finish(cxs_shards *ss, const char *merged,
                             size_t counts[3], cxs_err *err) {
    join_all(ss, 1);
    cxs_status rc = CXS_OK;
    for (unsigned i = 0; i < ss->n && rc == CXS_OK; i++)
        if ((rc = ss->v[i].rc) != CXS_OK && err)
            *err = ss->v[i].err;
    for (unsigned i = 0; i < ss->n && rc == CXS_OK; i++) {
        size_t a = 0, u = 0, k = 0;
        cxs_index_put_counts(ss->v[i].ix, &a, &u, &k);
        counts[CXS_PUT_ADDED] += a;
        counts[CXS_PUT_UPDATED] += u;
        counts[CXS_PUT_UNCHANGED] += k;
        cxs_index_close(ss->v[i].ix);
        ss->v[i].ix = NULL;
    }
    const char **paths = malloc(ss->n * sizeof *paths);
    if (rc == CXS_OK && !paths)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; rc == CXS_OK && i < ss->n; i++)
        paths[i] = ss->v[i].path;
    if (rc == CXS_OK)
        rc = cxs_xdb_compact(paths, ss->n, merged, err);
    free(paths);
    free_all(ss);
    return rc;
}

char *cxs_shards_path(const char *target, const char *what) {
    size_t n = strlen(target) + strlen(what) + 40;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.build-%ld-%s", target, (long)getpid(), what);
    return p;
}

/* Swaps two folders in one step, so that no reader ever finds the target
 * missing. */
static int exchange(const char *a, const char *b) {
#ifdef RENAME_EXCHANGE
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
#else
    (void)a;
    (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

cxs_status cxs_shards_install(const char *target, const char *merged,
                              cxs_err *err) {
    if (exchange(merged, target) == 0) {
        remove_db(merged); /* now the empty index it replaced */
        return CXS_OK;
    }
    /* A file system without the exchange: two renames, a moment apart. */
    char *old = cxs_shards_path(target, "old");
    if (!old)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    cxs_status rc = CXS_OK;
    if (rename(target, old) != 0)
        rc = cxs_err_set(err, CXS_ERR_IO, "cannot move %s aside: %s", target,
                         strerror(errno));
    else if (rename(merged, target) != 0) {
        rc = cxs_err_set(err, CXS_ERR_IO, "cannot move %s to %s: %s", merged,
                         target, strerror(errno));
        rename(old, target);
    }
    if (rc == CXS_OK)
        remove_db(old);
    else
        remove_db(merged);
    free(old);
    return rc;
}
