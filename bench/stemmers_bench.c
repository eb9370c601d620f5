/*
 * stemmers_bench.c - how fast the analyzer turns post text into index
 * terms, per core.
 *
 *   stemmers_bench [FILE|-] [--repeat N] [--no-lemmas] [--detect]
 *                  [--cache ENTRIES]
 *   ../shared/bench/make-corpus 5000 | stemmers_bench
 *
 * Reads JSON Lines posts ({"text": ..., "lang": ...}; other fields
 * ignored) into memory first, so only analysis is timed: every text goes
 * through cxs_stemmers_terms with the post's lang (CLD2-detected when the
 * post has none, or for every post with --detect). Prints MB/s, tokens/s
 * and terms/s over CPU time of this one thread (the figure of
 * docs/analysis.md). The first pass warms the lemma cache the way a long
 * indexing run does; --repeat N runs N timed passes and reports the best.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "stemmers.h"

typedef struct post {
    char *text;
    size_t len;
    cxs_lang lang;
} post;

typedef struct corpus {
    post *v;
    size_t n, cap, bytes;
} corpus;

typedef struct counts {
    unsigned long tokens, terms;
    size_t last_start;
    unsigned last_pos, last_flags;
    int any;
} counts;

static int add_post(corpus *c, const char *line, size_t lineno) {
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j || !json_is_object(j)) {
        fprintf(stderr, "line %zu: not a JSON object: %s\n", lineno,
                j ? "wrong type" : jerr.text);
        json_decref(j);
        return -1;
    }
    const char *text = json_string_value(json_object_get(j, "text"));
    const char *lang = json_string_value(json_object_get(j, "lang"));
    if (text && c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        post *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            json_decref(j);
            return -1;
        }
        c->v = v, c->cap = cap;
    }
    if (text) {
        post *p = &c->v[c->n];
        p->len = json_string_length(json_object_get(j, "text"));
        p->text = malloc(p->len + 1);
        if (!p->text) {
            json_decref(j);
            return -1;
        }
        memcpy(p->text, text, p->len + 1);
        p->lang = cxs_lang_from_code(lang);
        c->bytes += p->len;
        c->n++;
    }
    json_decref(j);
    return 0;
}

static int read_corpus(FILE *f, corpus *c) {
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (got <= 1)
            continue;
        if (add_post(c, line, lineno) != 0) {
            free(line);
            return -1;
        }
    }
    free(line);
    return 0;
}

static int on_term(void *ud, cxs_term_kind kind, const char *t, size_t n,
                   const cxs_token *tok) {
    counts *c = ud;
    (void)kind, (void)t, (void)n;
    if (!c->any || tok->start != c->last_start || tok->pos != c->last_pos ||
        tok->flags != c->last_flags) {
        c->tokens++;
        c->last_start = tok->start, c->last_pos = tok->pos;
        c->last_flags = tok->flags, c->any = 1;
    }
    c->terms++;
    return 0;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_pass(cxs_stemmers *a, const corpus *c, int detect, counts *k) {
    memset(k, 0, sizeof *k);
    for (size_t i = 0; i < c->n; i++) {
        const post *p = &c->v[i];
        cxs_lang lang = p->lang;
        if (detect || lang == CXS_LANG_UNKNOWN)
            lang = cxs_stemmers_detect_lang(a, p->text, p->len);
        cxs_err err = {0};
        k->any = 0;
        if (cxs_stemmers_terms(a, p->text, p->len, lang, on_term, k, &err) !=
            CXS_OK) {
            fprintf(stderr, "post %zu: %s\n", i, err.msg);
            return -1;
        }
    }
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: stemmers_bench [FILE|-] [--repeat N] "
                    "[--no-lemmas] [--detect] [--cache ENTRIES]\n");
}

int main(int argc, char **argv) {
    const char *path = "-";
    int repeat = 3, detect = 0, lemmas = 1;
    size_t cache = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc)
            cache = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--no-lemmas") == 0)
            lemmas = 0;
        else if (strcmp(argv[i], "--detect") == 0)
            detect = 1;
        else if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
            path = argv[i];
        else
            return usage(), 2;
    }
    if (repeat < 1)
        repeat = 1;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    corpus c = {0};
    int rc = read_corpus(f, &c);
    if (f != stdin)
        fclose(f);
    if (rc != 0 || c.n == 0) {
        fprintf(stderr, "%s: no posts read\n", path);
        return 1;
    }
    cxs_stemmers_config cfg = {NULL, NULL, lemmas, cache};
    cxs_stemmers *a;
    cxs_err err = {0};
    if (cxs_stemmers_new(&cfg, &a, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    counts k;
    double t0 = cpu_seconds();
    rc = run_pass(a, &c, detect, &k);
    double cold = cpu_seconds() - t0, best = 0;
    for (int r = 0; rc == 0 && r < repeat; r++) {
        t0 = cpu_seconds();
        rc = run_pass(a, &c, detect, &k);
        double dt = cpu_seconds() - t0;
        if (r == 0 || dt < best)
            best = dt;
    }
    if (rc == 0) {
        double mb = (double)c.bytes / 1e6;
        printf("posts %zu, %.1f MB, lemmas %s%s\n", c.n, mb,
               lemmas ? "on" : "off", detect ? ", CLD2 per post" : "");
        printf("first pass (cold cache): %.2f MB/s\n", mb / cold);
        printf("best of %d: %.3f s CPU, %.2f MB/s, %.0f tokens/s, "
               "%.0f terms/s (%lu tokens, %lu terms)\n",
               repeat, best, mb / best, (double)k.tokens / best,
               (double)k.terms / best, k.tokens, k.terms);
    }
    cxs_stemmers_free(a);
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i].text);
    free(c.v);
    return rc == 0 ? 0 : 1;
}
