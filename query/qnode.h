/*
 * qnode.h - a query tree in plain C.
 *
 * The query parser (query.h) builds it; the Xapian shim turns it into a
 * Xapian::Query. Keeping the tree in C means the parser needs no C++ and
 * the shim needs no knowledge of the query language.
 *
 * Ownership: a node owns its strings and its children; cxs_qnode_free
 * frees the whole subtree. cxs_qnode_add takes the child over (also on
 * failure, when it frees it), so building code needs no cleanup branches.
 * Not thread-safe; a finished tree may be read by several threads.
 */
#ifndef CXS_QNODE_H
#define CXS_QNODE_H

#include <stddef.h>

#include "cxs_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cxs_qop {
    CXS_Q_TERM,     /* term: a full Xapian term (prefix included) */
    CXS_Q_AND,      /* all children */
    CXS_Q_OR,       /* any child */
    CXS_Q_AND_NOT,  /* kids[0] but none of kids[1..] */
    CXS_Q_AND_MAYBE,/* kids[0], ranked up by kids[1..] */
    CXS_Q_SYNONYM,  /* any child, weighted as one term (word variants) */
    CXS_Q_PHRASE,   /* children in order within `window` positions
                       (0: exactly adjacent); children are terms or ORs
                       of terms */
    CXS_Q_NEAR,     /* children within `window` positions, any order */
    CXS_Q_SCALE,    /* kids[0] with its weight multiplied by `scale` */
    CXS_Q_FILTER,   /* kids[0] restricted by kids[1..], which add no
                       weight */
    CXS_Q_RANGE,    /* value in `slot` between lo and hi (string order,
                       inclusive; NULL end is open) */
    CXS_Q_PREFIX,   /* any term starting with `term` (wildcard), expanded
                       to at most `window` terms (0: 100) */
    CXS_Q_ALL,      /* every document */
    CXS_Q_NOTHING   /* no document */
} cxs_qop;

typedef struct cxs_qnode {
    cxs_qop op;
    char *term; /* TERM, PREFIX */
    size_t term_len;
    unsigned wqf;     /* TERM: within-query frequency, 1 by default */
    double scale;     /* SCALE */
    unsigned window;  /* PHRASE, NEAR, PREFIX */
    unsigned slot;    /* RANGE */
    char *lo, *hi;    /* RANGE */
    struct cxs_qnode **kids;
    size_t nkids, cap;
} cxs_qnode;

/* A new node with no children; NULL on OOM. */
cxs_qnode *cxs_qnode_new(cxs_qop op);

/* A TERM (or PREFIX when op is CXS_Q_PREFIX) node for prefix + term. */
cxs_qnode *cxs_qnode_term(cxs_qop op, const char *prefix, const char *term,
                          size_t len);

/* A RANGE node; lo/hi copied, NULL for an open end. */
cxs_qnode *cxs_qnode_range(unsigned slot, const char *lo, const char *hi);

/* A SCALE node over kid (taken over). */
cxs_qnode *cxs_qnode_scale(cxs_qnode *kid, double scale);

/* Appends kid to parent, taking kid over. On OOM kid is freed and
 * CXS_ERR_NOMEM returned. A NULL kid returns CXS_ERR_NOMEM (so that a
 * failed constructor can be passed straight in). */
CXS_MUST_CHECK cxs_status cxs_qnode_add(cxs_qnode *parent, cxs_qnode *kid);

/* Frees the subtree; NULL allowed. */
void cxs_qnode_free(cxs_qnode *q);

/* Deep copy; NULL on OOM. */
cxs_qnode *cxs_qnode_clone(const cxs_qnode *q);

/* Appends a readable form ("(AND a (OR b c))") to buf, for tests and the
 * explain option. Returns bytes written, truncating to cap (0, an empty
 * string, when out of memory). */
size_t cxs_qnode_describe(const cxs_qnode *q, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* CXS_QNODE_H */
