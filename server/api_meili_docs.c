/*
 * api_meili_docs.c - the Meilisearch endpoints beyond search, for the
 * official clients and the integrations built on them: documents (add,
 * update, get, list, fetch, delete), tasks, the index, its stats and
 * settings, /version, and the Meilisearch forms of /health and /stats.
 * Keys are in api_meili_keys.c; search in api_meili.c.
 *
 * Facts that shaped it:
 *  - Writes answer 202 with a task (meili_tasks.h) and are applied in
 *    order by one worker; what can be checked at once (a body that does
 *    not parse, a filter that does not, an unknown index) is refused at
 *    once with Meilisearch's error shape, and nothing is queued.
 *  - There is one index (meili_index_uid). Every /indexes/{uid}/...
 *    resource is one route whose parameter is the rest of the path, so a
 *    document id may hold '/' (posts written by cxsearch's own API have
 *    ids like "cxlogic/485"); it is split here.
 *  - Settings are what cxsearch does, reported in Meilisearch's terms.
 *    An update that asks for what cxsearch already does (a filterable
 *    attribute it can filter on, sorting by date, ...) is accepted as a
 *    task that changes nothing; anything else is refused with
 *    invalid_settings_<name> and a message saying what cxsearch does.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meili.h"
#include "meili_api.h"
#include "meili_tasks.h"
#include "routes.h"

#define DOCS_DEFAULT_LIMIT 20
#define DOCS_MAX_LIMIT 10000
#define TASKS_DEFAULT_LIMIT 20

static void fail(cxs_req *r, const cxs_meili_error *e) {
    cxs_req_error(r, e->status ? e->status : 500,
                  e->code[0] ? e->code : "internal", "%s", e->msg);
}

static cxs_index *reader_or_fail(cxs_req *r) {
    cxs_index *ix = NULL;
    cxs_err err = {0};
    if (cxs_server_reader(r->srv, r->snap, &ix, &err) == CXS_OK)
        return ix;
    cxs_log_msg("error", "index: %s", err.msg);
    cxs_req_error(r, 503, "internal", "index unavailable: %s", err.msg);
    return NULL;
}

static json_t *body_json(cxs_req *r, cxs_meili_error *e) {
    json_error_t je;
    json_t *root = r->body.len ? json_loadb(r->body.data, r->body.len, 0, &je)
                               : json_object();
    if (!root)
        cxs_meili_set(e, 400, "malformed_payload",
                      "The JSON payload is not valid: line %d, column %d: %s",
                      je.line, je.column, je.text);
    return root;
}

static void enqueue(cxs_req *r, cxs_task_kind kind, char *pk, json_t *payload) {
    cxs_meili_error e = {0};
    json_t *sum = NULL;
    if (cxs_meili_tasks_add(r->srv->tasks, kind, r->snap->cfg->meili_index_uid,
                            pk, payload, r->body.len, &sum, &e) != CXS_OK)
        fail(r, &e);
    else
        cxs_req_json(r, 202, sum);
}

/* ---- documents ---- */

static char *primary_key_param(cxs_req *r) {
    size_t n = 0;
    const char *pk = cxs_req_param(r, "primaryKey", &n);
    return pk && n && strlen(pk) == n ? strdup(pk) : NULL;
}

static void docs_write(cxs_req *r, cxs_task_kind kind) {
    cxs_meili_error e = {0};
    json_t *docs = NULL;
    size_t dn = 0;
    const char *d = cxs_req_param(r, "csvDelimiter", &dn);
    if (d && dn != 1) {
        cxs_req_error(r, 400, "invalid_document_csv_delimiter",
                      "csvDelimiter: expected one ASCII character");
        return;
    }
    if (cxs_meili_body_docs(cxs_req_header(r, "Content-Type"), r->body.data,
                            r->body.len, d ? d[0] : ',', &docs, &e) != CXS_OK) {
        fail(r, &e);
        return;
    }
    enqueue(r, kind, primary_key_param(r), docs);
}

/* The fields of a document the client asked for (NULL: all). */
static json_t *pick(json_t *doc, const json_t *fields) {
    if (!fields || !doc)
        return doc;
    json_t *o = json_object();
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f) {
        const char *k = json_string_value(f);
        if (k && !strcmp(k, "*")) {
            json_decref(o);
            return doc;
        }
        json_t *v = k ? json_object_get(doc, k) : NULL;
        if (v)
            json_object_set(o, k, v);
    }
    json_decref(doc);
    return o;
}

static json_t *fields_param(cxs_req *r) {
    size_t n = 0;
    const char *f = cxs_req_param(r, "fields", &n);
    if (!f)
        return NULL;
    json_t *a = json_array();
    for (const char *s = f; *s;) {
        size_t len = strcspn(s, ",");
        if (len)
            json_array_append_new(a, cxs_json_str(s, len));
        s += len + (s[len] == ',');
    }
    return a;
}

static void doc_get(cxs_req *r, const char *id) {
    cxs_index *ix = reader_or_fail(r);
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    if (!ix)
        return;
    cxs_status st = cxs_index_get(ix, id, &p, &err);
    if (st == CXS_ERR_NOT_FOUND)
        cxs_req_error(r, 404, "document_not_found",
                      "Document `%.200s` not found.", id);
    else if (st != CXS_OK)
        cxs_req_error(r, 500, "internal", "%s", err.msg);
    else {
        json_t *fields = fields_param(r);
        cxs_req_json(r, 200, pick(cxs_meili_post_to_doc(&p), fields));
        json_decref(fields);
    }
    cxs_post_release(&p);
}

typedef struct list_req {
    size_t offset, limit;
    const json_t *fields; /* NULL: all */
    const json_t *filter; /* NULL: none */
    const json_t *ids;    /* NULL: all */
} list_req;

static json_t *list_by_ids(cxs_index *ix, const list_req *q, size_t *total) {
    json_t *a = json_array();
    size_t i;
    const json_t *v;
    *total = 0;
    json_array_foreach(q->ids, i, v) {
        char buf[512];
        const char *id = cxs_meili_id_text(v, buf, sizeof buf);
        cxs_post p = CXS_POST_INIT;
        cxs_err err = {0};
        if (id && cxs_index_get(ix, id, &p, &err) == CXS_OK) {
            if (*total >= q->offset && json_array_size(a) < q->limit)
                json_array_append_new(
                    a, pick(cxs_meili_post_to_doc(&p), q->fields));
            (*total)++;
        }
        cxs_post_release(&p);
    }
    return a;
}

static void filter_failed(const cxs_err *err, cxs_meili_error *e) {
    if (err->code == CXS_ERR_NOMEM)
        cxs_meili_set(e, 500, "internal", "out of memory");
    else
        cxs_meili_set(e, 400, "invalid_document_filter", "%s", err->msg);
}

/* Documents in index order (the order of an empty query), filtered. */
static json_t *list_docs(cxs_index *ix, const list_req *q, size_t *total,
                         cxs_meili_error *e) {
    cxs_search_req s = {0};
    cxs_search_res res = {0};
    cxs_qnode *filter = NULL;
    cxs_err err = {0};
    if (q->ids)
        return list_by_ids(ix, q, total);
    if (cxs_meili_filter(q->filter, &filter, &err) != CXS_OK) {
        filter_failed(&err, e);
        return NULL;
    }
    s.offset = q->offset;
    s.limit = q->limit;
    s.filter = filter;
    s.want_text = 1;
    s.facets = CXS_FACET_LANG; /* makes the total exact */
    json_t *a = NULL;
    if (cxs_index_search(ix, &s, &res, &err) != CXS_OK) {
        cxs_meili_set(e, 500, "internal", "%s", err.msg);
    } else {
        a = json_array();
        for (size_t i = 0; i < res.nhits; i++)
            json_array_append_new(
                a, pick(cxs_meili_post_to_doc(&res.hits[i].post), q->fields));
        *total = res.total;
    }
    cxs_search_res_release(&res);
    cxs_qnode_free(filter);
    return a;
}

static void docs_list(cxs_req *r, const list_req *q) {
    cxs_meili_error e = {0};
    size_t total = 0;
    cxs_index *ix = reader_or_fail(r);
    json_t *a = ix ? list_docs(ix, q, &total, &e) : NULL;
    if (!ix)
        return;
    if (!a) {
        fail(r, &e);
        return;
    }
    cxs_req_json(r, 200,
                 json_pack("{sosIsIsI}", "results", a, "offset",
                           (json_int_t)q->offset, "limit", (json_int_t)q->limit,
                           "total", (json_int_t)total));
}

static bool count_param(cxs_req *r, const char *name, size_t def, size_t *out,
                        const char *code) {
    size_t n = 0;
    const char *v = cxs_req_param(r, name, &n);
    *out = def;
    if (!v)
        return 1;
    if (!n || n > 15 || strspn(v, "0123456789") != n) {
        cxs_req_error(r, 400, code, "%s: expected a whole number from 0", name);
        return 0;
    }
    *out = (size_t)strtoull(v, NULL, 10);
    return 1;
}

static void docs_get_list(cxs_req *r) {
    list_req q = {0};
    size_t fn = 0;
    const char *filter = cxs_req_param(r, "filter", &fn);
    json_t *fields = fields_param(r), *fj = filter ? json_string(filter) : NULL;
    if (count_param(r, "offset", 0, &q.offset, "invalid_document_offset") &&
        count_param(r, "limit", DOCS_DEFAULT_LIMIT, &q.limit,
                    "invalid_document_limit")) {
        q.limit = q.limit > DOCS_MAX_LIMIT ? DOCS_MAX_LIMIT : q.limit;
        q.fields = fields;
        q.filter = fj;
        docs_list(r, &q);
    }
    json_decref(fields);
    json_decref(fj);
}

static bool body_count(const json_t *o, const char *k, size_t *out,
                       cxs_meili_error *e) {
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        cxs_meili_set(e, 400,
                      strcmp(k, "offset") ? "invalid_document_limit"
                                          : "invalid_document_offset",
                      "%s: expected a whole number from 0", k);
        return false;
    }
    *out = (size_t)json_integer_value(v);
    return true;
}

static void docs_fetch(cxs_req *r) {
    cxs_meili_error e = {0};
    list_req q = {0, DOCS_DEFAULT_LIMIT, NULL, NULL, NULL};
    json_t *o = body_json(r, &e);
    const json_t *fields = json_object_get(o, "fields");
    if (o && (!json_is_object(o) ||
              (fields && !json_is_null(fields) && !json_is_array(fields))))
        cxs_meili_set(&e, 400, "invalid_document_fields",
                      "fields: expected an array of attribute names");
    else if (o && body_count(o, "offset", &q.offset, &e) &&
             body_count(o, "limit", &q.limit, &e)) {
        q.limit = q.limit > DOCS_MAX_LIMIT ? DOCS_MAX_LIMIT : q.limit;
        q.fields = json_is_array(fields) ? fields : NULL;
        q.filter = json_object_get(o, "filter");
        q.ids = json_is_array(json_object_get(o, "ids"))
                    ? json_object_get(o, "ids")
                    : NULL;
        docs_list(r, &q);
    }
    if (!r->responded)
        fail(r, &e);
    json_decref(o);
}

static void docs_delete_batch(cxs_req *r) {
    cxs_meili_error e = {0};
    json_t *o = body_json(r, &e);
    if (o && !json_is_array(o)) {
        cxs_req_error(r, 400, "invalid_document_ids",
                      "The body must be an array of document ids.");
        json_decref(o);
    } else if (o) {
        enqueue(r, CXS_TASK_DOCS_DELETE, NULL, o);
    } else {
        fail(r, &e);
    }
}

static void docs_delete_filter(cxs_req *r) {
    cxs_meili_error e = {0};
    json_t *o = body_json(r, &e);
    json_t *f = json_object_get(o, "filter");
    cxs_qnode *q = NULL;
    cxs_err err = {0};
    if (!o) {
        fail(r, &e);
        return;
    }
    if (!f || json_is_null(f))
        cxs_req_error(r, 400, "missing_document_filter",
                      "Missing field `filter`");
    else if (cxs_meili_filter(f, &q, &err) != CXS_OK)
        cxs_req_error(r, err.code == CXS_ERR_NOMEM ? 500 : 400,
                      err.code == CXS_ERR_NOMEM ? "internal"
                                                : "invalid_document_filter",
                      "%s", err.msg);
    else
        enqueue(r, CXS_TASK_DOCS_FILTER, NULL, json_incref(f));
    cxs_qnode_free(q);
    json_decref(o);
}

/* /indexes/{uid}/documents[/...] */
static void documents(cxs_req *r, const char *rest) {
    unsigned m = r->method == CXS_M_HEAD ? CXS_M_GET : r->method;
    if (!*rest && m == CXS_M_GET)
        return docs_get_list(r);
    if (!*rest && m == CXS_M_POST)
        return docs_write(r, CXS_TASK_DOCS_ADD);
    if (!*rest && m == CXS_M_PUT)
        return docs_write(r, CXS_TASK_DOCS_UPDATE);
    if (!*rest && m == CXS_M_DELETE)
        return enqueue(r, CXS_TASK_DOCS_CLEAR, NULL, NULL);
    if (!strcmp(rest, "/fetch") && m == CXS_M_POST)
        return docs_fetch(r);
    if (!strcmp(rest, "/delete-batch") && m == CXS_M_POST)
        return docs_delete_batch(r);
    if (!strcmp(rest, "/delete") && m == CXS_M_POST)
        return docs_delete_filter(r);
    if (rest[0] == '/' && rest[1] && m == CXS_M_GET)
        return doc_get(r, rest + 1);
    if (rest[0] == '/' && rest[1] && m == CXS_M_DELETE) {
        json_t *ids = json_array();
        json_array_append_new(ids, cxs_json_cstr(rest + 1));
        return enqueue(r, CXS_TASK_DOCS_DELETE, NULL, ids);
    }
    cxs_req_error(r, 405, "method_not_allowed",
                  "%s is not allowed on this documents resource",
                  r->method_name);
}

/* ---- the index, its stats ---- */

static json_t *index_json(cxs_req *r, const cxs_index_stats *st) {
    char pk[CXS_MEILI_PK_MAX];
    const char *when =
        st->last_update[0] ? st->last_update : "1970-01-01T00:00:00Z";
    cxs_meili_tasks_pk(r->srv->tasks, pk);
    return json_pack("{ssssssss}", "uid", r->snap->cfg->meili_index_uid,
                     "primaryKey", pk, "createdAt", when, "updatedAt", when);
}

static json_t *index_stats_json(cxs_req *r, const cxs_index_stats *st) {
    return json_pack("{sIsIsIsbso}", "numberOfDocuments", (json_int_t)st->posts,
                     "rawDocumentDbSize", (json_int_t)st->disk_bytes,
                     "avgDocumentSize",
                     (json_int_t)(st->posts ? st->disk_bytes / st->posts : 0),
                     "isIndexing", cxs_meili_tasks_busy(r->srv->tasks),
                     "fieldDistribution", json_object());
}

static bool stats(cxs_req *r, cxs_index_stats *st) {
    cxs_err err = {0};
    cxs_index *ix = reader_or_fail(r);
    memset(st, 0, sizeof *st);
    if (ix && cxs_index_stats_get(ix, st, &err) == CXS_OK)
        return 1;
    if (ix)
        cxs_req_error(r, 503, "internal", "index unavailable: %s", err.msg);
    return 0;
}

void cxs_meili_stats_extend(cxs_req *r, json_t *o, const cxs_index_stats *st) {
    json_object_set_new(o, "databaseSize",
                        json_integer((json_int_t)st->disk_bytes));
    json_object_set_new(o, "usedDatabaseSize",
                        json_integer((json_int_t)st->disk_bytes));
    json_object_set_new(o, "lastUpdate",
                        st->last_update[0] ? json_string(st->last_update)
                                           : json_null());
    json_object_set_new(o, "indexes",
                        json_pack("{so}", r->snap->cfg->meili_index_uid,
                                  index_stats_json(r, st)));
}

static void index_resource(cxs_req *r) {
    cxs_index_stats st;
    cxs_meili_error e = {0};
    if (r->method & (CXS_M_GET | CXS_M_HEAD)) {
        if (stats(r, &st))
            cxs_req_json(r, 200, index_json(r, &st));
        cxs_index_stats_release(&st);
    } else if (r->method == CXS_M_DELETE) {
        enqueue(r, CXS_TASK_INDEX_DELETE, NULL, NULL);
    } else if (r->method == CXS_M_PATCH) {
        json_t *o = body_json(r, &e);
        const json_t *pk = json_object_get(o, "primaryKey");
        if (!o)
            fail(r, &e);
        else if (pk && !json_is_null(pk) && !json_is_string(pk))
            cxs_req_error(r, 400, "invalid_index_primary_key",
                          "primaryKey: expected a string");
        else
            return enqueue(r, CXS_TASK_INDEX_UPDATE, NULL, o);
        json_decref(o);
    } else {
        cxs_req_not_allowed(r, CXS_M_GET | CXS_M_PATCH | CXS_M_DELETE);
    }
}

static void index_stats(cxs_req *r) {
    cxs_index_stats st;
    if (stats(r, &st))
        cxs_req_json(r, 200, index_stats_json(r, &st));
    cxs_index_stats_release(&st);
}

void cxs_api_meili_indexes(cxs_req *r) {
    cxs_index_stats st;
    cxs_meili_error e = {0};
    if (r->method == CXS_M_POST) {
        json_t *o = body_json(r, &e);
        if (!o)
            fail(r, &e);
        else if (!json_is_string(json_object_get(o, "uid")))
            cxs_req_error(r, 400, "missing_index_uid", "Missing field `uid`");
        else
            return enqueue(r, CXS_TASK_INDEX_CREATE, NULL, o);
        json_decref(o);
        return;
    }
    if (!stats(r, &st))
        return cxs_index_stats_release(&st);
    json_t *a = json_array();
    json_array_append_new(a, index_json(r, &st));
    cxs_index_stats_release(&st);
    cxs_req_json(r, 200,
                 json_pack("{sosisisi}", "results", a, "offset", 0, "limit", 20,
                           "total", 1));
}

/* /indexes/{path}: the uid, then the resource under it. */
void cxs_api_meili_index(cxs_req *r) {
    const char *path = r->param;
    size_t ul = strcspn(path, "/");
    const char *uid = r->snap->cfg->meili_index_uid, *rest = path + ul;
    if (strlen(uid) != ul || memcmp(uid, path, ul) != 0 ||
        strlen(path) != r->param_len) {
        cxs_req_error(r, 404, "index_not_found", "Index `%.*s` not found.",
                      (int)(ul > 200 ? 200 : ul), path);
        return;
    }
    if (!*rest)
        return index_resource(r);
    if (!strncmp(rest, "/documents", 10) &&
        (rest[10] == '\0' || rest[10] == '/'))
        return documents(r, rest + 10);
    if (!strcmp(rest, "/stats") && (r->method & (CXS_M_GET | CXS_M_HEAD)))
        return index_stats(r);
    if (!strncmp(rest, "/settings", 9) && (rest[9] == '\0' || rest[9] == '/'))
        return cxs_meili_settings(r, rest[9] ? rest + 10 : NULL);
    cxs_req_error(r, 404, "not_found", "no such endpoint");
}

/* ---- tasks, version, health ---- */

void cxs_api_meili_tasks(cxs_req *r) {
    cxs_task_query tq = {
        TASKS_DEFAULT_LIMIT, ULLONG_MAX, NULL, NULL, NULL, NULL};
    size_t from = 0;
    if (!count_param(r, "limit", TASKS_DEFAULT_LIMIT, &tq.limit,
                     "invalid_task_limit") ||
        !count_param(r, "from", 0, &from, "invalid_task_from"))
        return;
    if (cxs_req_param(r, "from", NULL))
        tq.from = from;
    tq.uids = cxs_req_param(r, "uids", NULL);
    tq.statuses = cxs_req_param(r, "statuses", NULL);
    tq.types = cxs_req_param(r, "types", NULL);
    tq.index_uids = cxs_req_param(r, "indexUids", NULL);
    cxs_req_json(r, 200, cxs_meili_tasks_list(r->srv->tasks, &tq));
}

void cxs_api_meili_task(cxs_req *r) {
    const char *s = r->param;
    json_t *t = NULL;
    if (strspn(s, "0123456789") == strlen(s) && strlen(s) < 20 &&
        strlen(s) == r->param_len)
        t = cxs_meili_tasks_get(r->srv->tasks, strtoull(s, NULL, 10));
    else
        return cxs_req_error(r, 400, "invalid_task_uids",
                             "Task uid `%.64s` is not a valid task uid.", s);
    if (!t)
        return cxs_req_error(r, 404, "task_not_found",
                             "Task `%.64s` not found.", s);
    cxs_req_json(r, 200, t);
}

void cxs_api_meili_version(cxs_req *r) {
    cxs_req_json(r, 200,
                 json_pack("{ssssssss}", "commitSha", "unknown", "commitDate",
                           "unknown", "pkgVersion", CXS_MEILI_API_VERSION,
                           "cxsearch", CXS_VERSION));
}

bool cxs_meili_client(const cxs_req *r) {
    const char *ua = cxs_req_header(r, "User-Agent");
    return cxs_req_header(r, "X-Meilisearch-Client") != NULL ||
           (ua && strncasecmp(ua, "Meilisearch", 11) == 0);
}

void cxs_api_meili_health(cxs_req *r) {
    cxs_index_stats st;
    if (stats(r, &st))
        cxs_req_json(r, 200, json_pack("{ss}", "status", "available"));
    cxs_index_stats_release(&st);
}

void cxs_meili_enqueue_settings(cxs_req *r, json_t *payload) {
    enqueue(r, CXS_TASK_SETTINGS, NULL, payload);
}
