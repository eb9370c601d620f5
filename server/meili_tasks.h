/*
 * meili_tasks.h - Meilisearch's asynchronous tasks: every write of the
 * Meilisearch-compatible API is answered 202 with a task, queued, and
 * applied in order by one worker thread; /tasks and /tasks/{uid} report
 * them as Meilisearch does, so the official clients' waitTask() works.
 *
 * Facts that shaped it:
 *  - Writes must apply in the order they were accepted, and a client may
 *    send the next before the first is done: one queue, one worker. The
 *    worker takes the daemon's one writer (cxs_server_writer_begin) per
 *    task, so writes through cxsearch's own API interleave safely, and a
 *    task is one commit: all of it or nothing.
 *  - The history is in memory and bounded (the newest 10,000 finished
 *    tasks are kept; uids restart at 0 with the daemon). At most 1,000
 *    tasks, or 256 MiB of request bodies, may wait; more are refused
 *    (503) rather than held in memory.
 *    On shutdown the worker first applies what is queued.
 *  - The work of a task (documents, deletions, settings) is done by
 *    cxs_meili_apply (meili_apply.c); this module only queues, runs and
 *    reports.
 *
 * Thread-safety: every function may be called from any thread.
 * Ownership: the queue owns the tasks; JSON returned is a new reference.
 */
#ifndef CXS_SERVER_MEILI_TASKS_H
#define CXS_SERVER_MEILI_TASKS_H

#include <jansson.h>
#include <stdbool.h>

#include "cxs_err.h"
#include "meili_docs.h"
#include "server.h"

typedef enum cxs_task_kind {
    CXS_TASK_DOCS_ADD,     /* payload: documents (replace) */
    CXS_TASK_DOCS_UPDATE,  /* payload: documents (merge fields) */
    CXS_TASK_DOCS_DELETE,  /* payload: array of ids */
    CXS_TASK_DOCS_FILTER,  /* payload: the filter (validated) */
    CXS_TASK_DOCS_CLEAR,   /* no payload */
    CXS_TASK_INDEX_CREATE, /* payload: {"uid", "primaryKey"} */
    CXS_TASK_INDEX_UPDATE, /* payload: {"primaryKey"} */
    CXS_TASK_INDEX_DELETE, /* no payload */
    CXS_TASK_SETTINGS      /* payload: the settings (validated) */
} cxs_task_kind;

typedef struct cxs_task {
    unsigned long long uid;
    cxs_task_kind kind;
    char *index_uid;
    char *pk;                           /* the primaryKey parameter, or NULL */
    json_t *payload;                    /* freed when the task is done */
    json_t *details;                    /* set by the worker */
    json_t *error;                      /* set by the worker when it failed */
    int status;                         /* CXS_TASK_ENQUEUED ... */
    double enqueued, started, finished; /* Unix seconds */
    size_t bytes; /* the request body it came from, while it waits */
} cxs_task;

enum {
    CXS_TASK_ENQUEUED,
    CXS_TASK_PROCESSING,
    CXS_TASK_SUCCEEDED,
    CXS_TASK_FAILED
};

typedef struct cxs_meili_tasks cxs_meili_tasks;

/* A queue for this server; its worker starts with the first task. */
CXS_MUST_CHECK cxs_status cxs_meili_tasks_new(cxs_server *s,
                                              cxs_meili_tasks **out,
                                              cxs_err *err);

/* Applies what is queued, stops the worker, frees everything. NULL ok.
 * Call before the server's readers and writer are closed. */
void cxs_meili_tasks_free(cxs_meili_tasks *q);

/* Queues a task (payload and pk are taken over, even on failure); bytes
 * is the size of the body it came from. On
 * success *summary is the 202 answer ({taskUid, indexUid, status, type,
 * enqueuedAt}). Fails with a 503 when too many tasks wait. */
CXS_MUST_CHECK cxs_status cxs_meili_tasks_add(
    cxs_meili_tasks *q, cxs_task_kind kind, const char *index_uid, char *pk,
    json_t *payload, size_t bytes, json_t **summary, cxs_meili_error *e);

/* One task as /tasks/{uid} shows it; NULL when unknown (or forgotten). */
json_t *cxs_meili_tasks_get(cxs_meili_tasks *q, unsigned long long uid);

/* /tasks: newest first, from uid `from` (ULLONG_MAX: the newest) down;
 * filters are comma lists or NULL (uids, statuses, types, indexUids). */
typedef struct cxs_task_query {
    size_t limit;
    unsigned long long from;
    const char *uids, *statuses, *types, *index_uids;
} cxs_task_query;

json_t *cxs_meili_tasks_list(cxs_meili_tasks *q, const cxs_task_query *tq);

/* The primary key the worker inferred or was given last ("id" when none);
 * copied into pk (CXS_MEILI_PK_MAX bytes). */
void cxs_meili_tasks_pk(cxs_meili_tasks *q, char *pk);
void cxs_meili_tasks_set_pk(cxs_meili_tasks *q, const char *pk);

/* True while a task waits or runs (isIndexing). */
bool cxs_meili_tasks_busy(cxs_meili_tasks *q);

/* meili_apply.c: does the work of one task in the worker thread (t is
 * only read: its status is reported meanwhile); *details gets the task's
 * details, and *error Meilisearch's error object when it failed. */
void cxs_meili_apply(cxs_server *s, cxs_meili_tasks *q, const cxs_task *t,
                     json_t **details, json_t **error);

#endif /* CXS_SERVER_MEILI_TASKS_H */
