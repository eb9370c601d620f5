/*
 * test_forgive.c - forgiving search in the query module: the lexicon's
 * candidate search (query/lexicon.h) against a brute-force distance, the
 * keyboard layout table (query/layout.h), ICU's Latin-Russian
 * transliteration (stemmers.h) and the readings the parser adds to the
 * words the index does not know (query.h, cxs_forgive).
 *
 * The lexicon here is built from word lists written for the test, as the
 * index builds it from its term list; the parser is given no termfreq
 * callback, so a word is known when the lexicon holds its exact form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_test.h"
#include "layout.h"
#include "lexicon.h"
#include "query.h"
#include "stemmers.h"

static cxs_stemmers *A;

typedef struct wf {
    const char *w;
    unsigned f;
} wf;

static int cmp_wf(const void *a, const void *b) {
    return strcmp(((const wf *)a)->w, ((const wf *)b)->w);
}

/* A lexicon of the words (sorted here, as Xapian hands them over). */
static cxs_lexicon *lexicon_of(wf *v, size_t n) {
    cxs_lexicon *lx = NULL;
    if (cxs_lexicon_new(&lx, NULL) != CXS_OK)
        return NULL;
    qsort(v, n, sizeof *v, cmp_wf);
    for (size_t i = 0; i < n; i++)
        if (cxs_lexicon_add(lx, v[i].w, strlen(v[i].w), v[i].f, NULL) !=
            CXS_OK) {
            cxs_lexicon_free(lx);
            return NULL;
        }
    cxs_lexicon_seal(lx);
    return lx;
}

static unsigned dist(const char *a, const char *b) {
    return cxs_lexicon_distance(a, strlen(a), b, strlen(b));
}

static void test_distance(void) {
    CHECK_INT(dist("кастомизация", "кастомизация"), 0);
    CHECK_INT(dist("кастамизация", "кастомизация"), 1);  /* substitution */
    CHECK_INT(dist("кастомизаиця", "кастомизация"), 1);  /* swap */
    CHECK_INT(dist("кастомизция", "кастомизация"), 1);   /* deletion */
    CHECK_INT(dist("кастоммизация", "кастомизация"), 1); /* insertion */
    CHECK_INT(dist("опрос", "опрас"), 1); /* characters, not bytes */
    CHECK_INT(dist("клиенцкий", "клиентский"), 2);
    CHECK_INT(dist("ab", "ba"), 1);
    CHECK_INT(dist("abc", "ca"), 3); /* OSA: no edit of a swapped pair */
    CHECK_INT(dist("", "abc"), 3);
}

static void test_wants(void) {
    CHECK(cxs_lexicon_wants("опыт", strlen("опыт")));
    CHECK(cxs_lexicon_wants("esperienza", 10));
    CHECK(!cxs_lexicon_wants("XLопыт", strlen("XLопыт"))); /* a lemma */
    CHECK(!cxs_lexicon_wants("Zопыт", strlen("Zопыт")));
    CHECK(!cxs_lexicon_wants("b2b", 3));
    CHECK(!cxs_lexicon_wants("e-commerce", 10));
    CHECK(!cxs_lexicon_wants("a", 1));
    char longw[64];
    memset(longw, 'a', 41);
    CHECK(!cxs_lexicon_wants(longw, 41));
    CHECK(cxs_lexicon_wants(longw, 40));
}

static void test_near(void) {
    wf v[] = {{"кастомизация", 40}, {"кастомизации", 30}, {"кастомизацию", 9},
              {"кастамизация", 1},  {"персонализация", 50}, {"опыт", 100},
              {"опыта", 60},       {"опята", 2},          {"опрос", 70}};
    cxs_lexicon *lx = lexicon_of(v, sizeof v / sizeof v[0]);
    CHECK(lx != NULL);
    CHECK_INT(cxs_lexicon_size(lx), 9);
    CHECK_INT(cxs_lexicon_freq(lx, "опыт", strlen("опыт")), 100);
    CHECK_INT(cxs_lexicon_freq(lx, "опы", strlen("опы")), 0);
    cxs_lexcand c[8];
    const char *q = "кастомезация";
    size_t n = cxs_lexicon_near(lx, q, strlen(q), 1, 1, c, 8);
    CHECK_INT(n, 1);
    CHECK(n >= 1 && strcmp(c[0].word, "кастомизация") == 0 && c[0].dist == 1);
    n = cxs_lexicon_near(lx, q, strlen(q), 2, 1, c, 8);
    /* one edit first, then two edits by frequency */
    CHECK_INT(n, 4);
    CHECK(n == 4 && strcmp(c[0].word, "кастомизация") == 0);
    CHECK(n == 4 && strcmp(c[1].word, "кастомизации") == 0 && c[1].dist == 2);
    CHECK(n == 4 && strcmp(c[2].word, "кастомизацию") == 0);
    CHECK(n == 4 && strcmp(c[3].word, "кастамизация") == 0);
    /* min_freq leaves rare words out; max caps the answer */
    CHECK_INT(cxs_lexicon_near(lx, q, strlen(q), 2, 2, c, 8), 3);
    CHECK_INT(cxs_lexicon_near(lx, q, strlen(q), 2, 1, c, 2), 2);
    /* the word itself is no candidate */
    q = "опыт";
    n = cxs_lexicon_near(lx, q, strlen(q), 1, 1, c, 8);
    CHECK_INT(n, 1);
    CHECK(n == 1 && strcmp(c[0].word, "опыта") == 0);
    /* bounded input: over CXS_LEX_MAX_CHARS characters is not looked up */
    char longw[256];
    memset(longw, 'a', 100);
    CHECK_INT(cxs_lexicon_near(lx, longw, 100, 2, 1, c, 8), 0);
    CHECK_INT(cxs_lexicon_near(lx, "", 0, 2, 1, c, 8), 0);
    CHECK_INT(cxs_lexicon_near(NULL, "опыт", 8, 1, 1, c, 8), 0);
    cxs_lexicon_free(lx);
}

static void test_complete(void) {
    wf v[] = {{"опыт", 100}, {"опыта", 60}, {"опытом", 5}, {"опрос", 70},
              {"оплата", 3}, {"клиент", 80}, {"кастомизация", 40}};
    cxs_lexicon *lx = lexicon_of(v, sizeof v / sizeof v[0]);
    cxs_lexcand c[8];
    size_t n = cxs_lexicon_complete(lx, "опы", strlen("опы"), 0, c, 8);
    CHECK_INT(n, 3);
    CHECK(n == 3 && strcmp(c[0].word, "опыт") == 0 &&
          strcmp(c[1].word, "опыта") == 0 && strcmp(c[2].word, "опытом") == 0);
    n = cxs_lexicon_complete(lx, "оп", strlen("оп"), 0, c, 2);
    CHECK_INT(n, 2); /* the two most frequent */
    CHECK(n == 2 && strcmp(c[0].word, "опыт") == 0 &&
          strcmp(c[1].word, "опрос") == 0);
    /* one typo in the prefix: "кастам" -> "кастомизация" */
    n = cxs_lexicon_complete(lx, "кастам", strlen("кастам"), 1, c, 8);
    CHECK_INT(n, 1);
    CHECK(n == 1 && strcmp(c[0].word, "кастомизация") == 0 && c[0].dist == 1);
    /* a one-letter prefix: any number of words, bounded work */
    n = cxs_lexicon_complete(lx, "о", strlen("о"), 1, c, 8);
    CHECK_INT(n, 5);
    cxs_lexicon_free(lx);
}

/* The trie walk finds exactly the words a brute-force scan finds. */
static void test_near_brute_force(void) {
    enum { NW = 3000, NQ = 200, MAXR = 3000 };
    static const char *const letters[] = {"а", "б", "в", "о", "т", "a", "b"};
    static char words[NW][64];
    static wf v[NW];
    static cxs_lexcand c[MAXR];
    srand(7);
    size_t nw = 0;
    for (size_t i = 0; i < NW; i++) {
        size_t len = 2 + (size_t)(rand() % 8);
        words[i][0] = '\0';
        for (size_t k = 0; k < len; k++)
            strcat(words[i], letters[rand() % 5 + (i % 7 == 0 ? 2 : 0)]);
        int dup = 0;
        for (size_t j = 0; j < nw && !dup; j++)
            dup = strcmp(v[j].w, words[i]) == 0;
        if (!dup)
            v[nw++] = (wf){words[i], (unsigned)(1 + rand() % 50)};
    }
    cxs_lexicon *lx = lexicon_of(v, nw);
    int bad = 0;
    for (size_t qi = 0; qi < NQ; qi++) {
        char q[64] = "";
        size_t len = 2 + (size_t)(rand() % 8);
        for (size_t k = 0; k < len; k++)
            strcat(q, letters[rand() % 5]);
        unsigned d = 1 + (unsigned)(qi % 2);
        size_t want = 0, ones = 0;
        /* two edits only with the first character as typed (lexicon.h) */
        for (size_t j = 0; j < nw; j++) {
            unsigned e = dist(q, v[j].w);
            int first = strncmp(q, v[j].w, q[0] & 0x80 ? 2 : 1) == 0;
            want += e >= 1 && (e == 1 || (e <= d && first));
            ones += e == 1;
        }
        size_t cap = d > 1 ? 64 : MAXR;
        want = want < cap ? want : cap;
        size_t n = cxs_lexicon_near(lx, q, strlen(q), d, 1, c, MAXR);
        for (size_t j = 0; j < n; j++)
            bad += dist(q, c[j].word) != c[j].dist || c[j].dist > d ||
                   (j && c[j].dist < c[j - 1].dist) ||
                   (j && c[j].dist == c[j - 1].dist &&
                    c[j].freq > c[j - 1].freq) ||
                   (c[j].dist == 1) != (j < (ones < cap ? ones : cap));
        if (n != want)
            fprintf(stderr, "near(%s, %u): %zu, brute force %zu\n", q, d, n,
                    want);
        bad += n != want;
    }
    CHECK_INT(bad, 0);
    cxs_lexicon_free(lx);
}

static const char *swap(const char *s, char *out, size_t cap) {
    cxs_buf b = CXS_BUF_INIT;
    int swapped = 0;
    out[0] = '\0';
    if (cxs_layout_swap(s, strlen(s), &b, &swapped) == CXS_OK && swapped)
        snprintf(out, cap, "%s", b.data);
    cxs_buf_release(&b);
    return swapped ? out : "(none)";
}

static void test_layout(void) {
    char o[256];
    CHECK_STR(swap("rfcnjvbpfwbz", o, sizeof o), "кастомизация");
    CHECK_STR(swap("RFCNJVBPFWBZ", o, sizeof o), "кастомизация");
    CHECK_STR(swap("ьфклуештп", o, sizeof o), "marketing");
    CHECK_STR(swap("ЬФКЛУЕШТП", o, sizeof o), "marketing");
    CHECK_STR(swap("кастомизация", o, sizeof o), "rfcnjvbpfwbz");
    CHECK_STR(swap("lf;t", o, sizeof o), "даже");     /* ';' is ж */
    CHECK_STR(swap("j,hfpjdfybt", o, sizeof o), "образование"); /* ',' б */
    CHECK_STR(swap("ctuvtynf-2", o, sizeof o), "сегмента-2");
    CHECK_STR(swap("`krf", o, sizeof o), "ёлка");
    CHECK_STR(swap("rfcnjvтой", o, sizeof o), "(none)"); /* mixed */
    CHECK_STR(swap("2024", o, sizeof o), "(none)");      /* no letter */
    CHECK_STR(swap("perché", o, sizeof o), "(none)");    /* no such key */
    CHECK_STR(swap("😀", o, sizeof o), "(none)");
}

static const char *translit(const char *s, char *out, size_t cap) {
    cxs_buf b = CXS_BUF_INIT;
    out[0] = '\0';
    if (cxs_stemmers_translit_ru(A, s, strlen(s), &b, NULL) == CXS_OK &&
        b.len)
        snprintf(out, cap, "%s", b.data);
    cxs_buf_release(&b);
    return out;
}

static void test_translit(void) {
    char o[256];
    CHECK_STR(translit("vygoranie", o, sizeof o), "выгорание");
    CHECK_STR(translit("opyt", o, sizeof o), "опыт");
    CHECK_STR(translit("kastomizatsiya", o, sizeof o), "кастомизация");
    CHECK_STR(translit("Shchuka", o, sizeof o), "щука");
    /* a guess the typo search then corrects: ts -> ц */
    CHECK_STR(translit("klientskiy", o, sizeof o), "клиенцкий");
    CHECK_STR(translit("nps2", o, sizeof o), "");
    CHECK_STR(translit("опыт", o, sizeof o), "");
    CHECK_STR(translit("", o, sizeof o), "");
}

/* ---- the parser ---- */

static cxs_lexicon *LX;

static void parse(const char *q, const cxs_forgive *f, cxs_query *r) {
    cxs_query_opts o = {0};
    o.lexicon = LX;
    if (f)
        o.forgive = *f;
    cxs_err err = {0};
    if (cxs_query_parse(A, q, strlen(q), &o, r, &err) != CXS_OK) {
        fprintf(stderr, "parse %s: %s\n", q, err.msg);
        memset(r, 0, sizeof *r);
    }
}

/* "typed>read_as:why ..." of the query's rewrites. */
static const char *rewrites(const char *q, const cxs_forgive *f,
                            char *out, size_t cap) {
    cxs_query r;
    parse(q, f, &r);
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r.nrewrites && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%s>%s:%s", i ? " " : "",
                              r.rewrites[i].typed, r.rewrites[i].read_as,
                              cxs_rewrite_why_name(r.rewrites[i].why));
    cxs_query_release(&r);
    return out;
}

static const char *tree(const char *q, const cxs_forgive *f, char *out,
                        size_t cap) {
    cxs_query r;
    parse(q, f, &r);
    out[0] = '\0';
    if (r.strict)
        cxs_qnode_describe(r.strict, out, cap);
    cxs_query_release(&r);
    return out;
}

static const char *tree(const char *q, const cxs_forgive *f, char *out,
                        size_t cap);

static void test_parser_rewrites(void) {
    char o[4096];
    /* one typo in a word of 5+ characters, two in a word of 9+ */
    CHECK_STR(rewrites("кастамизация", NULL, o, sizeof o),
              "кастамизация>кастомизация:typo");
    CHECK_STR(rewrites("клиенсткий", NULL, o, sizeof o),
              "клиенсткий>клиентский:typo");
    CHECK_STR(rewrites("опрас", NULL, o, sizeof o), "опрас>опрос:typo");
    /* too short for a typo (4 characters) */
    CHECK_STR(rewrites("опыи", NULL, o, sizeof o), "");
    /* a known word is never read otherwise */
    CHECK_STR(rewrites("опыта", NULL, o, sizeof o), "");
    /* not in quotes, excluded words, prefixes, acronyms, ids, hashtags */
    CHECK_STR(rewrites("\"кастамизация\"", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("опыт -кастамизация", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("кастамизац*", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("КАСТАМИЗАЦИЯ", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("кастамизация2", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("#кастамизация", NULL, o, sizeof o), "");
    CHECK_STR(rewrites("@кастамизация", NULL, o, sizeof o), "");
    /* other layout, both ways; transliteration (exact, or with typos) */
    CHECK_STR(rewrites("rfcnjvbpfwbz", NULL, o, sizeof o),
              "rfcnjvbpfwbz>кастомизация:layout");
    CHECK_STR(rewrites("ьфклуештп", NULL, o, sizeof o),
              "ьфклуештп>marketing:layout");
    /* a whole query on the other layout: short words follow the rest, a
     * stopword reading drops the word ("b" is "и") */
    CHECK_STR(rewrites("b rkbtyncrbq jgsn", NULL, o, sizeof o),
              "b>и:layout rkbtyncrbq>клиентский:layout jgsn>опыт:layout");
    char t[4096];
    tree("b rkbtyncrbq jgsn", NULL, t, sizeof t);
    CHECK_MSG(!strstr(t, " b ") && !strstr(t, "(OR b") && strstr(t, "опыт"),
              "%s", t);
    CHECK_STR(rewrites("kastomizatsiya", NULL, o, sizeof o),
              "kastomizatsiya>кастомизация:translit");
    CHECK_STR(rewrites("klientskiy opyt", NULL, o, sizeof o),
              "klientskiy>клиентский:translit opyt>опыт:translit");
    /* an English typo is also tried as Russian in Latin letters; the
     * reading as typed weighs more and is said first */
    CHECK_STR(rewrites("marketng", NULL, o, sizeof o),
              "marketng>marketing:typo marketng>маркетинг:translit");
    /* as you type: the last word is a prefix too, when nothing follows */
    cxs_forgive typing = {0};
    typing.typing = 1;
    CHECK_STR(rewrites("клиентский оп", &typing, o, sizeof o),
              "оп>опыт:prefix");
    CHECK_STR(rewrites("клиентский оп ", &typing, o, sizeof o), "");
    CHECK_STR(rewrites("клиентский оп", NULL, o, sizeof o), "");
    /* turned off */
    cxs_forgive off = {0};
    off.off = 1;
    CHECK_STR(rewrites("кастамизация rfcnjvbpfwbz", &off, o, sizeof o), "");
    cxs_forgive no_typos = {0};
    no_typos.no_typos = 1;
    CHECK_STR(rewrites("кастамизация rfcnjvbpfwbz", &no_typos, o, sizeof o),
              "rfcnjvbpfwbz>кастомизация:layout");
    cxs_forgive later = {0};
    later.one_typo_from = 6;
    CHECK_STR(rewrites("опрас", &later, o, sizeof o), "");
}

static void test_parser_tree(void) {
    char o[8192];
    /* the typed word, or (weighted lower) the readings: one typo weighs
     * more than two */
    tree("кастомизацыя", NULL, o, sizeof o);
    CHECK_MSG(strstr(o, "(SCALE 0.5 ") && strstr(o, "кастомизация"), "%s", o);
    /* a form of a reading already searched is not another reading */
    CHECK_MSG(!strstr(o, "(SCALE 0.3 ") && !strstr(o, "кастомизации"), "%s",
              o);
    tree("персонолизацыя", NULL, o, sizeof o);
    CHECK_MSG(strstr(o, "(SCALE 0.3 ") && strstr(o, "персонализация"), "%s",
              o);
    tree("rfcnjvbpfwbz", NULL, o, sizeof o);
    CHECK_MSG(strstr(o, "(SCALE 0.9 ") && strstr(o, "кастомизация"), "%s", o);
    cxs_forgive typing = {0};
    typing.typing = 1;
    tree("оп", &typing, o, sizeof o);
    CHECK_MSG(strstr(o, "(SCALE 0.7 (SYN опыт опрос опыта") != NULL, "%s", o);
}

static void test_suggestion(void) {
    cxs_query r;
    /* a short unknown word: no rewrite, but a did-you-mean */
    parse("опыи клиент", NULL, &r);
    CHECK_STR(r.suggestion ? r.suggestion : "(none)", "опыт клиент");
    cxs_query_release(&r);
    /* rewritten words are not suggested again; known ones never */
    parse("кастамизация клиент", NULL, &r);
    CHECK(r.suggestion == NULL);
    cxs_query_release(&r);
    parse("опыта клиент", NULL, &r);
    CHECK(r.suggestion == NULL);
    cxs_query_release(&r);
}

/* Bad input: bounded, no error. */
static void test_bad_input(void) {
    char q[8192] = "";
    for (int i = 0; i < 60; i++)
        strcat(q, "кастамизацыйя ");
    cxs_query r;
    parse(q, NULL, &r);
    CHECK(r.strict != NULL);
    CHECK(r.nrewrites <= 8); /* at most 8 words looked up */
    cxs_query_release(&r);
    char longw[512];
    memset(longw, 'a', 300);
    longw[300] = '\0';
    parse(longw, NULL, &r);
    CHECK(r.strict != NULL && r.nrewrites == 0);
    cxs_query_release(&r);
    parse("😀 🎉", NULL, &r);
    CHECK(r.strict != NULL && r.nrewrites == 0);
    cxs_query_release(&r);
    cxs_forgive typing = {0};
    typing.typing = 1;
    parse("к", &typing, &r);
    CHECK(r.strict != NULL);
    cxs_query_release(&r);
}

int main(void) {
    cxs_err err = {0};
    if (cxs_stemmers_new(NULL, &A, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    wf v[] = {{"кастомизация", 40}, {"кастомизации", 30}, {"клиентский", 90},
              {"клиент", 80},       {"опыт", 100},        {"опыта", 60},
              {"опрос", 70},        {"marketing", 20},   {"персонализация", 9},
              {"маркетинг", 30}};
    LX = lexicon_of(v, sizeof v / sizeof v[0]);
    RUN(test_distance);
    RUN(test_wants);
    RUN(test_near);
    RUN(test_complete);
    RUN(test_near_brute_force);
    RUN(test_layout);
    RUN(test_translit);
    RUN(test_parser_rewrites);
    RUN(test_parser_tree);
    RUN(test_suggestion);
    RUN(test_bad_input);
    cxs_lexicon_free(LX);
    cxs_stemmers_free(A);
    return cxs_test_done();
}
