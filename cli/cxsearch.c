/*
 * cxsearch - the command line: index sources, search, dump and inspect an
 * index. A thin layer over index.h and importer.h; every command is a
 * function of a few dozen lines.
 *
 * Exit status: 0 success, 1 error, 2 usage, 3 import finished but some
 * files or records were skipped (the summary says which), or a followed
 * source failed (follow_cmd.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "follow_cmd.h"
#include "importer.h"
#include "index.h"

#define EXIT_USAGE CXS_CLI_EXIT_USAGE
#define EXIT_SKIPPED 3

void cxs_cli_usage(FILE *f) {
    fputs("usage:\n"
          "  cxsearch index --db DIR [--format F] [--dry-run] [--batch N] "
          "[--quiet]\n"
          "        [--channel NAME] [--jobs N] PATH...\n"
          "        PATH: files, folders, or - for JSON Lines on stdin\n"
          "        F: auto (default), jsonl, text, tg-json, tg-html, "
          "scraped\n"
          "        NAME: the channel's username for Telegram exports "
          "(ids become NAME/<message id>)\n"
          "        N: threads analyzing posts (default: one per core); a "
          "new index\n"
          "           is built by N threads writing a shard each, merged "
          "at the end\n"
          "  cxsearch search --db DIR [--json] [--limit N] [--offset N]\n"
          "        [--sort relevance|date|-date] QUERY...\n"
          "        --shards N: build N shard databases DIR/shard-0.. "
          "(a post goes to\n"
          "           the shard its id hashes to; serve each with "
          "xapian-tcpsrv)\n"
          "  cxsearch split --db DIR --shards N OUT   deal an index out to "
          "N shards\n"
          "  cxsearch backup --db DIR OUT  consistent copy of a live "
          "index\n"
          "  cxsearch dump --db DIR        every post as JSON Lines\n"
          "  cxsearch stats --db DIR\n",
          f);
    cxs_cli_follow_usage(f);
    fputs("  cxsearch --version\n", f);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cxs_cli_config_defaults(cxs_index_config *cfg) {
    static const char syn[] = CXS_CONFIG_DIR "/synonyms.txt";
    cxs_index_config_init(cfg);
    if (access(syn, R_OK) == 0)
        cfg->synonyms_path = syn;
}

/* ------------------------------------------------------------------ */
/* index                                                                */

typedef struct import_run {
    cxs_index *ix;
    int dry_run, quiet, tty;
    size_t added, updated, unchanged;
    unsigned long long total_bytes;
    /* Within a large file the importer reports bytes only at its end: the
     * posts' own sizes stand in for the bytes read so far. */
    unsigned long long done_bytes;
    const cxs_import_stats *st;
    double started, last_draw;
} import_run;

static unsigned long long path_bytes(const char *path) {
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0)
        return 0;
    return S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0;
}

static void warn_cb(void *ud, const char *file, long line, const char *msg) {
    import_run *r = ud;
    if (r->tty)
        fputs("\r\033[K", stderr);
    if (line > 0)
        fprintf(stderr, "%s:%ld: %s\n", file, line, msg);
    else
        fprintf(stderr, "%s: %s\n", file, msg);
}

static void draw(import_run *r, const cxs_import_stats *st) {
    double t = now_s();
    if (!r->tty || r->quiet || t - r->last_draw < 0.2)
        return;
    r->last_draw = t;
    double el = t - r->started > 1e-3 ? t - r->started : 1e-3;
    unsigned long long done =
        st->bytes > r->done_bytes ? st->bytes : r->done_bytes;
    fprintf(stderr, "\r\033[K%zu files, %zu posts, %.0f posts/s, %.1f MB/s",
            st->files_read, st->posts, (double)st->posts / el,
            (double)done / el / 1e6);
    if (r->total_bytes > done && done > 0)
        fprintf(stderr, ", ETA %.0fs",
                (double)(r->total_bytes - done) / ((double)done / el));
}

static void progress_cb(void *ud, const char *file,
                        const cxs_import_stats *st) {
    (void)file;
    import_run *r = ud;
    r->done_bytes = st->bytes; /* exact again at each file's end */
    draw(r, st);
}

/* Roughly what a post took in its source file, for progress in a file. */
static unsigned long long post_bytes(const cxs_post *p) {
    return (p->text ? strlen(p->text) : 0) + 160; /* + the JSON around it */
}

static cxs_status sink(void *ud, cxs_post *post, cxs_err *err) {
    import_run *r = ud;
    if (r->dry_run) {
        json_t *obj = cxs_post_to_json(post);
        char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!s)
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        puts(s);
        free(s);
        return CXS_OK;
    }
    r->done_bytes += post_bytes(post);
    if (r->st && r->st->posts % 256 == 0)
        draw(r, r->st);
    return cxs_index_put_async(r->ix, post, err);
}

static void summary(const import_run *r, const cxs_import_stats *st) {
    double el = now_s() - r->started;
    if (r->tty && !r->quiet)
        fputs("\r\033[K", stderr);
    fprintf(stderr,
            "%zu files read, %zu posts (%zu added, %zu updated, %zu "
            "unchanged), %zu duplicates collapsed, %zu boilerplate blocks "
            "dropped, %zu files skipped, %zu bad records skipped, %.1f MB in "
            "%.2fs\n",
            st->files_read, st->posts, r->added, r->updated, r->unchanged,
            st->duplicates, st->boilerplate_dropped, st->files_skipped,
            st->bad_lines, (double)st->bytes / 1e6, el);
}

static int import_paths(import_run *r, cxs_import_opts *opts, char **paths,
                        int n, cxs_import_stats *st) {
    cxs_err err = {0};
    for (int i = 0; i < n; i++) {
        if (cxs_import_path(paths[i], opts, sink, r, st, &err) != CXS_OK) {
            if (r->tty)
                fputs("\r\033[K", stderr);
            fprintf(stderr, "cxsearch: %s: %s\n", paths[i], err.msg);
            return 1;
        }
    }
    if (r->ix && cxs_index_commit(r->ix, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_index(const char *db, int argc, char **argv) {
    static const struct option lo[] = {{"format", 1, 0, 'f'},
                                       {"dry-run", 0, 0, 'n'},
                                       {"batch", 1, 0, 'b'},
                                       {"quiet", 0, 0, 'q'},
                                       {"channel", 1, 0, 'c'},
                                       {"jobs", 1, 0, 'j'},
                                       {"shards", 1, 0, 's'},
                                       {0, 0, 0, 0}};
    import_run r = {0};
    cxs_import_opts opts = {0};
    cxs_index_config cfg;
    cxs_cli_config_defaults(&cfg);
    int c;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.workers = cores > 1 ? (unsigned)cores : 1;
    long nshards = 0;
    while ((c = getopt_long(argc, argv, "f:nb:qc:j:s:", lo, NULL)) != -1) {
        if (c == 's' && atol(optarg) > 0 && atol(optarg) <= 1024)
            nshards = atol(optarg);
        else if (c == 'j' && atol(optarg) > 0)
            cfg.workers = (unsigned)atol(optarg);
        else if (c == 'c')
            opts.channel = optarg;
        else if (c == 'f' && cxs_format_from_name(optarg) >= 0)
            opts.format = (cxs_format)cxs_format_from_name(optarg);
        else if (c == 'n')
            r.dry_run = 1;
        else if (c == 'b' && atol(optarg) > 0)
            cfg.batch_size = (size_t)atol(optarg);
        else if (c == 'q')
            r.quiet = 1;
        else
            return cxs_cli_usage(stderr), EXIT_USAGE;
    }
    if (optind >= argc || (!db && !r.dry_run))
        return cxs_cli_usage(stderr), EXIT_USAGE;
    /* A new index is built by every job in its own shard, then merged. */
    cfg.shards = cfg.workers;
    cxs_err err = {0};
    if (!r.dry_run && nshards > 1) {
        if (cxs_cli_open_shards(db, (unsigned)nshards, &cfg, &r.ix))
            return 1;
    } else if (!r.dry_run &&
               cxs_index_open_writer(db, &cfg, &r.ix, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        return 1;
    }
    r.tty = isatty(STDERR_FILENO);
    r.started = now_s();
    for (int i = optind; i < argc; i++)
        r.total_bytes += path_bytes(argv[i]);
    opts.warn = warn_cb;
    opts.warn_ud = &r;
    opts.progress = progress_cb;
    opts.progress_ud = &r;
    cxs_import_stats st = {0};
    r.st = &st;
    int rc = import_paths(&r, &opts, argv + optind, argc - optind, &st);
    if (r.ix)
        cxs_index_put_counts(r.ix, &r.added, &r.updated, &r.unchanged);
    cxs_index_close(r.ix);
    if (!r.quiet || rc)
        summary(&r, &st);
    if (rc)
        return rc;
    return st.files_skipped || st.bad_lines ? EXIT_SKIPPED : 0;
}

/* ------------------------------------------------------------------ */
/* search                                                               */

int cxs_cli_open_reader(const char *db, cxs_index **ix) {
    cxs_index_config cfg;
    cxs_err err = {0};
    cxs_cli_config_defaults(&cfg);
    if (cxs_index_open_reader(&db, 1, &cfg, ix, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static json_t *hit_json(const cxs_hit *h) {
    json_t *o = cxs_post_to_json(&h->post);
    if (!o)
        return NULL;
    json_object_set_new(o, "score", json_real(h->score));
    json_object_set_new(o, "snippet", json_string(h->snippet));
    json_object_set_new(o, "title_highlighted", json_string(h->title_hl));
    return o;
}

static int print_json(const cxs_search_res *res) {
    json_t *o = json_object(), *hits = json_array();
    json_object_set_new(o, "total", json_integer((json_int_t)res->total));
    json_object_set_new(o, "relaxed", json_boolean(res->relaxed));
    if (res->suggestion)
        json_object_set_new(o, "suggestion", json_string(res->suggestion));
    for (size_t i = 0; i < res->nhits; i++)
        json_array_append_new(hits, hit_json(&res->hits[i]));
    json_object_set_new(o, "hits", hits);
    int rc = json_dumpf(o, stdout, JSON_INDENT(2)) ? 1 : 0;
    putchar('\n');
    json_decref(o);
    return rc;
}

static void print_text(const cxs_search_res *res) {
    printf("%zu%s posts%s\n", res->total, res->total_exact ? "" : " (about)",
           res->relaxed ? " (not all words matched)" : "");
    if (res->suggestion)
        printf("did you mean: %s\n", res->suggestion);
    for (size_t i = 0; i < res->nhits; i++) {
        const cxs_hit *h = &res->hits[i];
        printf("\n%zu. %s  [%s%s%s]  %.3f\n   %s\n   %s\n", i + 1,
               h->post.title ? h->post.title : "", h->post.channel ? h->post.channel : "",
               h->post.date ? " " : "", h->post.date ? h->post.date : "",
               h->score, h->post.id, h->snippet);
    }
}

static int cmd_search(const char *db, int argc, char **argv) {
    static const struct option lo[] = {{"json", 0, 0, 'j'},
                                       {"limit", 1, 0, 'l'},
                                       {"offset", 1, 0, 'o'},
                                       {"sort", 1, 0, 's'},
                                       {0, 0, 0, 0}};
    cxs_search_req req = {0};
    int json = 0, c;
    req.limit = 10;
    while ((c = getopt_long(argc, argv, "jl:o:s:", lo, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'l' && atol(optarg) > 0)
            req.limit = (size_t)atol(optarg);
        else if (c == 'o' && atol(optarg) >= 0)
            req.offset = (size_t)atol(optarg);
        else if (c == 's' && strcmp(optarg, "date") == 0)
            req.sort = CXS_SORT_DATE_ASC;
        else if (c == 's' && strcmp(optarg, "-date") == 0)
            req.sort = CXS_SORT_DATE_DESC;
        else if (!(c == 's' && strcmp(optarg, "relevance") == 0))
            return cxs_cli_usage(stderr), EXIT_USAGE;
    }
    if (!db)
        return cxs_cli_usage(stderr), EXIT_USAGE;
    size_t qlen = 0;
    for (int i = optind; i < argc; i++)
        qlen += strlen(argv[i]) + 1;
    char *q = calloc(1, qlen + 1);
    for (int i = optind; q && i < argc; i++)
        strcat(strcat(q, i > optind ? " " : ""), argv[i]);
    req.q = q;
    req.hl_pre = json || !isatty(STDOUT_FILENO) ? NULL : "\033[1;33m";
    req.hl_post = req.hl_pre ? "\033[0m" : NULL;
    req.hl_no_escape = req.hl_pre != NULL;
    cxs_index *ix;
    if (!q || cxs_cli_open_reader(db, &ix)) {
        free(q);
        return 1;
    }
    cxs_search_res res;
    cxs_err err = {0};
    int rc = 0;
    if (cxs_index_search(ix, &req, &res, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        rc = 1;
    } else if (json) {
        rc = print_json(&res);
    } else {
        print_text(&res);
    }
    cxs_search_res_release(&res);
    cxs_index_close(ix);
    free(q);
    return rc;
}

/* ------------------------------------------------------------------ */
/* dump, stats                                                          */

static int dump_one(void *ud, const cxs_post *post) {
    (void)ud;
    json_t *o = cxs_post_to_json(post);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return 1;
    int bad = puts(s) < 0;
    free(s);
    return bad;
}

static int cmd_dump(const char *db) {
    cxs_index *ix;
    cxs_err err = {0};
    if (!db)
        return cxs_cli_usage(stderr), EXIT_USAGE;
    if (cxs_cli_open_reader(db, &ix))
        return 1;
    int rc = cxs_index_foreach(ix, dump_one, NULL, &err) != CXS_OK;
    if (rc)
        fprintf(stderr, "cxsearch: dump: %s\n", err.msg);
    cxs_index_close(ix);
    return rc || fflush(stdout) != 0;
}

static void print_facet(const char *name, const cxs_facet *f) {
    printf("%s:\n", name);
    for (size_t i = 0; i < f->n; i++)
        printf("  %-30s %zu\n", f->v[i].value, f->v[i].count);
}

static int cmd_stats(const char *db) {
    cxs_index *ix;
    cxs_index_stats st;
    cxs_err err = {0};
    if (!db)
        return cxs_cli_usage(stderr), EXIT_USAGE;
    if (cxs_cli_open_reader(db, &ix))
        return 1;
    int rc = cxs_index_stats_get(ix, &st, &err) != CXS_OK;
    if (rc) {
        fprintf(stderr, "cxsearch: stats: %s\n", err.msg);
    } else {
        printf("posts: %llu\nrevision: %llu\ndisk: %.1f MB\nlast update: "
               "%s\n",
               st.posts, st.revision, (double)st.disk_bytes / 1e6,
               st.last_update[0] ? st.last_update : "-");
        print_facet("languages", &st.langs);
        print_facet("channels", &st.channels);
        cxs_index_stats_release(&st);
    }
    cxs_index_close(ix);
    return rc;
}

/* Takes "--db DIR" (or --db=DIR) out of argv wherever it stands. */
static const char *take_db(int *argc, char **argv) {
    const char *db = NULL;
    int k = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < *argc)
            db = argv[++i];
        else if (strncmp(argv[i], "--db=", 5) == 0)
            db = argv[i] + 5;
        else
            argv[k++] = argv[i];
    }
    *argc = k;
    return db;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0)
        return cxs_cli_usage(argc < 2 ? stderr : stdout), argc < 2 ? EXIT_USAGE : 0;
    if (strcmp(argv[1], "--version") == 0)
        return puts("cxsearch " CXS_VERSION), 0;
    const char *cmd = argv[1];
    argv++;
    argc--;
    const char *db = take_db(&argc, argv);
    if (strcmp(cmd, "index") == 0)
        return cmd_index(db, argc, argv);
    if (strcmp(cmd, "search") == 0)
        return cmd_search(db, argc, argv);
    if (strcmp(cmd, "dump") == 0)
        return cmd_dump(db);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(db);
    if (strcmp(cmd, "split") == 0)
        return cxs_cli_split(db, argc, argv);
    if (strcmp(cmd, "backup") == 0)
        return cxs_cli_backup(db, argc, argv);
    if (strcmp(cmd, "follow") == 0) {
        int rc = cxs_cli_follow(db, argc, argv);
        if (rc == EXIT_USAGE)
            cxs_cli_usage(stderr);
        return rc;
    }
    fprintf(stderr, "cxsearch: unknown command '%s'\n", cmd);
    cxs_cli_usage(stderr);
    return EXIT_USAGE;
}
