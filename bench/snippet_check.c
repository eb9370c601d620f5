/*
 * snippet_check.c - snippets from the index's resume points against the
 * full scan, over a real index and a query set, and the CPU each takes.
 *
 *   snippet_check DB QUERIES [--limit N] [--words N] [--pass marks|scan]
 *   ../shared/bench/make-queries-from-posts posts.jsonl > q.txt
 *   snippet_check /tmp/real.db q.txt
 *
 * Every query (one a line) is searched twice in this process, with the
 * resume points (as the daemon does) and without them (snippet_scan:
 * every hit's text tokenized from its start), and every hit's snippet and
 * title compared byte for byte. Prints the queries, hits and differences
 * (the first few in full), and the CPU seconds of each pass, searches
 * included (each query is searched once before, uncounted, so that both
 * find the caches warm). --pass runs one way only, each query once, for
 * a profiler (valgrind --tool=callgrind counts the instructions of a
 * fixed pass, whatever else the machine runs). Unit tests prove the same on written posts
 * (tests/unit/test_checkpoints.c); this is the check on a real corpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct tally {
    size_t queries, hits, differ, shown;
    double cpu[2];
} tally;

static int search(cxs_index *ix, const char *q, int scan, unsigned limit,
                  unsigned words, cxs_search_res *res, tally *t) {
    cxs_search_req req;
    memset(&req, 0, sizeof req);
    req.q = q;
    req.limit = limit;
    req.snippet_words = words;
    req.snippet_scan = scan;
    cxs_err err = {0};
    double t0 = cpu_now();
    cxs_status rc = cxs_index_search(ix, &req, res, &err);
    if (t)
        t->cpu[scan] += cpu_now() - t0;
    if (rc != CXS_OK)
        fprintf(stderr, "%s: %s\n", q, err.msg);
    return rc == CXS_OK;
}

static void compare(const cxs_search_res *a, const cxs_search_res *b,
                    const char *q, tally *t) {
    if (a->nhits != b->nhits) {
        printf("DIFF %s: %zu hits against %zu\n", q, a->nhits, b->nhits);
        t->differ++;
    }
    for (size_t i = 0; i < a->nhits && i < b->nhits; i++) {
        const cxs_hit *x = &a->hits[i], *y = &b->hits[i];
        t->hits++;
        if (strcmp(x->snippet, y->snippet) == 0 &&
            strcmp(x->title_hl, y->title_hl) == 0)
            continue;
        t->differ++;
        if (t->shown++ < 10)
            printf("DIFF %s, %s:\n marks: %s\n scan:  %s\n", q, x->post.id,
                   x->snippet, y->snippet);
    }
}

static int run(cxs_index *ix, FILE *f, unsigned limit, unsigned words,
               int only, tally *t) {
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        cxs_search_res a, b;
        if (only >= 0) {
            if (!search(ix, line, only, limit, words, &a, t))
                return 0;
            t->queries++;
            t->hits += a.nhits;
            cxs_search_res_release(&a);
            continue;
        }
        /* A first search warms the caches (pages, lemmas) for both. */
        if (!search(ix, line, 1, limit, words, &a, NULL))
            return 0;
        cxs_search_res_release(&a);
        if (!search(ix, line, 0, limit, words, &a, t))
            return 0;
        if (!search(ix, line, 1, limit, words, &b, t)) {
            cxs_search_res_release(&a);
            return 0;
        }
        t->queries++;
        compare(&a, &b, line, t);
        cxs_search_res_release(&a);
        cxs_search_res_release(&b);
    }
    return 1;
}

int main(int argc, char **argv) {
    unsigned limit = 10, words = 0;
    int only = -1; /* both ways, compared */
    if (argc < 3) {
        fprintf(stderr, "usage: snippet_check DB QUERIES [--limit N] "
                        "[--words N] [--pass marks|scan]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--limit") == 0)
            limit = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--words") == 0)
            words = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--pass") == 0)
            only = strcmp(argv[i + 1], "scan") == 0;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f)
        return perror(argv[2]), 2;
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    const char *paths[] = {argv[1]};
    cxs_index *ix = NULL;
    cxs_err err = {0};
    if (cxs_index_open_reader(paths, 1, &cfg, &ix, &err) != CXS_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        fclose(f);
        return 2;
    }
    tally t = {0};
    int ok = run(ix, f, limit, words, only, &t);
    printf("queries %zu, hits %zu, differing %zu; CPU s: with resume points "
           "%.3f, full scan %.3f\n",
           t.queries, t.hits, t.differ, t.cpu[0], t.cpu[1]);
    cxs_index_close(ix);
    fclose(f);
    return ok && !t.differ ? 0 : 1;
}
