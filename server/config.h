/*
 * config.h - cxsearchd's configuration: an INI file (libinih), then the
 * environment, then command-line flags, validated once into an immutable
 * snapshot.
 *
 * Facts that shaped it: SIGHUP reloads the file while requests are being
 * served, so a configuration is never changed in place; a new snapshot is
 * built and swapped in, and requests keep the one they started with (see
 * server.h, cxs_server_config_acquire). Relative paths in the file are
 * resolved against the file's folder so that a shipped config can name
 * "synonyms.txt" beside it; relative paths given as flags are resolved
 * against the working directory, like every other program.
 *
 * Ownership: a cxs_server_config owns all its strings; free it with
 * cxs_server_config_free (NULL allowed).
 * Thread-safety: a built snapshot is read-only and may be shared.
 * Errors: cxs_server_config_build names the file and line of a bad key or
 * value (CXS_ERR_PARSE), or a missing file (CXS_ERR_IO).
 */
#ifndef CXS_SERVER_CONFIG_H
#define CXS_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cxs_err.h"

/* What the command line said; kept so a reload applies the same flags. */
typedef struct cxs_server_args {
    const char *config_path; /* NULL: CXS_CONFIG_DIR/cxsearch.conf, which
                                may be absent */
    const char *listen;      /* NULL: from the file */
    const char **dbs;        /* --db flags; when any, they replace the
                                file's db list */
    size_t ndbs;
} cxs_server_args;

typedef struct cxs_server_config {
    char *config_path; /* the file read, or NULL when none */
    char *listen;      /* "HOST:PORT" */
    char **dbs;        /* searched as one; writes go to dbs[0] */
    size_t ndbs;
    unsigned threads; /* resolved: 0 in the file means the core count */
    unsigned max_connections;
    unsigned max_connections_per_ip; /* 0: no per-address limit */
    unsigned connection_timeout;     /* seconds */
    size_t max_body_bytes;
    size_t max_query_bytes;
    size_t max_limit, max_offset, default_limit;
    unsigned snippet_words_max;
    char *write_key; /* NULL or "": writes refused */
    char *read_key;  /* NULL or "": reads open */
    char **cors_origins;
    size_t ncors_origins;
    char *synonyms; /* NULL: none */
    double bm25_k1, bm25_b;
    double recency_boost, recency_halflife_days;
    int lemmas;
    /* Forgiving search (docs/query-language.md): forgive 0 makes every
     * search exact (exact=1 turns it off per request either way). */
    int forgive;
    int typos, layouts, translit;
    unsigned typo_one_from, typo_two_from, typo_max_candidates;
    char *web_dir;     /* NULL: static files off */
    char *access_log;  /* "-": stderr; NULL: off */
    double rate_limit; /* requests per second per address; 0: off */
    unsigned rate_burst;
    unsigned reopen_interval_ms;
    unsigned shutdown_grace; /* seconds */
    char *meili_index_uid;   /* the one index uid of the Meilisearch-
                                compatible API ("posts") */
    /* Remote shards (db = tcp://HOST:PORT, ssh://HOST/PATH, prog:CMD): */
    unsigned shard_connect_timeout_ms, shard_timeout_ms, shard_retry_ms;
    char *on_shard_failure; /* "fail" (503 naming the shard) or "partial"
                               (answer from the others, say which are
                               missing) */
    int shard_partial;      /* resolved: on_shard_failure is "partial" */
    /* [sources]: live sources the daemon follows (server/sources.h). */
    char **sources;           /* "URL" or "URL SECONDS", validated */
    size_t nsources;
    unsigned source_interval; /* seconds between two polls of a source */
    double source_jitter;     /* +- this fraction of the interval */
    size_t source_backfill;   /* posts per channel read back */
    double source_timeout, source_connect_timeout; /* seconds */
    size_t source_max_bytes;
    double source_host_pause; /* seconds between requests to one host */
    unsigned source_retries;
    unsigned source_max_pages;
} cxs_server_config;

/* Reads the file named by args (or the default file when it exists),
 * applies CXSEARCH_WRITE_KEY / CXSEARCH_READ_KEY and the flags, and
 * validates. On success *out is a new snapshot. */
CXS_MUST_CHECK cxs_status cxs_server_config_build(const cxs_server_args *args,
                                   cxs_server_config **out, cxs_err *err);

void cxs_server_config_free(cxs_server_config *c);

/* True when origin is allowed by cors_origins ("*" allows all). */
bool cxs_server_config_cors_allows(const cxs_server_config *c,
                                  const char *origin);

#endif /* CXS_SERVER_CONFIG_H */
