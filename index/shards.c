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
 * - A post costs more to write the bigger its database (PART_POSTS), so
 *   each shard writes a sequence of parts of a bounded size, and the
 *   compactor merges all parts of all shards in one pass. One analyzer
 *   per shard serves all its parts (the dictionaries are big): the
 *   shard's index moves its writer to the new part. The old parts stay
 *   open for reading, so that a later copy of an id finds the earlier
 *   one: an identical copy is left unchanged, a different one is deleted
 *   from its part and written to the current one, so an id is in one
 *   part only and counts come out as with one writer. A reader keeps far
 *   less memory than a writer that has written (about 0.1 MB against 2
 *   MB measured), so memory stays flat over many parts.
 * - Only an empty target is built this way: the merge replaces it, so
 *   there is nothing in it to lose. An import that fails or is
 *   interrupted leaves the target empty, and its part folders are
 *   removed (a crash leaves them; the next bulk build removes those of
 *   dead processes: all are named "<target>.build-<pid>-...").
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

/* Posts waiting for each shard. Posts go to shards by id and the reader
 * waits when a shard's queue is full, so a queue must outlast the other
 * shards' commits: with 256, a shard committing stopped the reader within
 * milliseconds and left the other shards idle. Commits of 2000 posts
 * (index.c) take a fraction of a second, well covered by 2048 parsed
 * posts (about 5 MB), where 8192 were sized for 5000-post commits. */
#define QUEUE_CAP 2048

/* Posts a part database takes before its shard goes on in a new part.
 * Xapian's commits touch more B-tree blocks the bigger the database, so
 * a post costs more the more its shard holds (100k posts in two shards:
 * 109 s; 1M: 1,871 s at 147% CPU); compacting many small parts into one
 * is cheap (3 s for 100k posts). 50,000 is the shard size of the 100k
 * build, whose per-post cost was the lowest measured. The environment
 * variable CXS_SHARD_PART_POSTS overrides it (a positive number), so that
 * tests make many parts out of a few posts. */
#define PART_POSTS 50000

/* A closed part of a shard: committed, and read to find the ids written
 * to it. A copy in it that a later copy replaces is deleted through a
 * writer opened then, which serves its lookups from then on (it sees its
 * own deletions) and is committed at the end. */
typedef struct part {
    cxs_xdb *rd;
    cxs_xwdb *wr; /* NULL until the part has a copy to delete */
} part;

typedef struct shard {
    struct cxs_shards *owner;
    unsigned no;   /* the shard's number, in its parts' names */
    cxs_index *ix; /* analyzes; its writer is on the newest part */
    char **paths;  /* the parts' folders, oldest first */
    size_t nparts;
    part *closed; /* the first nclosed parts (paths[0..nclosed)) */
    size_t nclosed;
    size_t counts[3]; /* by cxs_put_result, as one writer counts */
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
    char *target;      /* the index being built */
    size_t part_posts; /* PART_POSTS, or the environment's */
    pthread_mutex_t mu;
    int stopping;
    int commit; /* stopping to merge: each shard commits its last batch */
};

/* Removes a folder and the files in it (shard databases are flat). */
void cxs_shards_remove_db(const char *path) {
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

/* Names the shard's next part ("<target>.build-<pid>-<shard>-<part>") in
 * s->paths, and empties its folder: a dead process with the same pid may
 * have left one. */
static cxs_status add_part_path(shard *s, cxs_err *err) {
    char **v = realloc(s->paths, (s->nparts + 1) * sizeof *v);
    if (!v)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    s->paths = v;
    size_t n = strlen(s->owner->target) + 80;
    if (!(v[s->nparts] = malloc(n)))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    snprintf(v[s->nparts], n, "%s.build-%ld-%u-%zu", s->owner->target,
             (long)getpid(), s->no, s->nparts);
    cxs_shards_remove_db(v[s->nparts]);
    s->nparts++;
    return CXS_OK;
}

/* Commits the shard's current part and goes on in a new one. The old
 * part is read from then on: a writer that has written keeps megabytes
 * (compression state, buffers) that a reader does not, and there may be
 * many parts. */
static cxs_status next_part(shard *s, cxs_err *err) {
    part *c = realloc(s->closed, (s->nclosed + 1) * sizeof *c);
    if (!c)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    s->closed = c;
    cxs_xwdb *w = NULL;
    cxs_status rc = add_part_path(s, err);
    if (rc == CXS_OK)
        rc = cxs_xwdb_open(s->paths[s->nparts - 1], &w, err);
    if (rc == CXS_OK)
        rc = cxs_index_swap_writer(s->ix, w, err);
    if (rc != CXS_OK) {
        cxs_xwdb_close(w);
        return rc;
    }
    part *pt = &s->closed[s->nclosed];
    pt->wr = NULL;
    rc = cxs_xdb_open((const char *const *)&s->paths[s->nclosed], 1, &pt->rd,
                      err);
    if (rc == CXS_OK)
        s->nclosed++;
    return rc;
}

/* Compares p with the copy of its id in a closed part (cxs_index_compare
 * of it, or of none). */
static cxs_status part_compare(part *pt, const cxs_prepared *p,
                               cxs_put_result *res, cxs_err *err) {
    cxs_buf old = CXS_BUF_INIT;
    int found = 0;
    unsigned docid = 0;
    size_t n = strlen(p->idterm);
    cxs_status rc;
    if (pt->wr) {
        rc = cxs_xwdb_find_data(pt->wr, p->idterm, n, &old, &found, err);
    } else {
        rc = cxs_xdb_find(pt->rd, p->idterm, n, &docid, err);
        found = rc == CXS_OK;
        if (rc == CXS_OK)
            rc = cxs_xdb_data(pt->rd, docid, &old, err);
        else if (rc == CXS_ERR_NOT_FOUND)
            rc = CXS_OK;
    }
    if (rc == CXS_OK)
        *res = cxs_index_compare(p, found ? &old : NULL);
    cxs_buf_release(&old);
    return rc;
}

/* Deletes p's id from the closed part at path, through its writer. */
static cxs_status part_delete(part *pt, const char *path, const cxs_prepared *p,
                              cxs_err *err) {
    if (!pt->wr) {
        cxs_status rc = cxs_xwdb_open(path, &pt->wr, err);
        if (rc != CXS_OK)
            return rc;
        cxs_xdb_close(pt->rd);
        pt->rd = NULL;
    }
    return cxs_xwdb_delete(pt->wr, p->idterm, strlen(p->idterm), NULL, err);
}

/* Writes one post to the shard as one writer would: a copy of its id in
 * an earlier part either leaves the post unchanged (same data) or is
 * deleted there, the post being written to the current part as an
 * update. An id is thus in at most one part. */
static cxs_status shard_put(shard *s, cxs_post *post, cxs_err *err) {
    cxs_prepared p;
    cxs_status rc = cxs_doc_prepare(&s->ix->maker, post, &p, err);
    cxs_put_result was = CXS_PUT_ADDED, r = CXS_PUT_ADDED;
    size_t k = 0;
    for (; rc == CXS_OK && k < s->nclosed; k++)
        if ((rc = part_compare(&s->closed[k], &p, &was, err)) == CXS_OK &&
            was != CXS_PUT_ADDED)
            break;
    if (rc == CXS_OK && was == CXS_PUT_UPDATED)
        rc = part_delete(&s->closed[k], s->paths[k], &p, err);
    if (rc == CXS_OK && was != CXS_PUT_UNCHANGED &&
        cxs_xwdb_doccount(s->ix->wr) >= s->owner->part_posts)
        rc = next_part(s, err);
    if (rc == CXS_OK && was != CXS_PUT_UNCHANGED)
        rc = cxs_index_apply(s->ix, &p, &r, err);
    if (rc == CXS_OK)
        s->counts[was != CXS_PUT_ADDED ? was : r]++;
    cxs_prepared_release(&p);
    return rc;
}

/* Commits the shard's current part and the deletions in its earlier
 * ones. */
static cxs_status shard_commit(shard *s, cxs_err *err) {
    cxs_status rc = cxs_index_commit(s->ix, err);
    for (size_t k = 0; k < s->nclosed && rc == CXS_OK; k++)
        if (s->closed[k].wr)
            rc = cxs_xwdb_commit(s->closed[k].wr, err);
    return rc;
}

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
        cxs_status rc = failed ? CXS_OK : shard_put(s, &p, &e);
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
    cxs_status rc = failed ? CXS_OK : shard_commit(s, &e);
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
            cxs_shards_remove_db(f);
    }
    if (d)
        closedir(d);
}

static cxs_status open_shard(cxs_shards *ss, unsigned i, cxs_index *ix,
                             cxs_err *err) {
    shard *s = &ss->v[i];
    s->owner = ss;
    s->no = i;
    pthread_cond_init(&s->more, NULL);
    pthread_cond_init(&s->room, NULL);
    cxs_status rc = add_part_path(s, err);
    cxs_index_config cfg = ix->cfg;
    cfg.workers = 0; /* the shard's thread analyzes its own posts */
    /* The owner only queues posts while its shards write: the first shard
     * analyzes with the owner's analyzer (one set of dictionaries fewer). */
    if (rc == CXS_OK)
        rc = cxs_index_open_writer_lent(s->paths[0], &cfg, i ? NULL : ix->an,
                                        &s->ix, err);
    /* The shards read the same vocabulary: one lemma cache for all. */
    if (rc == CXS_OK && i)
        cxs_stemmers_share_cache(s->ix->an, ix->an);
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

/* Closes the shard's databases (changes not committed are lost). */
static void close_parts(shard *s) {
    for (size_t k = 0; k < s->nclosed; k++) {
        cxs_xdb_close(s->closed[k].rd);
        cxs_xwdb_close(s->closed[k].wr);
    }
    s->nclosed = 0;
    cxs_index_close(s->ix);
    s->ix = NULL;
}

static void free_all(cxs_shards *ss) {
    for (unsigned i = 0; i < ss->n; i++) {
        shard *s = &ss->v[i];
        for (size_t k = 0; k < s->count; k++)
            cxs_post_release(&s->queue[(s->head + k) % QUEUE_CAP]);
        close_parts(s);
        free(s->closed);
        for (size_t k = 0; k < s->nparts; k++) {
            cxs_shards_remove_db(s->paths[k]);
            free(s->paths[k]);
        }
        free(s->paths);
        pthread_cond_destroy(&s->more);
        pthread_cond_destroy(&s->room);
    }
    pthread_mutex_destroy(&ss->mu);
    free(ss->target);
    free(ss->v);
    free(ss);
}

void cxs_shards_abort(cxs_shards *ss) {
    if (!ss)
        return;
    join_all(ss, 0);
    free_all(ss);
}

/* PART_POSTS, unless CXS_SHARD_PART_POSTS gives a positive number. */
static size_t part_posts(void) {
    const char *v = getenv("CXS_SHARD_PART_POSTS");
    char *end = NULL;
    unsigned long n = v && *v ? strtoul(v, &end, 10) : 0;
    return n > 0 && !*end ? (size_t)n : PART_POSTS;
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
    ss->part_posts = part_posts();
    remove_stale(ix->path);
    cxs_status rc = (ss->target = strdup(ix->path))
                        ? CXS_OK
                        : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
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
    size_t nparts = 0;
    for (unsigned i = 0; i < ss->n && rc == CXS_OK; i++) {
        for (int r = 0; r < 3; r++)
            counts[r] += ss->v[i].counts[r];
        nparts += ss->v[i].nparts;
        close_parts(&ss->v[i]); /* committed by their threads */
    }
    /* Every part of every shard in one pass of the compactor. */
    const char **paths = rc == CXS_OK ? malloc(nparts * sizeof *paths) : NULL;
    if (rc == CXS_OK && !paths)
        rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    size_t at = 0;
    for (unsigned i = 0; rc == CXS_OK && i < ss->n; i++)
        for (size_t k = 0; k < ss->v[i].nparts; k++)
            paths[at++] = ss->v[i].paths[k];
    if (rc == CXS_OK)
        rc = cxs_xdb_compact(paths, nparts, merged, err);
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
        cxs_shards_remove_db(merged); /* now the empty index it replaced */
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
        cxs_shards_remove_db(old);
    else
        cxs_shards_remove_db(merged);
    free(old);
    return rc;
}
