/*
 * follow_cmd.c - `cxsearch follow --db DIR [--backfill N] URL...`: one pass
 * over each source (follow.h), a line per source on stdout, failures on
 * stderr, exit 3 when a source failed.
 *
 * Facts that shaped it: a run follows many sources and one broken source
 * (a 404, a slow server, an error page where a feed was) must not stop
 * the others, nor lose what they wrote: each source commits its own
 * pages. The fetcher's limits are flags, so that tests and cron jobs can
 * bound a run (a slow server costs at most --timeout per request).
 */
#include "follow_cmd.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"

#define EXIT_SOURCE_FAILED 3

void cxs_cli_follow_usage(FILE *f) {
    fputs("  cxsearch follow --db DIR [--backfill N] [--timeout S] "
          "[--connect-timeout S]\n"
          "        [--max-bytes N] [--pause S] [--retries N] [--max-wait S] "
          "[--max-pages N]\n"
          "        [--backoff S] URL...\n"
          "        URL: a channel's web preview (https://t.me/s/NAME) or an "
          "RSS/Atom feed\n"
          "        N (backfill): posts per channel to read back on the "
          "first passes (0)\n",
          f);
}

static void warn_cb(void *ud, const char *file, long line, const char *msg) {
    (void)ud;
    (void)line;
    fprintf(stderr, "cxsearch: %s: %s\n", file ? file : "?", msg);
}

static double num(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return end != s && *end == '\0' && v >= 0 ? v : -1;
}

/* Reads the flags; returns 0 or EXIT_USAGE (2). */
static int parse_flags(int argc, char **argv, cxs_follow_opts *o,
                       cxs_fetch_config *fc) {
    static const struct option lo[] = {
        {"backfill", 1, 0, 'b'},        {"timeout", 1, 0, 't'},
        {"connect-timeout", 1, 0, 'c'}, {"max-bytes", 1, 0, 'm'},
        {"pause", 1, 0, 'p'},           {"retries", 1, 0, 'r'},
        {"max-wait", 1, 0, 'w'},        {"max-pages", 1, 0, 'P'},
        {"backoff", 1, 0, 'B'},         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        double v = optarg ? num(optarg) : -1;
        if (v < 0)
            return 2;
        switch (c) {
        case 'b': o->backfill = (size_t)v; break;
        case 't': fc->timeout = v; break;
        case 'c': fc->connect_timeout = v; break;
        case 'm': fc->max_bytes = (size_t)v; break;
        case 'p': fc->host_pause = v > 0 ? v : -1; break;
        case 'r': fc->retries = v > 0 ? (unsigned)v : CXS_FETCH_NO_RETRY; break;
        case 'w': fc->max_wait = v; break;
        case 'P': o->max_pages = (size_t)v; break;
        case 'B': fc->backoff = v; break;
        default: return 2;
        }
    }
    return 0;
}

static int open_writer(const char *db, cxs_index **ix) {
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    static const char syn[] = CXS_CONFIG_DIR "/synonyms.txt";
    if (access(syn, R_OK) == 0)
        cfg.synonyms_path = syn;
    cxs_err err = {0};
    if (cxs_index_open_writer(db, &cfg, ix, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cxs_cli_follow(const char *db, int argc, char **argv) {
    cxs_follow_opts o = {0};
    cxs_fetch_config fc;
    cxs_fetch_config_init(&fc);
    if (parse_flags(argc, argv, &o, &fc) || optind >= argc || !db)
        return 2;
    o.warn = warn_cb;
    cxs_index *ix = NULL;
    if (open_writer(db, &ix))
        return 1;
    cxs_fetcher *f = NULL;
    cxs_err err = {0};
    if (cxs_fetcher_new(&fc, &f, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        cxs_index_close(ix);
        return 1;
    }
    int failed = 0, fatal = 0;
    for (int i = optind; i < argc && !fatal; i++) {
        cxs_follow_report rep;
        char line[512];
        cxs_err_clear(&err);
        cxs_status rc = cxs_follow_source(ix, f, argv[i], &o, &rep, &err);
        cxs_follow_report_line(&rep, line, sizeof line);
        if (rc == CXS_OK) {
            printf("%s: %s\n", argv[i], line);
            continue;
        }
        failed++;
        if (rep.kind != CXS_LIVE_UNKNOWN) /* what it did before failing */
            printf("%s: FAILED: %s (%s)\n", argv[i], err.msg, line);
        else
            printf("%s: FAILED: %s\n", argv[i], err.msg);
        fprintf(stderr, "cxsearch: source failed: %s: %s\n", argv[i], err.msg);
        /* The index failing (not the source) stops the run. */
        fatal = rc == CXS_ERR_INDEX || rc == CXS_ERR_LOCKED;
    }
    fflush(stdout);
    cxs_fetcher_free(f);
    cxs_index_close(ix);
    return fatal ? 1 : failed ? EXIT_SOURCE_FAILED : 0;
}
