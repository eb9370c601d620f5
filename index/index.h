/*
 * index.h - the cxsearch index: posts in, ranked and highlighted posts out.
 *
 * A cxs_index is either a reader (search, get, dump, stats) over one or
 * more Xapian databases searched as one (shards), or the single writer of
 * one database, or a writer routing posts over several (shards). A shard
 * is a local folder or stub file, or a database served by xapian-tcpsrv
 * (tcp://HOST:PORT) or xapian-progsrv (ssh://HOST/PATH, prog:COMMAND);
 * see docs/scale-out.md for what the remote backend cannot do. It owns its own analyzer, so the same analysis serves
 * indexing, queries and highlighting.
 *
 * Thread-safety: a cxs_index is NOT thread-safe. The daemon opens one
 * reader per worker thread and one writer guarded by a mutex. Readers see
 * the last committed revision; cxs_index_reopen moves them to the newest.
 * Only one writer may hold a database: a second gets CXS_ERR_LOCKED with a
 * message naming the database.
 *
 * Memory: results and strings returned are owned by the caller and freed
 * with the matching *_release / free() as documented per function.
 */
#ifndef CXS_INDEX_H
#define CXS_INDEX_H

#include <stddef.h>

#include "stemmers.h"
#include "cxs_buf.h"
#include "cxs_err.h"
#include "post.h"
#include "query.h"

typedef struct cxs_index cxs_index;

typedef struct cxs_index_config {
    cxs_stemmers_config analyzer;
    const char *synonyms_path; /* NULL: no synonyms */
    double bm25_k1, bm25_k2, bm25_k3, bm25_b, bm25_min_normlen; /* 0: Xapian
                                                                   defaults */
    double recency_boost;    /* 0 (off): weight added for newer posts */
    double recency_halflife_days; /* 0: 365 */
    size_t max_query_len;    /* bytes; 0: 4096 */
    size_t batch_size;       /* writer: posts per commit; 0: 5000 */
    unsigned workers;        /* writer: threads preparing posts for
                                cxs_index_put_async; 0 or 1: none */
    /* Forgiving search defaults (query.h); a request may turn it off
     * (cxs_search_req.exact) or mark its query as typed so far. */
    cxs_forgive forgive;
    unsigned shards;         /* writer: an empty index is built by this
                                many threads, each writing its own shard,
                                merged at cxs_index_commit (faster on
                                several cores; an import that fails
                                leaves the index empty); 0 or 1: no */
    /* Remote shards (tcp://HOST:PORT, ssh://HOST/PATH, prog:COMMAND): */
    unsigned shard_connect_timeout_ms; /* 0: 2000 */
    unsigned shard_timeout_ms;         /* one exchange; 0: 10000 */
    unsigned shard_retry_ms;           /* a shard down is tried again after
                                          this; 0: 1000 */
    int shard_partial; /* reader: 1 answers from the shards that answer
                          (cxs_index_missing_shards names the others); 0
                          fails with CXS_ERR_UNAVAILABLE naming them */
} cxs_index_config;

/* Fills cfg with the defaults. */
void cxs_index_config_init(cxs_index_config *cfg);

/* Opens a reader over npaths databases (npaths >= 1) searched as one. */
CXS_MUST_CHECK
cxs_status cxs_index_open_reader(const char *const *paths, size_t npaths,
                                 const cxs_index_config *cfg, cxs_index **out,
                                 cxs_err *err);

/* Opens (creating if needed) the database at path for writing. */
CXS_MUST_CHECK
cxs_status cxs_index_open_writer(const char *path, const cxs_index_config *cfg,
                                 cxs_index **out, cxs_err *err);

/* Opens a writer over npaths shards (local or remote): a post goes to the
 * shard that holds its id (asked, not assumed), a new one to the shard
 * cxs_index_shard_of picks; a delete to the shard holding the id. Each
 * shard commits atomically, a commit over several shards is not atomic
 * as a whole. No worker threads or parallel build. */
CXS_MUST_CHECK cxs_status cxs_index_open_writers(const char *const *paths,
                                                 size_t npaths,
                                                 const cxs_index_config *cfg,
                                                 cxs_index **out,
                                                 cxs_err *err);

/* The shard (0..n-1) a new post with this id goes to: FNV-1a (64 bits)
 * of the id's bytes modulo n. Stable across versions and machines, so an
 * index split by `cxsearch split` and a daemon writing agree. */
unsigned cxs_index_shard_of(const char *id, size_t n);

/* True when path names a remote database (tcp://, ssh://, prog:). */
int cxs_index_path_is_remote(const char *path);

/* Closes the index. A writer discards changes not yet committed (so an
 * interrupted import leaves the last committed batch). NULL allowed. */
void cxs_index_close(cxs_index *ix);

/* Reader: moves to the newest committed revision; *changed (may be NULL)
 * says whether it moved. */
CXS_MUST_CHECK
cxs_status cxs_index_reopen(cxs_index *ix, int *changed, cxs_err *err);

/* ---- writing ---- */

typedef enum cxs_put_result {
    CXS_PUT_ADDED,
    CXS_PUT_UPDATED,
    CXS_PUT_UNCHANGED /* same id, same content: nothing written */
} cxs_put_result;

/* Adds or replaces a post by id (post must have passed
 * cxs_post_finish). The post's lang is detected and set when missing.
 * Changes become visible at the next commit. */
CXS_MUST_CHECK
cxs_status cxs_index_put(cxs_index *ix, cxs_post *post, cxs_put_result *res,
                         cxs_err *err);

/* Like cxs_index_put, but the post is analyzed on one of cfg.workers
 * threads while the caller goes on; posts are written in the order given.
 * Into an empty index with cfg.shards > 1, posts go to shard writers
 * instead (one thread each; copies of an id to the same shard, in order)
 * and nothing is visible or committed until cxs_index_commit merges them.
 * Takes the post's contents over (the post is left empty). An error of an
 * earlier post may be returned by a later call or by cxs_index_commit,
 * which first waits for every submitted post. Counts of added, updated
 * and unchanged posts: cxs_index_put_counts. */
CXS_MUST_CHECK
cxs_status cxs_index_put_async(cxs_index *ix, cxs_post *post, cxs_err *err);

/* Posts added, updated and left unchanged since the index was opened. */
void cxs_index_put_counts(const cxs_index *ix, size_t *added, size_t *updated,
                          size_t *unchanged);

/* Deletes a post by id; CXS_ERR_NOT_FOUND when there is none. */
CXS_MUST_CHECK
cxs_status cxs_index_delete(cxs_index *ix, const char *id, cxs_err *err);

/* Commits everything put since the last commit, atomically. A new index
 * built in shards is merged here and swapped in for the empty one
 * (readers see it whole at once). */
CXS_MUST_CHECK cxs_status cxs_index_commit(cxs_index *ix, cxs_err *err);

/* Metadata kept in the index beside the posts (e.g. the state of a
 * followed source, follow/). Keys "cxs.*" are the index's and the
 * follower's; values are at most a few kilobytes. A writer's
 * cxs_index_meta_set is written by the next cxs_index_commit, atomically
 * with the posts put before it, so a state committed with its posts
 * never runs ahead of them. cxs_index_meta_get reads through the writer
 * (pending value included) or a reader's first database, appending the
 * value to out (nothing for an unset key). */
CXS_MUST_CHECK cxs_status cxs_index_meta_get(cxs_index *ix, const char *key,
                                             cxs_buf *out, cxs_err *err);
CXS_MUST_CHECK cxs_status cxs_index_meta_set(cxs_index *ix, const char *key,
                                             const char *value, cxs_err *err);

/* ---- reading ---- */

typedef enum cxs_sort {
    CXS_SORT_RELEVANCE = 0,
    CXS_SORT_DATE_DESC,
    CXS_SORT_DATE_ASC
} cxs_sort;

#define CXS_FACET_CHANNEL 0x1u
#define CXS_FACET_AUTHOR 0x2u
#define CXS_FACET_LANG 0x4u
#define CXS_FACET_TAG 0x8u
#define CXS_FACET_YEAR 0x10u
#define CXS_NFACETS 5

typedef struct cxs_search_req {
    const char *q; /* UTF-8; NULL or empty: all posts */
    size_t q_len;  /* bytes of q; 0: q is NUL-terminated (strlen) */
    size_t offset, limit;
    cxs_sort sort;
    /* Filters from parameters, each OR-ed within, AND-ed across. */
    const char *const *channels;
    size_t nchannels;
    const char *const *authors;
    size_t nauthors;
    const char *const *langs;
    size_t nlangs;
    const char *const *tags;
    size_t ntags;
    const char *date_from, *date_to; /* "2024", "2024-03", "2024-03-05" */
    unsigned facets;                 /* CXS_FACET_* */
    const char *hl_pre, *hl_post;    /* NULL: "<mark>", "</mark>" */
    int hl_no_escape;  /* 1: do not HTML-escape text around highlights */
    unsigned snippet_words; /* 0: 30 */
    int want_text;          /* include the whole text in hits */
    /* A filter tree AND-ed with the filters above (boolean terms of
     * terms.h, CXS_SLOT_DATE ranges, AND/OR/AND_NOT/ALL/NOTHING); it adds
     * no weight. Borrowed and only read (cloned per search); NULL: none.
     * The Meilisearch-compatible API builds it from filter expressions. */
    const cxs_qnode *filter;
    int snippet_full; /* 1: snippet is the whole text with every match
                         marked (no window, no "…") */
    int snippet_analyze; /* 1: match every word of a hit through the
                            analyzer, never through the index's positions
                            (same snippets, slower; tests compare both) */
    int snippet_scan; /* 1: tokenize each hit's text from its start, never
                         from the index's resume points (same snippets,
                         slower; tests compare both) */
    int exact;  /* 1: nothing forgiven (no typos, layouts, transliteration,
                   prefixes), whatever the configuration says */
    int typing; /* 1: the query is typed so far: its last word is also a
                   prefix (forgive.typing) */
    /* Overrides of the configured typo tolerance (Meilisearch's
     * typoTolerance): no_typos 1 turns typos off; nonzero thresholds
     * replace one_typo_from / two_typos_from. */
    int no_typos;
    unsigned one_typo_from, two_typos_from;
} cxs_search_req;

typedef struct cxs_hit {
    cxs_post post; /* stored post; post.text NULL unless want_text */
    double score;
    char *snippet;  /* best passage, highlighted (escaped unless no_escape) */
    char *title_hl; /* title, highlighted likewise */
} cxs_hit;

typedef struct cxs_facet_count {
    char *value;
    size_t count;
} cxs_facet_count;

typedef struct cxs_facet {
    const char *name; /* "channel", "author", "lang", "tag", "year" */
    cxs_facet_count *v; /* by count descending, then value */
    size_t n;
} cxs_facet;

typedef struct cxs_search_res {
    size_t total;        /* matches: Xapian's estimate ... */
    int total_exact;     /* ... 1 when it is exact */
    int relaxed;         /* 1: nothing matched all words, ranked by how many
                            match instead */
    char *suggestion;    /* did-you-mean query, or NULL: offered only when
                            the answer is empty or thin (fewer than 3
                            posts) after the rewrites */
    cxs_rewrite *rewrites; /* what was forgiven (owned; query.h) */
    size_t nrewrites;
    cxs_hit *hits;
    size_t nhits;
    cxs_facet facets[CXS_NFACETS];
    size_t nfacets;
} cxs_search_res;

/* Runs a search. Fails with CXS_ERR_TOO_LARGE for a query over the limit,
 * CXS_ERR_INVALID for a bad parameter (e.g. a malformed date); release
 * res with cxs_search_res_release in every case. */
CXS_MUST_CHECK
cxs_status cxs_index_search(cxs_index *ix, const cxs_search_req *req,
                            cxs_search_res *res, cxs_err *err);
void cxs_search_res_release(cxs_search_res *res);

/* Fetches a stored post by id (text included). CXS_ERR_NOT_FOUND when
 * absent. Release *post with cxs_post_release. */
CXS_MUST_CHECK
cxs_status cxs_index_get(cxs_index *ix, const char *id, cxs_post *post,
                         cxs_err *err);

/* Posts similar to the post with this id (Xapian relevance feedback),
 * excluding itself and its duplicates. Same result shape as search. */
CXS_MUST_CHECK
cxs_status cxs_index_similar(cxs_index *ix, const char *id, size_t limit,
                             cxs_search_res *res, cxs_err *err);

/* Completions of the last word of prefix: up to max words, most frequent
 * first. *out is a malloc'ed array of malloc'ed strings. */
CXS_MUST_CHECK
cxs_status cxs_index_suggest(cxs_index *ix, const char *prefix, size_t max,
                             char ***out, size_t *n, cxs_err *err);

/* Calls fn with every stored post in id order; stops when fn returns
 * nonzero. */
CXS_MUST_CHECK cxs_status cxs_index_foreach(cxs_index *ix,
                             int (*fn)(void *ud, const cxs_post *post),
                             void *ud, cxs_err *err);

typedef struct cxs_index_stats {
    unsigned long long posts;
    unsigned long long revision;
    unsigned long long disk_bytes;
    char last_update[32]; /* ISO 8601 UTC of the last commit, or "" */
    cxs_facet langs;      /* per-language counts (owned) */
    cxs_facet channels;   /* per-channel counts (owned) */
} cxs_index_stats;

CXS_MUST_CHECK
cxs_status cxs_index_stats_get(cxs_index *ix, cxs_index_stats *st,
                               cxs_err *err);
void cxs_index_stats_release(cxs_index_stats *st);

/* Copies the local index at db to the new folder out, consistently while
 * a writer commits: Xapian's compactor reads one revision (started again
 * when the writer recycles it), into "<out>.build-<pid>-part", renamed to out
 * when whole. out must not exist. The copy is a plain index: point --db
 * at it to restore. */
CXS_MUST_CHECK cxs_status cxs_index_backup(const char *db, const char *out,
                                           cxs_err *err);

/* The shards of a reader, as last seen or probed. */
typedef struct cxs_index_shard {
    const char *name; /* as configured (borrowed from the reader) */
    int up, remote;
    unsigned long long posts, revision;
    double latency_ms; /* of the probe; 0 when down or not probed */
    char error[256];   /* why it is down */
} cxs_index_shard;

size_t cxs_index_nshards(const cxs_index *ix);

/* Shard i as last seen (probe 0), or asked now (probe 1: one round trip
 * to a remote shard; a shard down is tried again). A shard down is not an
 * error: sh->up says. */
CXS_MUST_CHECK cxs_status cxs_index_shard_get(cxs_index *ix, size_t i,
                                              int probe,
                                          cxs_index_shard *sh, cxs_err *err);

/* How many shards a partial reader is answering without; their names go
 * to names[0..max) (borrowed from the reader). */
size_t cxs_index_missing_shards(const cxs_index *ix, const char **names,
                                size_t max);

/* Reader: builds now what forgiving search needs at the revision it reads
 * (its vocabulary), or waits for another reader building it. Otherwise a
 * reader that moved to a new revision builds it on a thread of its own
 * and answers with the older vocabulary meanwhile, so words just written
 * are not yet typo candidates. The daemon calls this after its own
 * commits, on the writing request's time (0.1-0.3 s at 57k posts), so
 * the next search neither waits nor misses the new words. */
void cxs_index_warm(cxs_index *ix);

/* Reader: the revision it reads (grows with every commit to any shard);
 * 0 when it cannot be read. Cheap: no disk access. */
unsigned long long cxs_index_revision(cxs_index *ix);

/* The analyzer this index uses (borrowed; same thread rules). */
cxs_stemmers *cxs_index_analyzer(cxs_index *ix);

#endif /* CXS_INDEX_H */
