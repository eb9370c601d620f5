/*
 * meili_tasks.c - the task queue, its worker thread and the task JSON of
 * Meilisearch (see meili_tasks.h).
 *
 * Facts that shaped it:
 *  - Tasks live in one array in uid order; the oldest finished ones are
 *    dropped past HISTORY_MAX, so uids in the array are increasing and a
 *    lookup is a binary search. Waiting tasks are never dropped.
 *  - Times are Unix seconds with microseconds (clock_gettime REALTIME),
 *    written as RFC 3339 in UTC; durations as ISO 8601 ("PT0.012S"), as
 *    Meilisearch writes them.
 *  - The worker takes a task, releases the lock while applying it (reads
 *    of /tasks go on), then publishes the result under the lock.
 */
#include "meili_tasks.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_MAX 10000
#define PENDING_MAX 1000
#define PENDING_BYTES_MAX (256u << 20)

struct cxs_meili_tasks {
    cxs_server *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t worker;
    int started, stopping;
    cxs_task **v; /* uid order */
    size_t n, cap;
    size_t pending; /* enqueued or processing */
    size_t pending_bytes;
    unsigned long long next_uid;
    char pk[CXS_MEILI_PK_MAX];
};

static const char *const KIND_NAMES[] = {"documentAdditionOrUpdate",
                                         "documentAdditionOrUpdate",
                                         "documentDeletion",
                                         "documentDeletion",
                                         "documentDeletion",
                                         "indexCreation",
                                         "indexUpdate",
                                         "indexDeletion",
                                         "settingsUpdate"};
static const char *const STATUS_NAMES[] = {"enqueued", "processing",
                                           "succeeded", "failed"};

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *when(double t) {
    char buf[48], out[64];
    time_t s = (time_t)t;
    struct tm tm;
    if (t <= 0)
        return json_null();
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "%s.%06ldZ", buf, (long)((t - (double)s) * 1e6));
    return json_string(out);
}

static void task_free(cxs_task *t) {
    if (!t)
        return;
    free(t->index_uid);
    free(t->pk);
    json_decref(t->payload);
    json_decref(t->details);
    json_decref(t->error);
    free(t);
}

/* ---- the worker ---- */

static cxs_task *next_waiting(cxs_meili_tasks *q) {
    for (size_t i = 0; i < q->n; i++)
        if (q->v[i]->status == CXS_TASK_ENQUEUED)
            return q->v[i];
    return NULL;
}

static void *worker_main(void *arg) {
    cxs_meili_tasks *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        cxs_task *t = next_waiting(q);
        if (!t && q->stopping)
            break;
        if (!t) {
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        t->status = CXS_TASK_PROCESSING;
        t->started = wall_now();
        pthread_mutex_unlock(&q->mu);
        json_t *details = NULL, *error = NULL;
        cxs_meili_apply(q->srv, q, t, &details, &error);
        pthread_mutex_lock(&q->mu);
        t->details = details;
        t->error = error;
        t->status = t->error ? CXS_TASK_FAILED : CXS_TASK_SUCCEEDED;
        t->finished = wall_now();
        json_decref(t->payload);
        t->payload = NULL;
        q->pending--;
        q->pending_bytes -= t->bytes;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

cxs_status cxs_meili_tasks_new(cxs_server *s, cxs_meili_tasks **out,
                               cxs_err *err) {
    cxs_meili_tasks *q = calloc(1, sizeof *q);
    *out = NULL;
    if (!q)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    q->srv = s;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    snprintf(q->pk, sizeof q->pk, "id");
    *out = q;
    return CXS_OK;
}

void cxs_meili_tasks_free(cxs_meili_tasks *q) {
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (q->started)
        pthread_join(q->worker, NULL);
    for (size_t i = 0; i < q->n; i++)
        task_free(q->v[i]);
    free(q->v);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

/* Drops the oldest finished tasks past the history bound. */
static void trim(cxs_meili_tasks *q) {
    size_t drop = 0;
    while (q->n - drop > HISTORY_MAX + q->pending &&
           q->v[drop]->status >= CXS_TASK_SUCCEEDED)
        task_free(q->v[drop++]);
    if (drop) {
        memmove(q->v, q->v + drop, (q->n - drop) * sizeof *q->v);
        q->n -= drop;
    }
}

static json_t *summary(const cxs_task *t) {
    return json_pack("{sIssssssso}", "taskUid", (json_int_t)t->uid, "indexUid",
                     t->index_uid, "status", "enqueued", "type",
                     KIND_NAMES[t->kind], "enqueuedAt", when(t->enqueued));
}

static cxs_status push(cxs_meili_tasks *q, cxs_task *t, cxs_meili_error *e) {
    if (q->pending >= PENDING_MAX ||
        (q->pending && q->pending_bytes + t->bytes > PENDING_BYTES_MAX))
        return cxs_meili_fail(e, 503, "too_many_tasks",
                              "%zu tasks (%zu MiB) are waiting already; retry "
                              "when some are done.",
                              q->pending, q->pending_bytes >> 20);
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        cxs_task **v = realloc(q->v, cap * sizeof *v);
        if (!v)
            return cxs_meili_fail(e, 500, "internal", "out of memory");
        q->v = v;
        q->cap = cap;
    }
    if (!q->started) {
        if (pthread_create(&q->worker, NULL, worker_main, q) != 0)
            return cxs_meili_fail(e, 500, "internal",
                                  "cannot start the task worker");
        q->started = 1;
    }
    t->uid = q->next_uid++;
    q->v[q->n++] = t;
    q->pending++;
    q->pending_bytes += t->bytes;
    trim(q);
    pthread_cond_signal(&q->cv);
    return CXS_OK;
}

cxs_status cxs_meili_tasks_add(cxs_meili_tasks *q, cxs_task_kind kind,
                               const char *index_uid, char *pk, json_t *payload,
                               size_t bytes, json_t **out, cxs_meili_error *e) {
    cxs_task *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t || !(t->index_uid = strdup(index_uid))) {
        free(pk);
        json_decref(payload);
        task_free(t);
        return cxs_meili_fail(e, 500, "internal", "out of memory");
    }
    t->kind = kind;
    t->pk = pk;
    t->payload = payload;
    t->bytes = bytes;
    t->enqueued = wall_now();
    pthread_mutex_lock(&q->mu);
    cxs_status rc = push(q, t, e);
    if (rc == CXS_OK)
        *out = summary(t);
    pthread_mutex_unlock(&q->mu);
    if (rc != CXS_OK)
        task_free(t);
    return rc;
}

/* ---- reporting ---- */

static json_t *duration(const cxs_task *t) {
    char buf[48];
    if (t->finished <= 0)
        return json_null();
    snprintf(buf, sizeof buf, "PT%.6fS", t->finished - t->started);
    return json_string(buf);
}

/* Called with the lock held. Meilisearch batches tasks; here each task
 * is its own batch, which takes the task's uid. */
static json_t *task_json(const cxs_task *t) {
    json_t *o =
        json_pack("{sIsssssssosososo}", "uid", (json_int_t)t->uid, "indexUid",
                  t->index_uid, "status", STATUS_NAMES[t->status], "type",
                  KIND_NAMES[t->kind], "enqueuedAt", when(t->enqueued),
                  "startedAt", when(t->started), "finishedAt",
                  when(t->finished), "duration", duration(t));
    if (!o)
        return NULL;
    json_object_set_new(o, "batchUid",
                        t->status >= CXS_TASK_PROCESSING
                            ? json_integer((json_int_t)t->uid)
                            : json_null());
    json_object_set_new(o, "canceledBy", json_null());
    json_object_set_new(o, "details",
                        t->details ? json_incref(t->details) : json_object());
    json_object_set_new(o, "error",
                        t->error ? json_incref(t->error) : json_null());
    return o;
}

static cxs_task *find(cxs_meili_tasks *q, unsigned long long uid) {
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->v[mid]->uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n && q->v[lo]->uid == uid ? q->v[lo] : NULL;
}

json_t *cxs_meili_tasks_get(cxs_meili_tasks *q, unsigned long long uid) {
    pthread_mutex_lock(&q->mu);
    cxs_task *t = find(q, uid);
    json_t *o = t ? task_json(t) : NULL;
    pthread_mutex_unlock(&q->mu);
    return o;
}

/* 1 when word is one of the comma list (NULL or "*" lists everything). */
static bool listed(const char *list, const char *word) {
    size_t n = strlen(word);
    if (!list || !strcmp(list, "*"))
        return 1;
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !memcmp(s, word, n))
            return 1;
        s += len + (s[len] == ',');
    }
    return 0;
}

static bool matches(const cxs_task *t, const cxs_task_query *tq) {
    char uid[32];
    snprintf(uid, sizeof uid, "%llu", t->uid);
    return listed(tq->uids, uid) &&
           listed(tq->statuses, STATUS_NAMES[t->status]) &&
           listed(tq->types, KIND_NAMES[t->kind]) &&
           listed(tq->index_uids, t->index_uid);
}

json_t *cxs_meili_tasks_list(cxs_meili_tasks *q, const cxs_task_query *tq) {
    json_t *res = json_array();
    json_int_t total = 0, first = -1, next = -1;
    pthread_mutex_lock(&q->mu);
    for (size_t i = q->n; i-- > 0;) {
        const cxs_task *t = q->v[i];
        if (!matches(t, tq))
            continue;
        total++;
        if (t->uid > tq->from)
            continue;
        if (json_array_size(res) < tq->limit) {
            json_array_append_new(res, task_json(t));
            first = first < 0 ? (json_int_t)t->uid : first;
        } else if (next < 0) {
            next = (json_int_t)t->uid;
        }
    }
    pthread_mutex_unlock(&q->mu);
    json_t *o = json_pack("{sosIsI}", "results", res, "total", total, "limit",
                          (json_int_t)tq->limit);
    json_object_set_new(o, "from",
                        first < 0 ? json_null() : json_integer(first));
    json_object_set_new(o, "next", next < 0 ? json_null() : json_integer(next));
    return o;
}

void cxs_meili_tasks_pk(cxs_meili_tasks *q, char *pk) {
    pthread_mutex_lock(&q->mu);
    memcpy(pk, q->pk, CXS_MEILI_PK_MAX);
    pthread_mutex_unlock(&q->mu);
}

void cxs_meili_tasks_set_pk(cxs_meili_tasks *q, const char *pk) {
    pthread_mutex_lock(&q->mu);
    snprintf(q->pk, sizeof q->pk, "%s", pk);
    pthread_mutex_unlock(&q->mu);
}

bool cxs_meili_tasks_busy(cxs_meili_tasks *q) {
    pthread_mutex_lock(&q->mu);
    int busy = q->pending > 0;
    pthread_mutex_unlock(&q->mu);
    return busy;
}
