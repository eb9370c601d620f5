/*
 * config.c - cxsearchd's INI configuration (see config.h).
 *
 * Facts that shaped it: libinih (Debian's build) calls us once per
 * "key = value" line, repeats the key for continuation lines, allows ';'
 * inline comments after white space and caps lines at 200 bytes; a handler
 * returning 0 makes ini_parse return that line number, which is how a bad
 * key or value is reported as "FILE:LINE: ...". Keys are flat: a [section]
 * header is accepted and ignored, so people may group keys as they like.
 * One table describes every key, its type and where it lands, so the
 * documented defaults (config/cxsearch.conf, docs/configuration.md) have
 * one place to agree with.
 */
#include "config.h"

#include <stdbool.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cxs_buf.h"
#include "index.h"

#ifndef CXS_CONFIG_DIR
#define CXS_CONFIG_DIR "config"
#endif
#ifndef CXS_WEB_DIR
#define CXS_WEB_DIR "web"
#endif

typedef enum key_type {
    K_STR,    /* free string; "" means unset */
    K_PATH,   /* path relative to the config file; "" means unset */
    K_LOG,    /* path, "-" (stderr) or "off" */
    K_DBS,    /* repeatable path */
    K_LIST,   /* comma-separated list */
    K_UINT,   /* unsigned with bounds */
    K_SIZE,   /* bytes, with k/m/g suffix */
    K_DOUBLE, /* non-negative number */
    K_BOOL,
    K_SOURCE  /* repeatable "URL [SECONDS]" */
} key_type;

typedef struct key_def {
    const char *name;
    key_type type;
    size_t off;      /* offset in cxs_server_config */
    size_t cnt_off;  /* count field for K_LIST and K_DBS */
    double min, max; /* bounds for numbers */
} key_def;

#define OFF(f) offsetof(cxs_server_config, f)
#define NUM(name, type, f, lo, hi)                                             \
    { name, type, OFF(f), 0, lo, hi }

static const key_def KEYS[] = {
    {"listen", K_STR, OFF(listen), 0, 0, 0},
    {"db", K_DBS, OFF(dbs), OFF(ndbs), 0, 0},
    NUM("threads", K_UINT, threads, 0, 256),
    NUM("max_connections", K_UINT, max_connections, 1, 100000),
    NUM("max_connections_per_ip", K_UINT, max_connections_per_ip, 0, 100000),
    NUM("connection_timeout", K_UINT, connection_timeout, 1, 3600),
    NUM("max_body_bytes", K_SIZE, max_body_bytes, 1024, 1e10),
    NUM("max_query_bytes", K_SIZE, max_query_bytes, 16, 1 << 20),
    NUM("max_limit", K_SIZE, max_limit, 1, 10000),
    NUM("max_offset", K_SIZE, max_offset, 0, 1e7),
    NUM("default_limit", K_SIZE, default_limit, 1, 10000),
    NUM("snippet_words_max", K_UINT, snippet_words_max, 1, 1000),
    {"write_key", K_STR, OFF(write_key), 0, 0, 0},
    {"read_key", K_STR, OFF(read_key), 0, 0, 0},
    {"cors_origins", K_LIST, OFF(cors_origins), OFF(ncors_origins), 0, 0},
    {"synonyms", K_PATH, OFF(synonyms), 0, 0, 0},
    NUM("bm25_k1", K_DOUBLE, bm25_k1, 0, 100),
    NUM("bm25_b", K_DOUBLE, bm25_b, 0, 1),
    NUM("recency_boost", K_DOUBLE, recency_boost, 0, 1000),
    NUM("recency_halflife_days", K_DOUBLE, recency_halflife_days, 0, 1e5),
    {"lemmas", K_BOOL, OFF(lemmas), 0, 0, 0},
    {"forgive", K_BOOL, OFF(forgive), 0, 0, 0},
    {"typos", K_BOOL, OFF(typos), 0, 0, 0},
    {"layouts", K_BOOL, OFF(layouts), 0, 0, 0},
    {"translit", K_BOOL, OFF(translit), 0, 0, 0},
    NUM("typo_one_from", K_UINT, typo_one_from, 1, 40),
    NUM("typo_two_from", K_UINT, typo_two_from, 1, 40),
    NUM("typo_max_candidates", K_UINT, typo_max_candidates, 1, 16),
    {"web_dir", K_PATH, OFF(web_dir), 0, 0, 0},
    {"access_log", K_LOG, OFF(access_log), 0, 0, 0},
    NUM("rate_limit", K_DOUBLE, rate_limit, 0, 1e6),
    NUM("rate_burst", K_UINT, rate_burst, 0, 1000000),
    NUM("reopen_interval_ms", K_UINT, reopen_interval_ms, 0, 3600000),
    NUM("shutdown_grace", K_UINT, shutdown_grace, 0, 600),
    {"meili_index_uid", K_STR, OFF(meili_index_uid), 0, 0, 0},
    NUM("shard_connect_timeout_ms", K_UINT, shard_connect_timeout_ms, 1,
        600000),
    NUM("shard_timeout_ms", K_UINT, shard_timeout_ms, 1, 3600000),
    NUM("shard_retry_ms", K_UINT, shard_retry_ms, 0, 3600000),
    {"on_shard_failure", K_STR, OFF(on_shard_failure), 0, 0, 0},
    {"source", K_SOURCE, OFF(sources), OFF(nsources), 0, 0},
    NUM("source_interval", K_UINT, source_interval, 1, 604800),
    NUM("source_jitter", K_DOUBLE, source_jitter, 0, 1),
    NUM("source_backfill", K_SIZE, source_backfill, 0, 1e7),
    NUM("source_timeout", K_DOUBLE, source_timeout, 0.1, 3600),
    NUM("source_connect_timeout", K_DOUBLE, source_connect_timeout, 0.1, 600),
    NUM("source_max_bytes", K_SIZE, source_max_bytes, 1024, 1e9),
    NUM("source_host_pause", K_DOUBLE, source_host_pause, 0, 3600),
    NUM("source_retries", K_UINT, source_retries, 0, 20),
    NUM("source_max_pages", K_UINT, source_max_pages, 1, 100000),
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

typedef struct load_ctx {
    cxs_server_config *c;
    const char *file;
    char *dir; /* folder of the file, for relative paths */
    unsigned char seen[NKEYS];
    cxs_err *err;
    int failed;
} load_ctx;

static void config_defaults(cxs_server_config *c) {
    memset(c, 0, sizeof *c);
    c->threads = 0;
    c->max_connections = 1024;
    c->max_connections_per_ip = 0;
    c->connection_timeout = 15;
    c->max_body_bytes = 10u * 1024u * 1024u;
    c->max_query_bytes = 4096;
    c->max_limit = 100;
    c->max_offset = 10000;
    c->default_limit = 10;
    c->snippet_words_max = 200;
    c->lemmas = 1;
    c->forgive = c->typos = c->layouts = c->translit = 1;
    c->typo_one_from = 5;
    c->typo_two_from = 9;
    c->typo_max_candidates = 5;
    c->rate_limit = 0;
    c->rate_burst = 0;
    c->reopen_interval_ms = 1000;
    c->shutdown_grace = 5;
    c->shard_connect_timeout_ms = 2000;
    c->shard_timeout_ms = 10000;
    c->shard_retry_ms = 1000;
    c->source_interval = 600;
    c->source_jitter = 0.1;
    c->source_backfill = 200;
    c->source_timeout = 30;
    c->source_connect_timeout = 10;
    c->source_max_bytes = 8u * 1024u * 1024u;
    c->source_host_pause = 1;
    c->source_retries = 3;
    c->source_max_pages = 100;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cxs_server_config_free(cxs_server_config *c) {
    if (!c)
        return;
    free(c->config_path);
    free(c->listen);
    free(c->on_shard_failure);
    free_list(c->dbs, c->ndbs);
    free(c->write_key);
    free(c->read_key);
    free_list(c->cors_origins, c->ncors_origins);
    free(c->synonyms);
    free(c->web_dir);
    free(c->access_log);
    free(c->meili_index_uid);
    free_list(c->sources, c->nsources);
    free(c);
}

/* A path from the file: relative ones are taken from the file's folder. */
static char *resolve_path(const char *dir, const char *v) {
    if (v[0] == '/' || !dir)
        return strdup(v);
    cxs_buf b;
    cxs_buf_init(&b, 0);
    if (cxs_buf_appendf(&b, "%s/%s", dir, v) != CXS_OK)
        return NULL;
    return cxs_buf_detach(&b);
}

static bool push(char ***v, size_t *n, char *s) {
    if (!s)
        return false;
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv) {
        free(s);
        return false;
    }
    nv[(*n)++] = s;
    *v = nv;
    return true;
}

static bool parse_bool(const char *v, int *out) {
    static const char *yes[] = {"1", "on", "yes", "true"};
    static const char *no[] = {"0", "off", "no", "false"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 1;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 1;
    }
    return false;
}

/* A non-negative number, with an optional k/m/g (binary) suffix when
 * allowed. */
static bool parse_number(const char *v, int suffix, double *out) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || errno || d < 0 || d != d)
        return false;
    while (*end == ' ')
        end++;
    if (suffix && *end) {
        int c = tolower((unsigned char)*end++);
        d *= c == 'k'   ? 1024.0
             : c == 'm' ? 1048576.0
             : c == 'g' ? 1073741824.0
                        : -1;
        if (d < 0)
            return false;
        if (tolower((unsigned char)*end) == 'b')
            end++;
    }
    *out = d;
    return *end == '\0';
}

static bool set_number(const key_def *k, cxs_server_config *c, double d) {
    char *p = (char *)c + k->off;
    if (d < k->min || d > k->max)
        return false;
    if (k->type == K_UINT) {
        if (d != (double)(unsigned)d)
            return false;
        *(unsigned *)p = (unsigned)d;
    } else if (k->type == K_SIZE) {
        if (d != (double)(size_t)d)
            return false;
        *(size_t *)p = (size_t)d;
    } else {
        *(double *)p = d;
    }
    return true;
}

/* "http(s)://... [SECONDS]": an address and an optional interval. */
static bool valid_source(const char *v) {
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
        return false;
    const char *sp = strpbrk(v, " \t");
    if (!sp)
        return true;
    char *end;
    double d = strtod(sp, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return d >= 1 && d <= 604800 && *end == '\0';
}

static bool set_list(char ***v, size_t *n, const char *s) {
    free_list(*v, *n);
    *v = NULL;
    *n = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *a = s, *e = s + len;
        while (a < e && isspace((unsigned char)*a))
            a++;
        while (e > a && isspace((unsigned char)e[-1]))
            e--;
        if (e > a && !push(v, n, cxs_strndup(a, (size_t)(e - a))))
            return false;
        s += len + (s[len] == ',');
    }
    return true;
}

/* Stores one value; false, with a message in ctx->err, when it is bad. */
static bool set_key(load_ctx *x, const key_def *k, const char *v, int line) {
    cxs_server_config *c = x->c;
    char **sp = (char **)((char *)c + k->off);
    double d;
    switch (k->type) {
    case K_STR:
        free(*sp);
        *sp = *v ? strdup(v) : NULL;
        return !*v || *sp;
    case K_PATH:
        free(*sp);
        *sp = *v ? resolve_path(x->dir, v) : NULL;
        return !*v || *sp;
    case K_LOG:
        free(*sp);
        *sp = (!*v || strcasecmp(v, "off") == 0) ? NULL
              : strcmp(v, "-") == 0              ? strdup("-")
                                                 : resolve_path(x->dir, v);
        return true;
    case K_DBS:
        if (!*v)
            break;
        return push(&c->dbs, &c->ndbs,
                    cxs_index_path_is_remote(v) ? strdup(v)
                                                : resolve_path(x->dir, v));
    case K_LIST:
        return set_list((char ***)sp, (size_t *)((char *)c + k->cnt_off), v);
    case K_SOURCE:
        if (!valid_source(v)) {
            cxs_err_set(x->err, CXS_ERR_PARSE,
                        "%s:%d: source = %s: expected an http(s) address, "
                        "optionally followed by an interval in seconds",
                        x->file, line, v);
            return false;
        }
        return push(&c->sources, &c->nsources, strdup(v));
    case K_BOOL:
        if (parse_bool(v, (int *)sp))
            return true;
        break;
    default:
        if (parse_number(v, k->type == K_SIZE, &d) && set_number(k, c, d))
            return true;
        if (k->type != K_DOUBLE && k->type != K_SIZE && k->type != K_UINT)
            break;
        cxs_err_set(x->err, CXS_ERR_PARSE,
                    "%s:%d: %s = %s: expected a number from %g to %g", x->file,
                    line, k->name, v, k->min, k->max);
        return false;
    }
    cxs_err_set(x->err, CXS_ERR_PARSE, "%s:%d: %s = %s: bad value", x->file,
                line, k->name, v);
    return false;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value, int line) {
    load_ctx *x = user;
    (void)section;
    if (x->failed)
        return 1; /* keep the first error only */
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(KEYS[i].name, name) != 0)
            continue;
        x->seen[i] = 1;
        if (set_key(x, &KEYS[i], value, line))
            return 1;
        if (x->err && x->err->code == CXS_OK)
            cxs_err_set(x->err, CXS_ERR_NOMEM, "out of memory");
        x->failed = 1;
        return 0;
    }
    cxs_err_set(x->err, CXS_ERR_PARSE, "%s:%d: unknown key '%s'", x->file, line,
                name);
    x->failed = 1;
    return 0;
}

/* libinih's handler without a line number (Debian builds it without
 * INI_HANDLER_LINENO); we count lines ourselves from ini_parse_stream. */
typedef struct line_reader {
    FILE *f;
    int line;
    load_ctx *x;
} line_reader;

static char *read_line(char *buf, int size, void *stream) {
    line_reader *r = stream;
    char *s = fgets(buf, size, r->f);
    if (s)
        r->line++;
    return s;
}

static int on_ini_nolineno(void *user, const char *section, const char *name,
                           const char *value) {
    line_reader *r = user; /* inih reads a line, then calls us for it */
    return on_ini(r->x, section, name, value, r->line);
}

static cxs_status load_file(cxs_server_config *c, const char *path,
                            unsigned char *seen, cxs_err *err) {
    FILE *f = fopen(path, "r");
    if (!f)
        return cxs_err_set(err, CXS_ERR_IO, "%s: %s", path, strerror(errno));
    load_ctx x = {.c = c, .file = path, .err = err};
    char *slash = strrchr(path, '/');
    x.dir = slash ? cxs_strndup(path, (size_t)(slash - path + 1)) : NULL;
    if (x.dir && slash == path)
        x.dir[1] = '\0';
    else if (x.dir)
        x.dir[slash - path] = '\0';
    line_reader r = {f, 0, &x};
    int rc = ini_parse_stream(read_line, &r, on_ini_nolineno, &r);
    fclose(f);
    free(x.dir);
    memcpy(seen, x.seen, NKEYS);
    if (x.failed)
        return err ? err->code : CXS_ERR_PARSE;
    if (rc != 0)
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "%s:%d: not a 'key = value' line", path, rc);
    return CXS_OK;
}

static bool was_seen(const unsigned char *seen, const char *name) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].name, name) == 0)
            return seen[i];
    return false;
}

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* Defaults that depend on whether the file set them. */
static cxs_status fill_defaults(cxs_server_config *c, const unsigned char *seen,
                                cxs_err *err) {
    if (!c->listen && !(c->listen = strdup("127.0.0.1:8080")))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (!was_seen(seen, "synonyms") &&
        file_exists(CXS_CONFIG_DIR "/synonyms.txt") &&
        !(c->synonyms = strdup(CXS_CONFIG_DIR "/synonyms.txt")))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (!was_seen(seen, "web_dir") && !(c->web_dir = strdup(CXS_WEB_DIR)))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (!was_seen(seen, "access_log") && !(c->access_log = strdup("-")))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (!c->meili_index_uid && !(c->meili_index_uid = strdup("posts")))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (c->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 ? (unsigned)(n > 64 ? 64 : n) : 2;
    }
    if (c->rate_limit > 0 && c->rate_burst == 0)
        c->rate_burst = (unsigned)(c->rate_limit * 2 + 1);
    return CXS_OK;
}

static cxs_status replace_str(char **field, const char *v, cxs_err *err) {
    free(*field);
    *field = (v && *v) ? strdup(v) : NULL;
    if (v && *v && !*field)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

static cxs_status apply_overrides(cxs_server_config *c,
                                  const cxs_server_args *a, cxs_err *err) {
    const char *wk = getenv("CXSEARCH_WRITE_KEY");
    const char *rk = getenv("CXSEARCH_READ_KEY");
    cxs_status st = CXS_OK;
    if (wk && *wk)
        st = replace_str(&c->write_key, wk, err);
    if (st == CXS_OK && rk && *rk)
        st = replace_str(&c->read_key, rk, err);
    if (st == CXS_OK && a->listen)
        st = replace_str(&c->listen, a->listen, err);
    if (st != CXS_OK || a->ndbs == 0)
        return st;
    free_list(c->dbs, c->ndbs);
    c->dbs = NULL;
    c->ndbs = 0;
    for (size_t i = 0; i < a->ndbs; i++)
        if (!push(&c->dbs, &c->ndbs, strdup(a->dbs[i])))
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

static cxs_status validate(const cxs_server_config *c, cxs_err *err) {
    if (c->ndbs == 0)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "no index: give --db DIR or 'db = DIR' in %s",
                           c->config_path ? c->config_path : "the config");
    if (c->default_limit > c->max_limit)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "default_limit (%zu) is over max_limit (%zu)",
                           c->default_limit, c->max_limit);
    if (c->synonyms && !file_exists(c->synonyms))
        return cxs_err_set(err, CXS_ERR_IO, "synonyms file %s: %s", c->synonyms,
                           strerror(ENOENT));
    const char *uid = c->meili_index_uid ? c->meili_index_uid : "";
    if (!*uid || strlen(uid) > 400 ||
        uid[strspn(uid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-")])
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "meili_index_uid '%s': use 1 to 400 letters, "
                           "digits, '-' or '_'",
                           uid);
    const char *osf = c->on_shard_failure ? c->on_shard_failure : "fail";
    if (strcmp(osf, "fail") != 0 && strcmp(osf, "partial") != 0)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "on_shard_failure '%s': expected fail or partial",
                           osf);
    if (c->write_key && strlen(c->write_key) < 8)
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "write_key is too short (8 characters at least)");
    return CXS_OK;
}

cxs_status cxs_server_config_build(const cxs_server_args *args,
                                   cxs_server_config **out, cxs_err *err) {
    static const cxs_server_args none = {0};
    const char *path = args && args->config_path ? args->config_path : NULL;
    unsigned char seen[NKEYS] = {0};
    cxs_status st = CXS_OK;
    cxs_server_config *c = malloc(sizeof *c);
    *out = NULL;
    if (!c)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    config_defaults(c);
    if (!path && file_exists(CXS_CONFIG_DIR "/cxsearch.conf"))
        path = CXS_CONFIG_DIR "/cxsearch.conf";
    if (path && !(c->config_path = strdup(path)))
        st = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (st == CXS_OK && path)
        st = load_file(c, path, seen, err);
    if (st == CXS_OK)
        st = apply_overrides(c, args ? args : &none, err);
    if (st == CXS_OK)
        st = fill_defaults(c, seen, err);
    if (st == CXS_OK)
        st = validate(c, err);
    if (st == CXS_OK)
        c->shard_partial = c->on_shard_failure &&
                           strcmp(c->on_shard_failure, "partial") == 0;
    if (st != CXS_OK) {
        cxs_server_config_free(c);
        return st;
    }
    *out = c;
    return CXS_OK;
}

bool cxs_server_config_cors_allows(const cxs_server_config *c,
                                  const char *origin) {
    if (!origin)
        return false;
    for (size_t i = 0; i < c->ncors_origins; i++)
        if (strcmp(c->cors_origins[i], "*") == 0 ||
            strcmp(c->cors_origins[i], origin) == 0)
            return true;
    return false;
}
