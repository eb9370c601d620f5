/*
 * scale.c - the command line's scale-out commands (docs/scale-out.md):
 * `cxsearch split` deals an index's posts out to N shard databases,
 * `cxsearch backup` copies a live index consistently.
 *
 * Facts that shaped it:
 *  - A post's shard is cxs_index_shard_of(id, N), the rule the daemon's
 *    writer also follows for a new post (index.h), so a split index can
 *    take writes through a daemon at once. Posts are analyzed again on
 *    the way (the same analysis as indexing them anew): simpler than
 *    copying Xapian documents, and it leaves each shard its own
 *    glossary.
 *  - A backup is cxs_index_backup: Xapian's compactor reading one
 *    revision of the live index (index.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* OUT/shard-0 ... OUT/shard-(n-1) (malloc'd; NULL on OOM). */
static char **shard_paths(const char *out, unsigned n) {
    char **v = calloc(n, sizeof *v);
    for (unsigned i = 0; v && i < n; i++) {
        size_t len = strlen(out) + 32;
        if (!(v[i] = malloc(len)))
            return cxs_cli_free_paths(v, i), NULL;
        snprintf(v[i], len, "%s/shard-%u", out, i);
    }
    return v;
}

void cxs_cli_free_paths(char **v, unsigned n) {
    for (unsigned i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int cxs_cli_open_shards(const char *out, unsigned n, cxs_index_config *cfg,
                        cxs_index **ix) {
    cxs_err err = {0};
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cxsearch: %s: %s\n", out, strerror(errno));
        return 1;
    }
    char **paths = shard_paths(out, n);
    int rc = !paths;
    if (paths && cxs_index_open_writers((const char *const *)paths, n, cfg,
                                        ix, &err) != CXS_OK) {
        fprintf(stderr, "cxsearch: %s\n", err.msg);
        rc = 1;
    }
    cxs_cli_free_paths(paths, n);
    return rc;
}

typedef struct split_run {
    cxs_index *out;
    cxs_err err;
    cxs_status rc;
    size_t posts;
} split_run;

/* Writes a stored post to its shard (through JSON: the writer takes a
 * post it may change, the walk gives one it may not). */
static int split_one(void *ud, const cxs_post *post) {
    split_run *s = ud;
    json_t *o = cxs_post_to_json(post);
    cxs_post p = CXS_POST_INIT;
    s->rc = o ? cxs_post_from_json(o, &p, &s->err)
              : cxs_err_set(&s->err, CXS_ERR_NOMEM, "out of memory");
    if (s->rc == CXS_OK)
        s->rc = cxs_post_finish(&p, &s->err);
    if (s->rc == CXS_OK)
        s->rc = cxs_index_put(s->out, &p, NULL, &s->err);
    json_decref(o);
    cxs_post_release(&p);
    s->posts += s->rc == CXS_OK;
    return s->rc != CXS_OK;
}

int cxs_cli_split(const char *db, int argc, char **argv) {
    static const struct option lo[] = {{"shards", 1, 0, 's'}, {0, 0, 0, 0}};
    long n = 0;
    int c;
    while ((c = getopt_long(argc, argv, "s:", lo, NULL)) != -1)
        if (c != 's' || (n = atol(optarg)) < 2 || n > 1024)
            return cxs_cli_usage(stderr), CXS_CLI_EXIT_USAGE;
    if (!db || n < 2 || optind + 1 != argc)
        return cxs_cli_usage(stderr), CXS_CLI_EXIT_USAGE;
    const char *out = argv[optind];
    cxs_index_config cfg;
    cxs_cli_config_defaults(&cfg);
    cxs_index *in = NULL;
    split_run s = {0};
    if (cxs_cli_open_reader(db, &in) ||
        cxs_cli_open_shards(out, (unsigned)n, &cfg, &s.out)) {
        cxs_index_close(in);
        return 1;
    }
    cxs_status rc = cxs_index_foreach(in, split_one, &s, &s.err);
    if (rc == CXS_OK)
        rc = s.rc;
    if (rc == CXS_OK)
        rc = cxs_index_commit(s.out, &s.err);
    cxs_index_close(in);
    cxs_index_close(s.out);
    if (rc != CXS_OK) {
        fprintf(stderr, "cxsearch: split: %s\n", s.err.msg);
        return 1;
    }
    fprintf(stderr, "%zu posts split into %ld shards in %s/shard-0..%ld\n",
            s.posts, n, out, n - 1);
    return 0;
}

/* Runs cxs_index_backup in a child process. Xapian 1.4's compactor does
 * not free what it allocated when a writer's commit makes it start again
 * (DatabaseModifiedError, which a busy index gives every few copies): the
 * child's memory goes back to the system whole, whatever Xapian keeps. */
int cxs_cli_backup(const char *db, int argc, char **argv) {
    if (!db || argc != 2)
        return cxs_cli_usage(stderr), CXS_CLI_EXIT_USAGE;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        cxs_err err = {0};
        int bad = cxs_index_backup(db, argv[1], &err) != CXS_OK;
        if (bad)
            fprintf(stderr, "cxsearch: backup: %s\n", err.msg);
        else
            fprintf(stderr, "%s copied to %s\n", db, argv[1]);
        fflush(stderr);
        _exit(bad);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fprintf(stderr, "cxsearch: backup: %s\n", strerror(errno));
        return 1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
