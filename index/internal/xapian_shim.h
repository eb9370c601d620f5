/*
 * xapian_shim.h - the only door to Xapian (a C++ library) from C.
 *
 * Everything here is plain C: opaque handles, strings as pointer + length,
 * cxs_status results. The implementation (xapian_shim.cc) is the only
 * C++ file of the index and catches every exception at the boundary:
 * Xapian::DatabaseModifiedError (reopen and retry once),
 * Xapian::NetworkError of a remote shard (reconnect and retry once, else
 * CXS_ERR_UNAVAILABLE), Xapian::DatabaseLockError (CXS_ERR_LOCKED), other
 * Xapian::Error
 * (CXS_ERR_INDEX with Xapian's message), std::bad_alloc (CXS_ERR_NOMEM)
 * and anything else (CXS_ERR_INTERNAL). No exception unwinds into C.
 *
 * Thread-safety: like Xapian's objects, no handle is thread-safe. Use one
 * cxs_xdb per thread; a cxs_xwdb belongs to one thread at a time. Only one
 * cxs_xwdb may be open on a database across all processes.
 *
 * Memory: strings and arrays in results are malloc'ed and owned by the
 * result; free them with the matching release function.
 */
#ifndef CXS_XAPIAN_SHIM_H
#define CXS_XAPIAN_SHIM_H

#include <stddef.h>

#include "cxs_buf.h"
#include "cxs_err.h"
#include "qnode.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cxs_xdb cxs_xdb;   /* reader over one or more shards */
typedef struct cxs_xwdb cxs_xwdb; /* the writer of one database */
typedef struct cxs_xdoc cxs_xdoc; /* a document being built */

/* ---- reading ---- */

/* How remote shards are reached. A path is a local database (a folder,
 * or a stub file), tcp://HOST:PORT (xapian-tcpsrv), ssh://HOST/PATH
 * (xapian-progsrv run through ssh) or prog:PROGRAM ARGS (any program
 * speaking Xapian's remote protocol on its stdin and stdout). */
typedef struct cxs_xdb_opts {
    unsigned connect_timeout_ms; /* connecting to a remote shard */
    unsigned timeout_ms;         /* any one exchange with it */
    unsigned retry_ms;           /* a shard down is tried again after this */
    int partial; /* 1: answer from the shards that answer; 0: fail with
                    CXS_ERR_UNAVAILABLE naming the shard down */
} cxs_xdb_opts;

/* Defaults: connect 2 s, exchange 10 s, retry 1 s, not partial. */
void cxs_xdb_opts_init(cxs_xdb_opts *o);

/* Opens npaths databases as one (Xapian shards). A local shard must open;
 * a remote one that does not answer is marked down (it is tried again at
 * cxs_xdb_reopen and by cxs_xdb_shard_probe). Reads made while a shard is
 * down fail with CXS_ERR_UNAVAILABLE, unless opts->partial, which answers
 * from the others. A read that meets a network error reconnects every
 * remote shard and tries once more. opts NULL: defaults. */
CXS_MUST_CHECK cxs_status cxs_xdb_open_opts(const char *const *paths,
                                            size_t npaths,
                                            const cxs_xdb_opts *opts,
                                            cxs_xdb **out, cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_xdb_open(const char *const *paths, size_t npaths, cxs_xdb **out,
                        cxs_err *err);
void cxs_xdb_close(cxs_xdb *db); /* NULL allowed */

/* Moves to the newest committed revision; *changed may be NULL. */
CXS_MUST_CHECK
cxs_status cxs_xdb_reopen(cxs_xdb *db, int *changed, cxs_err *err);

typedef struct cxs_xdb_info {
    unsigned long long doccount;
    unsigned long long revision; /* sum over shards: grows on commit */
    double avlength;
} cxs_xdb_info;

CXS_MUST_CHECK
cxs_status cxs_xdb_info_get(cxs_xdb *db, cxs_xdb_info *info, cxs_err *err);

/* Metadata key counting a database's commits (cxs_xwdb_commit): the
 * revision of a remote shard, whose own Xapian does not give. */
#define CXS_XMETA_COMMITS "cxs.commits"

typedef struct cxs_xshard_status {
    const char *spec; /* as opened; borrowed from the reader */
    int up, remote;
    unsigned long long doccount, revision;
    double latency_ms; /* of the probe's round trip; 0 when down */
    char error[256];   /* why it is down */
} cxs_xshard_status;

size_t cxs_xdb_nshards(const cxs_xdb *db);

/* Reads user metadata of shard i alone (empty when unset, or when the
 * shard is down: it is then reconnected or marked down, not an error). */
CXS_MUST_CHECK cxs_status cxs_xdb_shard_metadata(cxs_xdb *db, size_t i,
                                                 const char *key, cxs_buf *out,
                                                 cxs_err *err);

/* What is known of shard i, without asking it. */
void cxs_xdb_shard_status(const cxs_xdb *db, size_t i, cxs_xshard_status *st);

/* Asks shard i (one round trip when remote; a shard down is connected
 * again when its retry time has come). A shard that does not answer is
 * not an error: st->up says. */
CXS_MUST_CHECK cxs_status cxs_xdb_shard_probe(cxs_xdb *db, size_t i,
                                              cxs_xshard_status *st,
                                              cxs_err *err);

/* Finds the document indexed by a unique (boolean) term. */
CXS_MUST_CHECK
cxs_status cxs_xdb_find(cxs_xdb *db, const char *term, size_t len,
                        unsigned *docid, cxs_err *err);

/* The number of documents holding term (0 when none). */
CXS_MUST_CHECK
cxs_status cxs_xdb_termfreq(cxs_xdb *db, const char *term, size_t len,
                            unsigned long long *freq, cxs_err *err);

/* Appends the document's data to out. */
CXS_MUST_CHECK
cxs_status cxs_xdb_data(cxs_xdb *db, unsigned docid, cxs_buf *out,
                        cxs_err *err);

/* Reads user metadata (empty when unset). */
CXS_MUST_CHECK
cxs_status cxs_xdb_metadata(cxs_xdb *db, const char *key, cxs_buf *out,
                            cxs_err *err);

typedef struct cxs_xsearch_opts {
    size_t offset, limit;
    int sort_slot; /* -1: by relevance; else by this value slot ... */
    int sort_desc; /* ... descending when 1, relevance breaking ties */
    double k1, k2, k3, b, min_normlen; /* BM25; 0 each: Xapian default */
    const unsigned *facet_slots;       /* count values over all matches; values
                                          holding '\x1f' count each part */
    size_t nfacets;
    double recency_boost;    /* >0: add boost * 2^(-age/halflife) */
    double recency_halflife; /* seconds */
    unsigned time_slot;      /* slot with sortable_serialise(unix time) */
    double now;              /* unix time used for age */
    int no_data;             /* 1: matches come without their data (read the few
                                needed with cxs_xdb_data) */
} cxs_xsearch_opts;

typedef struct cxs_xmatch {
    unsigned docid;
    double weight;
    char *data;
    size_t data_len;
} cxs_xmatch;

typedef struct cxs_xfacet_value {
    char *value;
    size_t count;
} cxs_xfacet_value;

typedef struct cxs_xfacet {
    unsigned slot;
    cxs_xfacet_value *v; /* unordered */
    size_t n;
} cxs_xfacet;

typedef struct cxs_xresult {
    cxs_xmatch *m;
    size_t n;
    size_t estimated, lower, upper; /* matches_estimated etc. */
    cxs_xfacet *facets;             /* one per opts facet slot */
    size_t nfacets;
} cxs_xresult;

/* Runs q. res is zeroed first; release it in every case. */
CXS_MUST_CHECK cxs_status cxs_xdb_search(cxs_xdb *db, const cxs_qnode *q,
                          const cxs_xsearch_opts *opts, cxs_xresult *res,
                          cxs_err *err);
void cxs_xresult_release(cxs_xresult *res);

/* Calls fn for every term starting with prefix, in term order, with its
 * document frequency; fn returns nonzero to stop. */
typedef int (*cxs_xterm_fn)(void *ud, const char *term, size_t len,
                            unsigned long long freq);
CXS_MUST_CHECK
cxs_status cxs_xdb_terms(cxs_xdb *db, const char *prefix, size_t len,
                         cxs_xterm_fn fn, void *ud, cxs_err *err);

/* The terms of one document (with wdf as freq), for more-like-this. */
CXS_MUST_CHECK
cxs_status cxs_xdb_doc_terms(cxs_xdb *db, unsigned docid, cxs_xterm_fn fn,
                             void *ud, cxs_err *err);

/* A position (as indexed: token position + 1) where a term stands. */
typedef struct cxs_xpos {
    unsigned pos;
    unsigned term; /* index into the caller's terms */
} cxs_xpos;

/* present[] flags of cxs_xdb_doc_positions. */
#define CXS_XPRESENT 1u  /* the document holds the term */
#define CXS_XUNPLACED 2u /* some of its occurrences have no position */

/* Which of terms[0..n) (sorted by strcmp, distinct) document docid holds,
 * and where: present[i] gets CXS_XPRESENT when it holds terms[i], plus
 * CXS_XUNPLACED when the term's count in the document exceeds its
 * positions, else 0; the positions of every present term go to *pos,
 * sorted by position (malloc'd, caller frees; NULL when none); wdf[i]
 * (when wdf is not NULL) gets the term's count in the document, 0 when
 * absent. One read of the document's term list plus one of each present
 * term's positions: far cheaper than analyzing the post's text again. */
CXS_MUST_CHECK cxs_status cxs_xdb_doc_positions(cxs_xdb *db, unsigned docid,
                                 char *const *terms, size_t n,
                                 unsigned char *present, unsigned *wdf,
                                 cxs_xpos **pos, size_t *npos, cxs_err *err);

/* The positions of terms[0..n) in document docid, each looked up in the
 * position table directly (no term list read): cheaper than
 * cxs_xdb_doc_positions when only positions matter. Same output. */
CXS_MUST_CHECK cxs_status cxs_xdb_term_positions(cxs_xdb *db, unsigned docid,
                                  char *const *terms, size_t n, cxs_xpos **pos,
                                  size_t *npos, cxs_err *err);

/* Relevance feedback: the best nterms expansion terms of the document
 * (Xapian ESet), skipping terms for which skip(term) returns nonzero. fn
 * gets the terms best first (freq = weight * 1000). */
CXS_MUST_CHECK
cxs_status cxs_xdb_expand(cxs_xdb *db, unsigned docid, size_t nterms,
                          int (*skip)(const char *term, size_t len),
                          cxs_xterm_fn fn, void *ud, cxs_err *err);

/* Merges the databases paths[0..n) into a new database at dest (Xapian's
 * compactor: documents renumbered one database after another, metadata
 * merged). dest must not exist. */
CXS_MUST_CHECK
cxs_status cxs_xdb_compact(const char *const *paths, size_t n, const char *dest,
                           cxs_err *err);

/* ---- writing ---- */

/* Opens or creates the database at path for writing. A database held by
 * another writer gives CXS_ERR_LOCKED. path may be remote (tcp://, a
 * xapian-tcpsrv --writable; ssh://, prog:) with opts' timeouts (NULL:
 * defaults); a remote database that does not answer gives
 * CXS_ERR_UNAVAILABLE. */
CXS_MUST_CHECK cxs_status cxs_xwdb_open_opts(const char *path,
                                             const cxs_xdb_opts *opts,
                                             cxs_xwdb **out, cxs_err *err);
CXS_MUST_CHECK
cxs_status cxs_xwdb_open(const char *path, cxs_xwdb **out, cxs_err *err);

/* Closes the writer; changes not committed are discarded. NULL allowed. */
void cxs_xwdb_close(cxs_xwdb *w);

cxs_xdoc *cxs_xdoc_new(void); /* NULL on OOM */
void cxs_xdoc_free(cxs_xdoc *d);
CXS_MUST_CHECK
cxs_status cxs_xdoc_posting(cxs_xdoc *d, const char *term, size_t len,
                            unsigned pos, unsigned wdfinc);
CXS_MUST_CHECK
cxs_status cxs_xdoc_term(cxs_xdoc *d, const char *term, size_t len,
                         unsigned wdfinc); /* no position; 0 = boolean */
CXS_MUST_CHECK
cxs_status cxs_xdoc_value(cxs_xdoc *d, unsigned slot, const char *s,
                          size_t len);
CXS_MUST_CHECK
cxs_status cxs_xdoc_value_number(cxs_xdoc *d, unsigned slot, double v);
CXS_MUST_CHECK cxs_status cxs_xdoc_data(cxs_xdoc *d, const char *s, size_t len);

/* Adds or replaces the document holding the unique term idterm. */
CXS_MUST_CHECK
cxs_status cxs_xwdb_replace(cxs_xwdb *w, const char *idterm, size_t len,
                            cxs_xdoc *d, cxs_err *err);

/* Adds d as a new document: for a caller that knows no document holds its
 * id term (replace would look the term up once more). */
CXS_MUST_CHECK
cxs_status cxs_xwdb_add(cxs_xwdb *w, cxs_xdoc *d, cxs_err *err);

/* Deletes the document holding idterm; *existed (may be NULL) says
 * whether there was one. */
CXS_MUST_CHECK
cxs_status cxs_xwdb_delete(cxs_xwdb *w, const char *idterm, size_t len,
                           int *existed, cxs_err *err);

/* Sets *found to whether a document holds the term (one round trip when
 * remote). */
CXS_MUST_CHECK cxs_status cxs_xwdb_has(cxs_xwdb *w, const char *term,
                                       size_t len, int *found, cxs_err *err);

/* Appends the data of the document holding idterm to out; sets *found. */
CXS_MUST_CHECK
cxs_status cxs_xwdb_find_data(cxs_xwdb *w, const char *idterm, size_t len,
                              cxs_buf *out, int *found, cxs_err *err);

/* Reads user metadata through the writer (empty when unset). */
CXS_MUST_CHECK
cxs_status cxs_xwdb_metadata(cxs_xwdb *w, const char *key, cxs_buf *out,
                             cxs_err *err);

CXS_MUST_CHECK cxs_status cxs_xwdb_set_metadata(cxs_xwdb *w, const char *key,
                                 const char *value, cxs_err *err);

/* Commits all changes since the last commit atomically, counting the
 * commit in CXS_XMETA_COMMITS. */
CXS_MUST_CHECK cxs_status cxs_xwdb_commit(cxs_xwdb *w, cxs_err *err);

/* Documents in the database (committed and pending). */
unsigned long long cxs_xwdb_doccount(cxs_xwdb *w);

/* The writer's database revision (0 on error). */
unsigned long long cxs_xwdb_revision(cxs_xwdb *w);

#ifdef __cplusplus
}
#endif

#endif /* CXS_XAPIAN_SHIM_H */
