/*
 * log.h - cxsearchd's two outputs: diagnostics (plain lines on stderr) and
 * the access log (one JSON object per request, to stderr or a file).
 *
 * Facts that shaped it: every pool thread logs, so a line is written with
 * one write(2) on an O_APPEND descriptor (atomic for lines this short; no
 * lock); SIGHUP reopens the file for log rotation, which must not pull a
 * descriptor from under a thread in the middle of a write, so the file is
 * always reached through one fixed descriptor that dup2 swaps atomically.
 * Keys and request bodies are never passed here.
 *
 * Thread-safety: cxs_log_access and cxs_log_msg may be called from any
 * thread; cxs_log_open only from the main thread.
 */
#ifndef CXS_SERVER_LOG_H
#define CXS_SERVER_LOG_H

#include <jansson.h>
#include <stdatomic.h>

#include "cxs_err.h"

typedef struct cxs_log {
    atomic_int fd; /* where access lines go; -1: off */
    int file_fd;   /* our file's fixed descriptor, -1 before the first */
} cxs_log;

void cxs_log_init(cxs_log *l);

/* (Re)opens the access log: NULL turns it off, "-" is stderr, anything
 * else a file opened for appending (created 0640). */
CXS_MUST_CHECK
cxs_status cxs_log_open(cxs_log *l, const char *path, cxs_err *err);

/* Closes the file, if any. */
void cxs_log_close(cxs_log *l);

/* Writes obj as one compact JSON line (obj is borrowed). */
void cxs_log_access(cxs_log *l, const json_t *obj);

/* A diagnostic line on stderr: "cxsearchd: LEVEL: message". */
void cxs_log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* CXS_SERVER_LOG_H */
