/*
 * browse.c - reading stored posts and statistics (see index.h): get by id,
 * dump in id order, counts per language and channel, size on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index_internal.h"
#include "stored.h"
#include "terms.h"

cxs_status cxs_index_decode_post(const char *data, size_t len, cxs_post *p,
                                 cxs_err *err) {
    return cxs_stored_decode(data, cxs_checkpoints_split(data, len, NULL, NULL),
                             p, err);
}

cxs_status cxs_index_get_docid(cxs_index *ix, const char *id, unsigned *docid,
                               cxs_post *p, cxs_err *err) {
    if (!ix->rd)
        return cxs_err_set(err, CXS_ERR_INVALID, "not a reader");
    cxs_buf t = CXS_BUF_INIT, data = CXS_BUF_INIT;
    cxs_status rc = cxs_buf_appends(&t, CXS_PFX_ID);
    if (rc == CXS_OK)
        rc = cxs_buf_appends(&t, id);
    if (rc == CXS_OK)
        rc = cxs_xdb_find(ix->rd, t.data, t.len, docid, err);
    if (rc == CXS_ERR_NOT_FOUND)
        cxs_err_set(err, rc, "no post with id '%s'", id);
    if (rc == CXS_OK && p)
        rc = cxs_xdb_data(ix->rd, *docid, &data, err);
    if (rc == CXS_OK && p)
        rc =
            cxs_index_decode_post(data.data ? data.data : "", data.len, p, err);
    cxs_buf_release(&t);
    cxs_buf_release(&data);
    return rc;
}

cxs_status cxs_index_get(cxs_index *ix, const char *id, cxs_post *post,
                         cxs_err *err) {
    unsigned docid;
    memset(post, 0, sizeof *post);
    return cxs_index_get_docid(ix, id, &docid, post, err);
}

typedef struct walk {
    cxs_index *ix;
    int (*fn)(void *ud, const cxs_post *post);
    void *ud;
    cxs_status rc;
    cxs_err *err;
} walk;

/* Visits one id term: the id terms sort in id order, which makes dumps
 * stable across runs. */
static int walk_term(void *ud, const char *term, size_t len,
                     unsigned long long freq) {
    (void)freq;
    walk *w = ud;
    cxs_buf id = CXS_BUF_INIT;
    cxs_post p = CXS_POST_INIT;
    unsigned docid;
    int stop = 0;
    w->rc = cxs_buf_append(&id, term + 1, len - 1);
    if (w->rc == CXS_OK)
        w->rc = cxs_index_get_docid(w->ix, id.data, &docid, &p, w->err);
    if (w->rc == CXS_OK)
        stop = w->fn(w->ud, &p);
    cxs_post_release(&p);
    cxs_buf_release(&id);
    return stop || w->rc != CXS_OK;
}

cxs_status cxs_index_foreach(cxs_index *ix,
                             int (*fn)(void *ud, const cxs_post *post),
                             void *ud, cxs_err *err) {
    if (!ix->rd)
        return cxs_err_set(err, CXS_ERR_INVALID, "not a reader");
    walk w = {ix, fn, ud, CXS_OK, err};
    cxs_status rc = cxs_xdb_terms(ix->rd, CXS_PFX_ID, strlen(CXS_PFX_ID),
                                  walk_term, &w, err);
    return rc != CXS_OK ? rc : w.rc;
}

/* Bytes of the files in a database folder (Xapian's glass backend keeps
 * one flat folder). */
static unsigned long long folder_bytes(const char *path) {
    DIR *d = opendir(path);
    if (!d)
        return 0;
    unsigned long long total = 0;
    struct dirent *e;
    char file[4096];
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
            total += (unsigned long long)st.st_size;
    }
    closedir(d);
    return total;
}

static void take_facet(cxs_facet *dst, cxs_facet *src) {
    *dst = *src;
    src->v = NULL;
    src->n = 0;
}

cxs_status cxs_index_stats_get(cxs_index *ix, cxs_index_stats *st,
                               cxs_err *err) {
    memset(st, 0, sizeof *st);
    cxs_xdb_info info;
    cxs_status rc = cxs_xdb_info_get(ix->rd, &info, err);
    if (rc != CXS_OK)
        return rc;
    st->posts = info.doccount;
    st->revision = info.revision;
    for (size_t i = 0; i < ix->npaths; i++)
        if (!cxs_index_path_is_remote(ix->paths[i]))
            st->disk_bytes += folder_bytes(ix->paths[i]);
    cxs_buf b = CXS_BUF_INIT;
    rc = cxs_xdb_metadata(ix->rd, "cxs.last_update", &b, err);
    if (rc == CXS_OK && b.len < sizeof st->last_update && b.len)
        memcpy(st->last_update, b.data, b.len + 1);
    cxs_buf_release(&b);
    cxs_search_req req = {0};
    req.facets = CXS_FACET_LANG | CXS_FACET_CHANNEL;
    cxs_search_res res;
    if (rc == CXS_OK)
        rc = cxs_index_search(ix, &req, &res, err);
    if (rc == CXS_OK) {
        for (size_t i = 0; i < res.nfacets; i++)
            take_facet(strcmp(res.facets[i].name, "lang") == 0 ? &st->langs
                                                               : &st->channels,
                       &res.facets[i]);
        cxs_search_res_release(&res);
    }
    return rc;
}

void cxs_index_stats_release(cxs_index_stats *st) {
    cxs_facet *f[2] = {&st->langs, &st->channels};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < f[k]->n; i++)
            free(f[k]->v[i].value);
        free(f[k]->v);
    }
    memset(st, 0, sizeof *st);
}

unsigned long long cxs_index_revision(cxs_index *ix) {
    cxs_xdb_info info;
    if (!ix->rd || cxs_xdb_info_get(ix->rd, &info, NULL) != CXS_OK)
        return 0;
    return info.revision;
}

size_t cxs_index_nshards(const cxs_index *ix) {
    return ix->rd ? cxs_xdb_nshards(ix->rd) : 0;
}

cxs_status cxs_index_shard_get(cxs_index *ix, size_t i, int probe,
                           cxs_index_shard *sh, cxs_err *err) {
    memset(sh, 0, sizeof *sh);
    if (!ix->rd || i >= cxs_xdb_nshards(ix->rd))
        return cxs_err_set(err, CXS_ERR_INVALID, "no shard %zu", i);
    cxs_xshard_status st;
    cxs_status rc = CXS_OK;
    if (probe)
        rc = cxs_xdb_shard_probe(ix->rd, i, &st, err);
    else
        cxs_xdb_shard_status(ix->rd, i, &st);
    if (rc != CXS_OK)
        return rc;
    sh->name = st.spec;
    sh->up = st.up;
    sh->remote = st.remote;
    sh->posts = st.doccount;
    sh->revision = st.revision;
    sh->latency_ms = st.latency_ms;
    memcpy(sh->error, st.error, sizeof sh->error);
    return CXS_OK;
}

size_t cxs_index_missing_shards(const cxs_index *ix, const char **names,
                                size_t max) {
    size_t n = 0;
    for (size_t i = 0; ix->rd && i < cxs_xdb_nshards(ix->rd); i++) {
        cxs_xshard_status st;
        cxs_xdb_shard_status(ix->rd, i, &st);
        if (!st.up && n < max)
            names[n] = st.spec;
        n += !st.up;
    }
    return n;
}

cxs_status cxs_index_backup(const char *db, const char *out, cxs_err *err) {
    struct stat st;
    if (cxs_index_path_is_remote(db))
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "%s is remote: back each shard up on its host", db);
    if (stat(db, &st) != 0)
        return cxs_err_set(err, CXS_ERR_NOT_FOUND, "no index at %s", db);
    if (stat(out, &st) == 0 || errno != ENOENT)
        return cxs_err_set(err, CXS_ERR_INVALID, "%s exists: give a new path",
                           out);
    char *tmp = cxs_shards_path(out, "part");
    if (!tmp)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    /* The only failure worth another try is a revision recycled under the
     * compactor by a writer committing fast (Xapian's error says). */
    cxs_status rc = CXS_ERR_INDEX;
    cxs_err e = {0};
    for (int i = 0; i < 20 && rc == CXS_ERR_INDEX; i++) {
        /* A pause lets a burst of commits pass. */
        struct timespec pause = {0, 50000000L * i};
        if (i)
            nanosleep(&pause, NULL);
        cxs_shards_remove_db(tmp);
        rc = cxs_xdb_compact(&db, 1, tmp, &e);
        if (rc == CXS_ERR_INDEX && !strstr(e.msg, "Modified"))
            break;
    }
    if (rc != CXS_OK)
        cxs_err_set(err, rc, "%s", e.msg);
    if (rc == CXS_OK && rename(tmp, out) != 0)
        rc = cxs_err_set(err, CXS_ERR_IO, "rename to %s: %s", out,
                         strerror(errno));
    if (rc != CXS_OK)
        cxs_shards_remove_db(tmp);
    free(tmp);
    return rc;
}
