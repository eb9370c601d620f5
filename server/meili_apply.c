/*
 * meili_apply.c - what a Meilisearch task does to the index, run by the
 * task worker (see meili_tasks.h): add or replace documents, merge fields
 * into them, delete by ids, by filter or all, and the index and settings
 * tasks that map onto cxsearch's one index.
 *
 * Facts that shaped it:
 *  - A task is all or nothing: every document is turned into a post
 *    before the writer is taken, and a failure after the first put closes
 *    the writer, which drops what was not committed. A failed task leaves
 *    the index as it was.
 *  - Merging (PUT /documents) needs the stored document: the worker reads
 *    it through its own reader (cxs_server_reader gives each thread one,
 *    moved to the newest commit after each task's commit). Within one
 *    task, a later copy of an id replaces (POST) or merges into (PUT) the
 *    earlier one.
 *  - Deleting by filter or all first lists the ids through the reader,
 *    then deletes them in one commit.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meili.h"
#include "meili_tasks.h"

#define ID_BUF 512
#define PAGE 1000

static json_t *error_obj(const cxs_meili_error *e) {
    char link[160];
    const char *type = e->status >= 500 ? "internal" : "invalid_request";
    snprintf(link, sizeof link, "https://docs.meilisearch.com/errors#%s",
             e->code);
    return json_pack("{ssssssss}", "message", e->msg, "code", e->code, "type",
                     type, "link", link);
}

/* ---- writing ---- */

static cxs_status write_failed(cxs_server *s, const cxs_err *err,
                               cxs_meili_error *e) {
    cxs_server_writer_done(s, 0, 1);
    cxs_log_msg("error", "meili task: %s", err->msg);
    return cxs_meili_fail(e, err->code == CXS_ERR_LOCKED ? 503 : 500,
                          "internal", "%s", err->msg);
}

/* Puts the posts and deletes the ids in one commit. */
static cxs_status commit(cxs_server *s, cxs_post *posts, size_t np,
                         const json_t *ids, size_t *deleted,
                         cxs_meili_error *e) {
    cxs_snapshot *snap = cxs_server_snapshot_acquire(s);
    cxs_index *w = NULL;
    cxs_err err = {0};
    cxs_status rc = cxs_server_writer_begin(s, snap, &w, &err);
    cxs_server_snapshot_release(s, snap);
    if (rc != CXS_OK)
        return cxs_meili_fail(e, rc == CXS_ERR_LOCKED ? 503 : 500, "internal",
                              "%s", err.msg);
    for (size_t i = 0; i < np; i++) {
        cxs_put_result res;
        if (cxs_index_put(w, &posts[i], &res, &err) != CXS_OK)
            return write_failed(s, &err, e);
    }
    for (size_t i = 0; i < json_array_size(ids); i++) {
        rc = cxs_index_delete(w, json_string_value(json_array_get(ids, i)),
                              &err);
        if (rc != CXS_OK && rc != CXS_ERR_NOT_FOUND)
            return write_failed(s, &err, e);
        *deleted += rc == CXS_OK;
    }
    if (cxs_index_commit(w, &err) != CXS_OK)
        return write_failed(s, &err, e);
    cxs_server_writer_done(s, 1, 0);
    return CXS_OK;
}

static cxs_status reader(cxs_server *s, cxs_index **ix, cxs_meili_error *e) {
    cxs_snapshot *snap = cxs_server_snapshot_acquire(s);
    cxs_err err = {0};
    cxs_status rc = cxs_server_reader(s, snap, ix, &err);
    cxs_server_snapshot_release(s, snap);
    return rc == CXS_OK
               ? CXS_OK
               : cxs_meili_fail(e, 500, "internal", "index: %s", err.msg);
}

/* ---- adding and merging documents ---- */

/* The stored document with this id, or NULL. */
static json_t *stored_doc(cxs_index *ix, const char *id) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    json_t *doc = NULL;
    if (cxs_index_get(ix, id, &p, &err) == CXS_OK)
        doc = cxs_meili_post_to_doc(&p);
    cxs_post_release(&p);
    return doc;
}

/* The documents of the task by id, later copies replacing or merged into
 * earlier ones (and, for a merge, into the stored one). */
static cxs_status final_docs(cxs_server *s, const cxs_task *t, const char *pk,
                             json_t *byid, cxs_meili_error *e) {
    cxs_index *ix = NULL;
    int merge = t->kind == CXS_TASK_DOCS_UPDATE;
    if (merge && reader(s, &ix, e) != CXS_OK)
        return CXS_ERR_INTERNAL;
    for (size_t i = 0; i < json_array_size(t->payload); i++) {
        json_t *doc = json_array_get(t->payload, i);
        char buf[ID_BUF];
        const char *id =
            json_is_object(doc)
                ? cxs_meili_id_text(json_object_get(doc, pk), buf, sizeof buf)
                : NULL;
        cxs_post probe;
        if (!id) /* the conversion names what is wrong */
            return cxs_meili_doc_to_post(doc, pk, i, &probe, e) == CXS_OK
                       ? (cxs_post_release(&probe), CXS_ERR_INTERNAL)
                       : CXS_ERR_INVALID;
        json_t *base = json_object_get(byid, id);
        json_t *old = merge && !base ? stored_doc(ix, id) : NULL;
        if (merge && (base || old)) {
            json_t *m = json_deep_copy(base ? base : old);
            json_object_update(m, doc);
            json_object_set_new(byid, id, m);
        } else {
            json_object_set(byid, id, doc);
        }
        json_decref(old);
    }
    return CXS_OK;
}

static cxs_status to_posts(const json_t *byid, const char *pk, cxs_post **out,
                           size_t *n, cxs_meili_error *e) {
    size_t cap = json_object_size(byid) ? json_object_size(byid) : 1;
    cxs_post *posts = calloc(cap, sizeof *posts);
    const char *key;
    json_t *doc;
    *out = posts;
    *n = 0;
    if (!posts)
        return cxs_meili_fail(e, 500, "internal", "out of memory");
    json_object_foreach((json_t *)byid, key, doc) {
        if (cxs_meili_doc_to_post(doc, pk, *n, &posts[*n], e) != CXS_OK)
            return CXS_ERR_INVALID;
        (*n)++;
    }
    return CXS_OK;
}

/* 1 when the index holds no document: only then is a primary key
 * inferred, as Meilisearch infers it for a new index. */
static bool empty(cxs_server *s) {
    cxs_index *ix = NULL;
    cxs_meili_error e;
    cxs_search_req q = {0};
    cxs_search_res res = {0};
    cxs_err err = {0};
    int none = reader(s, &ix, &e) == CXS_OK &&
               cxs_index_search(ix, &q, &res, &err) == CXS_OK && !res.total;
    cxs_search_res_release(&res);
    return none;
}

static cxs_status add_docs(cxs_server *s, cxs_meili_tasks *q, const cxs_task *t,
                           json_t *details, cxs_meili_error *e) {
    char pk[CXS_MEILI_PK_MAX];
    json_t *byid = json_object();
    cxs_post *posts = NULL;
    size_t np = 0, deleted = 0;
    const json_t *first = json_array_get(t->payload, 0);
    cxs_meili_tasks_pk(q, pk);
    cxs_status rc = CXS_OK;
    if (t->pk || (first && !json_object_get(first, pk) && empty(s)))
        rc = cxs_meili_pk_infer(first, t->pk, pk, e);
    if (rc == CXS_OK)
        rc = final_docs(s, t, pk, byid, e);
    if (rc == CXS_OK)
        rc = to_posts(byid, pk, &posts, &np, e);
    if (rc == CXS_OK && np)
        rc = commit(s, posts, np, NULL, &deleted, e);
    if (rc == CXS_OK)
        cxs_meili_tasks_set_pk(q, pk);
    for (size_t i = 0; i < np; i++)
        cxs_post_release(&posts[i]);
    free(posts);
    json_decref(byid);
    json_object_set_new(details, "indexedDocuments",
                        rc == CXS_OK ? json_integer((json_int_t)np)
                                     : json_integer(0));
    return rc;
}

/* ---- deleting ---- */

static cxs_status ids_of(const json_t *payload, json_t *ids,
                         cxs_meili_error *e) {
    size_t i;
    const json_t *v;
    json_array_foreach(payload, i, v) {
        char buf[ID_BUF];
        const char *id = cxs_meili_id_text(v, buf, sizeof buf);
        if (!id)
            return cxs_meili_fail(e, 400, "invalid_document_id",
                                  "Document id %zu is not an integer or a "
                                  "string of letters, digits, '-' and '_'.",
                                  i);
        json_array_append_new(ids, json_string(id));
    }
    return CXS_OK;
}

static int collect_id(void *ud, const cxs_post *p) {
    return json_array_append_new(ud, json_string(p->id)) != 0;
}

/* The ids of every post, or of those the filter matches. */
static cxs_status ids_matching(cxs_server *s, const cxs_qnode *filter,
                               json_t *ids, cxs_meili_error *e) {
    cxs_index *ix = NULL;
    cxs_err err = {0};
    cxs_status rc = reader(s, &ix, e);
    if (rc == CXS_OK && !filter)
        rc = cxs_index_foreach(ix, collect_id, ids, &err);
    for (size_t off = 0; rc == CXS_OK && filter;) {
        cxs_search_req q = {0};
        cxs_search_res res = {0};
        q.offset = off;
        q.limit = PAGE;
        q.filter = filter;
        rc = cxs_index_search(ix, &q, &res, &err);
        for (size_t i = 0; rc == CXS_OK && i < res.nhits; i++)
            json_array_append_new(ids, json_string(res.hits[i].post.id));
        size_t got = res.nhits;
        cxs_search_res_release(&res);
        if (got < PAGE)
            break;
        off += got;
    }
    if (rc != CXS_OK && !e->code[0])
        cxs_meili_set(e, 500, "internal", "index: %s", err.msg);
    return rc;
}

static cxs_status delete_docs(cxs_server *s, const cxs_task *t, json_t *details,
                              cxs_meili_error *e) {
    json_t *ids = json_array();
    cxs_qnode *filter = NULL;
    size_t deleted = 0;
    cxs_err err = {0};
    cxs_status rc = CXS_OK;
    if (t->kind == CXS_TASK_DOCS_DELETE)
        rc = ids_of(t->payload, ids, e);
    else if (t->kind == CXS_TASK_DOCS_FILTER &&
             cxs_meili_filter(t->payload, &filter, &err) != CXS_OK)
        rc = cxs_meili_fail(
            e, err.code == CXS_ERR_NOMEM ? 500 : 400,
            err.code == CXS_ERR_NOMEM ? "internal" : "invalid_document_filter",
            "%s", err.msg);
    else
        rc = ids_matching(s, filter, ids, e);
    if (rc == CXS_OK && json_array_size(ids))
        rc = commit(s, NULL, 0, ids, &deleted, e);
    cxs_qnode_free(filter);
    json_decref(ids);
    json_object_set_new(details, "deletedDocuments",
                        json_integer((json_int_t)deleted));
    return rc;
}

/* ---- index and settings tasks ---- */

static cxs_status index_task(cxs_server *s, cxs_meili_tasks *q,
                             const cxs_task *t, json_t *details,
                             cxs_meili_error *e) {
    const json_t *pk = json_object_get(t->payload, "primaryKey");
    const char *uid = json_string_value(json_object_get(t->payload, "uid"));
    json_object_set(details, "primaryKey", pk ? (json_t *)pk : json_null());
    if (t->kind == CXS_TASK_INDEX_CREATE && uid &&
        strcmp(uid, t->index_uid) == 0)
        return cxs_meili_fail(e, 409, "index_already_exists",
                              "Index `%s` already exists.", uid);
    if (t->kind == CXS_TASK_INDEX_CREATE)
        return cxs_meili_fail(e, 400, "invalid_index_uid",
                              "cxsearch serves one index, `%s` "
                              "(meili_index_uid); it cannot create `%s`.",
                              t->index_uid, uid ? uid : "");
    if (json_is_string(pk))
        cxs_meili_tasks_set_pk(q, json_string_value(pk));
    (void)s;
    return CXS_OK;
}

void cxs_meili_apply(cxs_server *s, cxs_meili_tasks *q, const cxs_task *t,
                     json_t **details, json_t **error) {
    cxs_meili_error e;
    json_t *d = json_object();
    cxs_status rc = CXS_OK;
    memset(&e, 0, sizeof e);
    switch (t->kind) {
    case CXS_TASK_DOCS_ADD:
    case CXS_TASK_DOCS_UPDATE:
        json_object_set_new(
            d, "receivedDocuments",
            json_integer((json_int_t)json_array_size(t->payload)));
        rc = add_docs(s, q, t, d, &e);
        break;
    case CXS_TASK_DOCS_DELETE:
        json_object_set_new(
            d, "providedIds",
            json_integer((json_int_t)json_array_size(t->payload)));
        rc = delete_docs(s, t, d, &e);
        break;
    case CXS_TASK_DOCS_FILTER:
        json_object_set(d, "originalFilter", t->payload);
        rc = delete_docs(s, t, d, &e);
        break;
    case CXS_TASK_DOCS_CLEAR:
    case CXS_TASK_INDEX_DELETE: rc = delete_docs(s, t, d, &e); break;
    case CXS_TASK_INDEX_CREATE:
    case CXS_TASK_INDEX_UPDATE: rc = index_task(s, q, t, d, &e); break;
    case CXS_TASK_SETTINGS:
        json_object_update(d, t->payload); /* checked when queued */
        break;
    }
    *details = d;
    *error = rc == CXS_OK ? NULL : error_obj(&e);
}
