/*
 * api_write.c - writes through the API: POST /documents (one JSON post, a
 * JSON array of posts, or JSON Lines), PUT /documents/{id},
 * DELETE /documents/{id}. The write key is checked before the body is
 * read (http.c); here the body is turned into posts and committed.
 *
 * Facts that shaped it:
 *  - A request is all or nothing: every post is parsed and validated
 *    before the writer is touched, and a failure after the first put
 *    closes the writer, which discards what was not committed. A bad line
 *    is a 400 naming the line (or array item) and the field.
 *  - Duplicate ids in one batch: the last occurrence wins (as if they had
 *    been sent one after the other); the answer counts the duplicates.
 *  - Visibility: the commit returns before the answer is sent and the
 *    generation is bumped, so the client's next search sees the write.
 *  - Only one writer may hold the database; when `cxsearch index` holds it
 *    the answer is 503 "locked" with Retry-After, never a hang.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_grow.h"
#include "routes.h"

typedef struct batch {
    cxs_post *posts;
    size_t n, cap;
    unsigned char *skip; /* 1: a later post has the same id */
    size_t duplicates;
} batch;

static void batch_release(batch *b) {
    for (size_t i = 0; i < b->n; i++)
        cxs_post_release(&b->posts[i]);
    free(b->posts);
    free(b->skip);
}

/* Parses one JSON object into the batch; where names the line or item. */
static bool add_post(cxs_req *r, batch *b, json_t *obj, const char *where,
                    size_t at) {
    cxs_err err = {0};
    if (!json_is_object(obj)) {
        cxs_req_error(r, 400, "bad_post", "%s %zu: expected a JSON object",
                      where, at);
        return false;
    }
    if (CXS_GROW(b->posts, b->cap, b->n + 1) != CXS_OK) {
        cxs_req_error(r, 500, "out_of_memory", "out of memory");
        return false;
    }
    cxs_post *p = &b->posts[b->n];
    memset(p, 0, sizeof *p);
    if (cxs_post_from_json(obj, p, &err) != CXS_OK ||
        cxs_post_finish(p, &err) != CXS_OK) {
        cxs_post_release(p);
        cxs_req_error(r, 400, "bad_post", "%s %zu: %s", where, at, err.msg);
        return false;
    }
    b->n++;
    return true;
}

static bool parse_json_body(cxs_req *r, batch *b) {
    json_error_t je;
    json_t *root = json_loadb(r->body.data, r->body.len, 0, &je);
    int ok = 1;
    if (!root) {
        cxs_req_error(r, 400, "bad_json",
                      "invalid JSON at line %d, column %d: %s (send JSON "
                      "Lines as application/x-ndjson)",
                      je.line, je.column, je.text);
        return false;
    }
    if (json_is_array(root)) {
        size_t i;
        json_t *e;
        json_array_foreach(root, i, e) {
            if (!(ok = add_post(r, b, e, "item", i + 1)))
                break;
        }
    } else {
        ok = add_post(r, b, root, "post", 1);
    }
    json_decref(root);
    return ok;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static bool parse_lines(cxs_req *r, batch *b) {
    const char *s = r->body.data;
    size_t n = r->body.len, line = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        line++;
        if (!blank(s + i, len)) {
            json_error_t je;
            json_t *obj = json_loadb(s + i, len, 0, &je);
            if (!obj) {
                cxs_req_error(r, 400, "bad_json", "line %zu, column %d: %s",
                              line, je.column, je.text);
                return false;
            }
            int ok = add_post(r, b, obj, "line", line);
            json_decref(obj);
            if (!ok)
                return false;
        }
        i += len + 1;
    }
    return true;
}

static int by_id_then_order(const void *a, const void *b) {
    const cxs_post *const *pa = a, *const *pb = b;
    int c = strcmp((*pa)->id, (*pb)->id);
    return c ? c : (*pa < *pb ? -1 : *pa > *pb);
}

/* Marks every post whose id comes again later in the batch. */
static bool mark_duplicates(batch *b) {
    cxs_post **order = malloc((b->n ? b->n : 1) * sizeof *order);
    b->skip = calloc(b->n ? b->n : 1, 1);
    if (!order || !b->skip) {
        free(order);
        return false;
    }
    for (size_t i = 0; i < b->n; i++)
        order[i] = &b->posts[i];
    qsort(order, b->n, sizeof *order, by_id_then_order);
    for (size_t i = 0; i + 1 < b->n; i++)
        if (strcmp(order[i]->id, order[i + 1]->id) == 0) {
            b->skip[order[i] - b->posts] = 1;
            b->duplicates++;
        }
    free(order);
    return true;
}

static const char *content_type(const cxs_req *r) {
    const char *ct = cxs_req_header(r, "Content-Type");
    return ct ? ct : "";
}

/* Write failures that are not the user's: the writer is closed (so the
 * uncommitted part is dropped) and the status mapped. */
static void write_failed(cxs_req *r, const cxs_err *err) {
    cxs_server_writer_done(r->srv, 0, 1);
    cxs_req_fail(r, err->code == CXS_OK ? CXS_ERR_INTERNAL : err->code,
                 err->msg);
}

static cxs_index *writer_or_fail(cxs_req *r) {
    cxs_index *w = NULL;
    cxs_err err = {0};
    if (cxs_server_writer_begin(r->srv, r->snap, &w, &err) == CXS_OK)
        return w;
    if (err.code == CXS_ERR_LOCKED)
        cxs_req_fail(r, CXS_ERR_LOCKED, err.msg);
    else
        cxs_req_fail(r, err.code == CXS_ERR_NOT_FOUND ? CXS_ERR_IO : err.code,
                     err.msg);
    return NULL;
}

static void count(cxs_server *s, cxs_put_result res, size_t *c) {
    static const cxs_metric M[] = {CXS_M_POSTS_ADDED, CXS_M_POSTS_UPDATED,
                                   CXS_M_POSTS_UNCHANGED};
    c[res]++;
    cxs_metrics_add(s->metrics, M[res], 1);
}

/* Puts every post not superseded later in the batch, then commits. */
static void write_batch(cxs_req *r, batch *b) {
    size_t c[3] = {0, 0, 0};
    cxs_err err = {0};
    double t0 = cxs_server_now();
    cxs_index *w = writer_or_fail(r);
    if (!w)
        return;
    for (size_t i = 0; i < b->n; i++) {
        cxs_put_result res;
        if (b->skip[i])
            continue;
        if (cxs_index_put(w, &b->posts[i], &res, &err) != CXS_OK)
            return write_failed(r, &err);
        count(r->srv, res, c);
    }
    if (cxs_index_commit(w, &err) != CXS_OK)
        return write_failed(r, &err);
    cxs_server_writer_done(r->srv, 1, 0);
    json_t *o = json_object();
    json_object_set_new(o, "posts", json_integer((json_int_t)b->n));
    json_object_set_new(o, "added", json_integer((json_int_t)c[0]));
    json_object_set_new(o, "updated", json_integer((json_int_t)c[1]));
    json_object_set_new(o, "unchanged", json_integer((json_int_t)c[2]));
    json_object_set_new(o, "duplicates",
                        json_integer((json_int_t)b->duplicates));
    json_t *ids = json_array();
    for (size_t i = 0; i < b->n && i < 1000; i++)
        json_array_append_new(ids, cxs_json_cstr(b->posts[i].id));
    json_object_set_new(o, "ids", ids);
    json_object_set_new(o, "took_ms",
                        json_real((cxs_server_now() - t0) * 1000.0));
    cxs_req_json(r, 200, o);
}

void cxs_api_post_documents(cxs_req *r) {
    batch b = {0};
    const char *ct = content_type(r);
    int lines = strncasecmp(ct, "application/json", 16) != 0 ||
                (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ');
    int ok;
    if (blank(r->body.data ? r->body.data : "", r->body.len)) {
        cxs_req_error(r, 400, "empty_body", "the request body is empty");
        return;
    }
    ok = lines ? parse_lines(r, &b) : parse_json_body(r, &b);
    if (ok && b.n == 0)
        ok = (cxs_req_error(r, 400, "empty_body", "no posts in the body"), 0);
    if (ok && !mark_duplicates(&b))
        ok = (cxs_req_error(r, 500, "out_of_memory", "out of memory"), 0);
    if (ok)
        write_batch(r, &b);
    batch_release(&b);
}

/* The body of PUT: one post whose id, if any, is the one in the path. */
static bool put_post(cxs_req *r, batch *b) {
    json_error_t je;
    json_t *root =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!root) {
        cxs_req_error(r, 400, "bad_json",
                      "invalid JSON at line %d, column "
                      "%d: %s",
                      je.line, je.column, je.text);
        return false;
    }
    json_t *id = json_object_get(root, "id");
    int ok = 1;
    if (json_is_object(root) && id &&
        (!json_is_string(id) || strcmp(json_string_value(id), r->param) != 0 ||
         json_string_length(id) != r->param_len))
        ok = (cxs_req_error(r, 400, "id_mismatch",
                            "the body's id differs from the id in the path"),
              0);
    if (ok && json_is_object(root) &&
        json_object_set_new(root, "id", json_stringn(r->param, r->param_len)) !=
            0)
        ok = (cxs_req_error(r, 400, "bad_id", "the id is not valid UTF-8"), 0);
    ok = ok && add_post(r, b, root, "post", 1);
    json_decref(root);
    return ok;
}

void cxs_api_put_document(cxs_req *r) {
    batch b = {0};
    cxs_err err = {0};
    cxs_put_result res;
    size_t c[3] = {0, 0, 0};
    cxs_index *w = put_post(r, &b) ? writer_or_fail(r) : NULL;
    if (w && cxs_index_put(w, &b.posts[0], &res, &err) != CXS_OK)
        write_failed(r, &err);
    else if (w && cxs_index_commit(w, &err) != CXS_OK)
        write_failed(r, &err);
    else if (w) {
        cxs_server_writer_done(r->srv, 1, 0);
        count(r->srv, res, c);
        static const char *const names[] = {"added", "updated", "unchanged"};
        json_t *o = json_object();
        json_object_set_new(o, "id", cxs_json_cstr(b.posts[0].id));
        json_object_set_new(o, "result", json_string(names[res]));
        cxs_req_json(r, res == CXS_PUT_ADDED ? 201 : 200, o);
    }
    batch_release(&b);
}

void cxs_api_delete_document(cxs_req *r) {
    cxs_err err = {0};
    if (strlen(r->param) != r->param_len) {
        cxs_req_error(r, 400, "bad_id", "id: NUL byte");
        return;
    }
    cxs_index *w = writer_or_fail(r);
    if (!w)
        return;
    cxs_status st = cxs_index_delete(w, r->param, &err);
    if (st == CXS_ERR_NOT_FOUND) {
        cxs_server_writer_done(r->srv, 0, 0);
        cxs_req_error(r, 404, "not_found", "no post with id '%s'", r->param);
        return;
    }
    if (st != CXS_OK || cxs_index_commit(w, &err) != CXS_OK)
        return write_failed(r, &err);
    cxs_server_writer_done(r->srv, 1, 0);
    cxs_metrics_add(r->srv->metrics, CXS_M_POSTS_DELETED, 1);
    json_t *o = json_object();
    json_object_set_new(o, "id", cxs_json_cstr(r->param));
    json_object_set_new(o, "deleted", json_true());
    cxs_req_json(r, 200, o);
}
