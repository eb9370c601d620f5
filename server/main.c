/*
 * main.c - cxsearchd: parse the command line, build the configuration,
 * serve until SIGTERM/SIGINT, reload on SIGHUP.
 *
 * Facts that shaped it: signal handlers may do almost nothing safely, so
 * the three signals are blocked before any thread starts (libmicrohttpd's
 * pool threads inherit the mask) and the main thread takes them with
 * sigwait, then does the work (reload, graceful stop) as ordinary code.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sources.h"

#ifndef CXS_VERSION
#define CXS_VERSION "0"
#endif

#define MAX_DBS 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: cxsearchd [--config FILE] [--db DIR]... [--listen "
            "HOST:PORT]\n"
            "  --config FILE   INI configuration (default %s/cxsearch.conf "
            "when present)\n"
            "  --db DIR        index to serve; repeat for shards searched as "
            "one\n"
            "                  (overrides every 'db' of the file); a shard "
            "may be remote:\n"
            "                  tcp://HOST:PORT, ssh://HOST/PATH, "
            "prog:COMMAND\n"
            "                  (docs/scale-out.md); a write goes to the shard "
            "of its id\n"
            "  --listen H:P    address to listen on (overrides 'listen'; "
            "port 0 picks one)\n"
            "  --help, --version\n"
            "Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the "
            "configuration.\n"
            "See docs/api.md and docs/configuration.md.\n",
            CXS_CONFIG_DIR);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, cxs_server_args *a,
                      const char **dbs) {
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int c;
    a->dbs = dbs;
    while ((c = getopt_long(argc, argv, "c:d:l:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config_path = optarg; break;
        case 'l': a->listen = optarg; break;
        case 'd':
            if (a->ndbs == MAX_DBS) {
                fprintf(stderr, "cxsearchd: at most %d --db\n", MAX_DBS);
                return 2;
            }
            dbs[a->ndbs++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("cxsearchd %s\n", CXS_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cxsearchd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

static void serve(cxs_server *s, const sigset_t *set) {
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig != SIGHUP) {
            cxs_log_msg("info", "signal %d: finishing requests, stopping", sig);
            return;
        }
        cxs_err err = {0};
        if (cxs_server_reload(s, &err) == CXS_OK) {
            cxs_sources_reload(s->sources);
            cxs_log_msg("info", "configuration reloaded");
        } else
            cxs_log_msg("error",
                        "reload failed, keeping the running "
                        "configuration: %s",
                        err.msg);
    }
}

int main(int argc, char **argv) {
    const char *dbs[MAX_DBS];
    cxs_server_args args = {0};
    int rc = parse_args(argc, argv, &args, dbs);
    if (rc >= 0)
        return rc;
    cxs_err err = {0};
    cxs_server_config *cfg = NULL;
    if (cxs_server_config_build(&args, &cfg, &err) != CXS_OK) {
        cxs_log_msg("error", "%s", err.msg);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    static cxs_server srv;
    struct MHD_Daemon *d = NULL;
    unsigned port = 0;
    if (cxs_server_init(&srv, &args, cfg, &err) != CXS_OK ||
        cxs_http_start(&srv, &d, &port, &err) != CXS_OK) {
        cxs_log_msg("error", "%s", err.msg);
        cxs_server_release(&srv);
        return 1;
    }
    cxs_log_msg("info", "listening on %s (port %u), %u threads, %zu index%s",
                srv.snap->cfg->listen, port, srv.snap->cfg->threads,
                srv.snap->cfg->ndbs, srv.snap->cfg->ndbs > 1 ? "es" : "");
    cxs_server_preopen_start(&srv);
    if (cxs_sources_start(&srv, &srv.sources, &err) != CXS_OK)
        cxs_log_msg("error", "live sources not followed: %s", err.msg);
    else if (srv.snap->cfg->nsources)
        cxs_log_msg("info", "following %zu live source%s",
                    srv.snap->cfg->nsources,
                    srv.snap->cfg->nsources > 1 ? "s" : "");
    serve(&srv, &set);
    cxs_http_stop(&srv, d);
    cxs_sources_stop(srv.sources); /* after requests, before the writer */
    srv.sources = NULL;
    cxs_server_release(&srv);
    cxs_log_msg("info", "stopped");
    return 0;
}
