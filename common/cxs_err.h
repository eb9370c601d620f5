/*
 * cxs_err.h - the one error convention of cxsearch.
 *
 * Every fallible function returns a cxs_status (CXS_OK == 0) and, when it
 * fails, fills a caller-provided cxs_err with the same code and a human
 * message. The caller owns the cxs_err (usually on its stack); passing NULL
 * is allowed and simply drops the message. Messages are truncated to fit.
 *
 * Typical use:
 *     cxs_err err = {0};
 *     if (cxs_index_commit(ix, &err) != CXS_OK)
 *         fprintf(stderr, "commit: %s\n", err.msg);
 *
 * Thread-safety: no shared state; a cxs_err must not be shared between
 * threads while in use.
 */
#ifndef CXS_ERR_H
#define CXS_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cxs_status {
    CXS_OK = 0,
    CXS_ERR_NOMEM,     /* allocation failed */
    CXS_ERR_INVALID,   /* bad argument or bad user input */
    CXS_ERR_PARSE,     /* malformed input file or document */
    CXS_ERR_IO,        /* file system error */
    CXS_ERR_NOT_FOUND, /* no such document, file or resource */
    CXS_ERR_LOCKED,    /* the index is held by another writer */
    CXS_ERR_INDEX,     /* Xapian reported an error */
    CXS_ERR_TOO_LARGE, /* input over a configured limit */
    CXS_ERR_INTERNAL,  /* a bug or an unexpected library failure */
    CXS_ERR_UNAVAILABLE /* a remote shard does not answer (for now) */
} cxs_status;

/* Marks a function whose status must be looked at: with -Werror an
 * ignored cxs_status is a build error, not a lost failure. Put it on every
 * function that returns a cxs_status (or another result that says whether
 * the call worked). */
#if defined(__GNUC__) || defined(__clang__)
#define CXS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CXS_MUST_CHECK
#endif

#define CXS_ERR_MSG_MAX 512

typedef struct cxs_err {
    cxs_status code;
    char msg[CXS_ERR_MSG_MAX];
} cxs_err;

/* Sets code and a printf-style message; returns code so callers can write
 * `return cxs_err_set(err, CXS_ERR_IO, "open %s: %s", p, strerror(errno));`.
 * err may be NULL. */
cxs_status cxs_err_set(cxs_err *err, cxs_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets err to CXS_OK with an empty message. err may be NULL. */
void cxs_err_clear(cxs_err *err);

/* A short stable name of a status ("invalid", "not_found", ...), for logs
 * and JSON error codes. Never NULL. */
const char *cxs_status_name(cxs_status code);

#ifdef __cplusplus
}
#endif

#endif /* CXS_ERR_H */
