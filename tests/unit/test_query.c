/*
 * test_query.c - the query language parser (query/query.h) and synonyms.
 *
 * Trees are checked through cxs_qnode_describe and small tree walks, with
 * the real analyzer: the exact terms a word expands to depend on Hunspell
 * and Snowball, so checks name the terms that matter (the exact form, the
 * lemma "XLопыт") and the shape around them, not every stem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stemmers.h"
#include "cxs_test.h"
#include "phrases.h"
#include "qnode.h"
#include "query.h"

static cxs_stemmers *A;
static char D[1 << 16]; /* the last description */

static cxs_status parse_opts(const char *q, const cxs_query_opts *o,
                             cxs_query *out) {
    cxs_err err = {0};
    cxs_status rc = cxs_query_parse(A, q, strlen(q), o, out, &err);
    if (rc != CXS_OK)
        fprintf(stderr, "parse \"%.60s\": %s\n", q, err.msg);
    return rc;
}

/* Parses q and describes its strict tree into D. */
static const char *strict_of(const char *q) {
    cxs_query r;
    D[0] = '\0';
    if (parse_opts(q, NULL, &r) == CXS_OK)
        cxs_qnode_describe(r.strict, D, sizeof D);
    cxs_query_release(&r);
    return D;
}

static int has(const char *hay, const char *needle) {
    return strstr(hay, needle) != NULL;
}

static int starts(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

static int in_list(char **v, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Whether a TERM node with this term is in the tree. */
static int has_term(const cxs_qnode *n, const char *t) {
    if (!n)
        return 0;
    if (n->op == CXS_Q_TERM && strcmp(n->term, t) == 0)
        return 1;
    for (size_t i = 0; i < n->nkids; i++)
        if (has_term(n->kids[i], t))
            return 1;
    return 0;
}

static size_t count_op(const cxs_qnode *n, cxs_qop op) {
    size_t c = n && n->op == op;
    for (size_t i = 0; n && i < n->nkids; i++)
        c += count_op(n->kids[i], op);
    return c;
}

static size_t depth(const cxs_qnode *n) {
    size_t d = 0;
    for (size_t i = 0; n && i < n->nkids; i++) {
        size_t k = depth(n->kids[i]);
        d = k > d ? k : d;
    }
    return d + 1;
}

/* A word expands to its exact form, lemma and stem, weighted by class. */
static void test_word_variants(void) {
    cxs_query r;
    CHECK(parse_opts("опыта", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(starts(D, "(OR опыта "), "%s", D);
    /* Each variant is also looked up unprefixed (the index stores none
     * equal to a word's exact form), in its class and only once. */
    CHECK_MSG(has(D, "(SCALE 0.8 (SYN XLопыт опыт))"), "lemma weighted 0.8: %s",
              D);
    CHECK_MSG(has(D, "(SCALE 0.6 Zопыт)"), "stem weighted 0.6: %s", D);
    CHECK(r.relaxed == NULL); /* one word: nothing to relax */
    CHECK(in_list(r.hl_terms, r.nhl_terms, "опыта"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "XLопыт"));
    CHECK_INT(r.nwords, 1);
    CHECK_STR(r.nwords ? r.words[0] : NULL, "опыта");
    cxs_query_release(&r);

    /* The issue's example: "опыт" carries its dictionary lemma. */
    CHECK(parse_opts("опыт", NULL, &r) == CXS_OK);
    CHECK(in_list(r.hl_terms, r.nhl_terms, "XLопыт"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "опыт"));
    for (size_t i = 1; i < r.nhl_terms; i++)
        CHECK(strcmp(r.hl_terms[i - 1], r.hl_terms[i]) < 0);
    cxs_query_release(&r);

    /* Accent-free form for Italian words, weighted 0.7. */
    CHECK_MSG(has(strict_of("città"), "(SCALE 0.7 (SYN XFcitta citta))"), "%s",
              D);

    /* Weights come from the options. */
    cxs_query_opts o = {0};
    o.w_lemma = 0.9;
    o.w_stem = 0.3;
    CHECK(parse_opts("опыта", &o, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(has(D, "(SCALE 0.9 (SYN XLопыт") && has(D, "(SCALE 0.3 Z"), "%s",
              D);
    cxs_query_release(&r);
}

static void test_all_words_required(void) {
    cxs_query r;
    CHECK(parse_opts("клиентский опыт", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2);
    CHECK(has_term((r.strict)->kids[0], "клиентский"));
    CHECK(has_term((r.strict)->kids[1], "опыт"));
    /* relaxed: the same words, any of them */
    CHECK(r.relaxed && (r.relaxed)->op == CXS_Q_OR && (r.relaxed)->nkids == 2);
    CHECK(r.relaxed && has_term(r.relaxed, "клиентский") &&
          has_term(r.relaxed, "опыт"));
    CHECK_INT(r.nwords, 2);
    cxs_query_release(&r);

    /* A relaxed query keeps exclusions and filters. */
    CHECK(parse_opts("клиентский опыт -nps channel:cxlogic", NULL, &r) ==
          CXS_OK);
    cxs_qnode_describe(r.relaxed, D, sizeof D);
    CHECK_MSG(starts(D, "(FILTER (AND_NOT (OR (OR клиентский"), "%s", D);
    CHECK_MSG(has(D, " XCcxlogic)"), "%s", D);
    CHECK(has_term(r.relaxed, "nps"));
    cxs_query_release(&r);
}

static void test_stopwords(void) {
    cxs_query r;
    /* Dropped from free text ... */
    CHECK(parse_opts("опыт и клиент", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2);
    CHECK(!has_term(r.strict, "и"));
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "и"));
    cxs_query_release(&r);
    CHECK(!has_term(NULL, "x"));
    /* ... kept when the query is only stopwords ... */
    CHECK(parse_opts("и в на", NULL, &r) == CXS_OK);
    CHECK(has_term(r.strict, "и") && has_term(r.strict, "на"));
    cxs_query_release(&r);
    CHECK(parse_opts("per la", NULL, &r) == CXS_OK);
    CHECK(has_term(r.strict, "per") && has_term(r.strict, "la"));
    cxs_query_release(&r);
    /* ... and inside phrases they hold their place: the index keeps no
     * positions for them, so they widen the window instead. */
    CHECK(parse_opts("\"опыт и клиент\"", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_PHRASE && (r.strict)->nkids == 2);
    CHECK_INT((r.strict)->window, 3);
    CHECK(!has_term(r.strict, "и"));
    /* and are not highlighted alone */
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "и"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "клиент"));
    cxs_query_release(&r);
    CHECK(parse_opts("и в на", NULL, &r) == CXS_OK);
    CHECK(in_list(r.hl_terms, r.nhl_terms, "и"));
    cxs_query_release(&r);
    /* A phrase of stopwords only needs all of them, in any order. */
    CHECK(parse_opts("\"to be or not\"", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND);
    CHECK(has_term(r.strict, "to") && has_term(r.strict, "not"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "be"));
    cxs_query_release(&r);
    /* A stopword at a phrase's edge just drops out. */
    CHECK(parse_opts("\"в офисе\"", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op != CXS_Q_PHRASE && !has_term(r.strict, "в"));
    CHECK(has_term(r.strict, "офисе"));
    cxs_query_release(&r);
}

static void test_phrase(void) {
    cxs_query r;
    CHECK(parse_opts("\"клиентский опыт\"", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(starts(D, "(PHRASE (OR клиентский "), "%s", D);
    /* each position admits the word's other forms */
    CHECK((r.strict)->nkids == 2 && has_term((r.strict)->kids[1], "XLопыт"));
    CHECK((r.strict)->window == 0);
    CHECK(r.relaxed == NULL);
    CHECK_INT(r.nwords, 0); /* phrase words are not free words */
    CHECK(in_list(r.hl_terms, r.nhl_terms, "XLопыт"));
    cxs_query_release(&r);

    /* Typographic quotes work like ASCII ones. */
    CHECK(starts(strict_of("«клиентский опыт»"), "(PHRASE "));
    CHECK(starts(strict_of("“customer journey”"), "(PHRASE "));
    /* A one-word phrase is that word. */
    CHECK_MSG(starts(strict_of("\"опыта\""), "(OR опыта "), "%s", D);
    /* An excluded phrase. */
    CHECK(parse_opts("nps -\"клиентский опыт\"", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND_NOT && (r.strict)->nkids == 2);
    CHECK((r.strict)->nkids == 2 && (r.strict)->kids[1]->op == CXS_Q_PHRASE);
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "клиентский"));
    cxs_query_release(&r);
}

static void test_exclusion(void) {
    cxs_query r;
    CHECK(parse_opts("опрос -nps", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND_NOT && (r.strict)->nkids == 2);
    CHECK((r.strict)->nkids == 2 && has_term((r.strict)->kids[0], "опрос") &&
          has_term((r.strict)->kids[1], "nps"));
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "nps"));
    CHECK(r.relaxed == NULL);
    CHECK_INT(r.nwords, 1);
    cxs_query_release(&r);
    /* Only an exclusion: everything but. */
    CHECK_MSG(starts(strict_of("-nps"), "(AND_NOT ALL "), "%s", D);
    /* NOT is another way to write '-'. */
    CHECK_MSG(starts(strict_of("опрос NOT nps"), "(AND_NOT "), "%s", D);
    /* A hyphen inside a word is no exclusion. */
    CHECK(!starts(strict_of("e-commerce"), "(AND_NOT"));
}

static void test_or(void) {
    cxs_query r;
    CHECK(parse_opts("nps OR csi", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_OR && (r.strict)->nkids == 2);
    CHECK((r.strict)->nkids == 2 && has_term((r.strict)->kids[0], "nps") &&
          has_term((r.strict)->kids[1], "csi"));
    CHECK(r.relaxed == NULL); /* one clause */
    cxs_query_release(&r);

    /* OR binds tighter than the implicit AND; '|' is OR too. */
    const char *qs[] = {"nps OR csi опрос", "nps | csi опрос", "nps|csi опрос"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(parse_opts(qs[i], NULL, &r) == CXS_OK);
        CHECK_MSG((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2, "%s",
                  qs[i]);
        CHECK((r.strict)->nkids == 2 && (r.strict)->kids[0]->op == CXS_Q_OR &&
              (r.strict)->kids[0]->nkids == 2);
        cxs_query_release(&r);
    }
    /* Chains stay flat. */
    CHECK(parse_opts("nps OR csi OR ces", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_OR && (r.strict)->nkids == 3);
    cxs_query_release(&r);
    /* Lower-case "or" is a word (a stopword here), not the operator. */
    CHECK(parse_opts("nps or csi", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2);
    cxs_query_release(&r);
}

static void test_parentheses(void) {
    cxs_query r;
    CHECK(parse_opts("(nps OR csi) опрос", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2);
    CHECK((r.strict)->nkids == 2 && (r.strict)->kids[0]->op == CXS_Q_OR);
    cxs_query_release(&r);

    CHECK(parse_opts("опрос (nps csi) OR ces", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2 &&
                  (r.strict)->kids[1]->op == CXS_Q_OR &&
                  (r.strict)->kids[1]->kids[0]->op == CXS_Q_AND,
              "%s", D);
    cxs_query_release(&r);

    /* An excluded group. */
    CHECK(parse_opts("опрос -(nps csi)", NULL, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND_NOT && (r.strict)->nkids == 2 &&
          (r.strict)->kids[1]->op == CXS_Q_AND);
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "nps"));
    cxs_query_release(&r);
}

static void test_prefix(void) {
    cxs_query r;
    CHECK(parse_opts("Esperien*", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_STR(D, "esperien*");
    CHECK((r.strict)->op == CXS_Q_PREFIX);
    CHECK_INT(r.nhl_prefixes, 1);
    CHECK_STR(r.nhl_prefixes ? r.hl_prefixes[0] : NULL, "esperien");
    CHECK_INT(r.nwords, 0);
    cxs_query_release(&r);
    /* ё folds in prefixes as in words. */
    CHECK_STR(strict_of("удовлетворённ*"), "удовлетворенн*");
    CHECK_MSG(starts(strict_of("опрос клиент*"), "(AND (OR опрос"), "%s", D);
    CHECK(has(D, " клиент*)"));
}

static void test_compound(void) {
    cxs_query r;
    CHECK(parse_opts("NPS-CSI", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    /* the whole compound, or its parts in order */
    CHECK_MSG((r.strict)->op == CXS_Q_OR && has_term(r.strict, "nps-csi"), "%s",
              D);
    CHECK_MSG(count_op(r.strict, CXS_Q_PHRASE) == 1, "%s", D);
    CHECK(has_term(r.strict, "nps") && has_term(r.strict, "csi"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "nps"));
    cxs_query_release(&r);
    /* A one-letter part is searched but not highlighted alone. */
    CHECK(parse_opts("e-commerce", NULL, &r) == CXS_OK);
    CHECK(has_term(r.strict, "e") && has_term(r.strict, "commerce"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "e-commerce"));
    CHECK(!in_list(r.hl_terms, r.nhl_terms, "e"));
    cxs_query_release(&r);
    /* Italian elision: the article goes, the word stays. */
    CHECK(has_term(NULL, "") == 0);
    CHECK(parse_opts("dell’informazione", NULL, &r) == CXS_OK);
    CHECK(has_term(r.strict, "informazione"));
    cxs_query_release(&r);
}

static void test_filters(void) {
    cxs_query r;
    CHECK(parse_opts("nps channel:CXLogic", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG((r.strict)->op == CXS_Q_FILTER && (r.strict)->nkids == 2 &&
                  has_term((r.strict)->kids[0], "nps") &&
                  (r.strict)->kids[1]->op == CXS_Q_TERM &&
                  strcmp((r.strict)->kids[1]->term, "XCcxlogic") == 0,
              "%s", D);
    CHECK_INT(r.filters.nchannels, 1);
    CHECK_STR(r.filters.nchannels ? r.filters.channels[0] : NULL, "CXLogic");
    CHECK_INT(r.nwords, 1);
    cxs_query_release(&r);

    CHECK_STR(strict_of("author:\"Анна  Петрова\""),
              "(FILTER ALL XPанна петрова)");
    CHECK_STR(strict_of("lang:IT"), "(FILTER ALL XGit)");
    CHECK_STR(strict_of("lang:rus"), "(FILTER ALL XGru)");
    CHECK_STR(strict_of("tag:NPS"), "(FILTER ALL Knps)");
    CHECK_STR(strict_of("#Эссешка"), "(FILTER ALL Kэссешка)");
    /* Several values of a field: any; several fields: all. */
    CHECK_STR(strict_of("channel:a channel:b lang:ru"),
              "(FILTER ALL (AND (OR XCa XCb) XGru))");
    /* Filters apply to the whole query, wherever typed. */
    CHECK_MSG(starts(strict_of("(nps channel:a)"), "(FILTER ") &&
                  has(D, "nps") && has(D, " XCa)"),
              "%s", D);
    /* An excluded filter. */
    CHECK_STR(strict_of("-channel:spam"), "(AND_NOT ALL XCspam)");

    CHECK(parse_opts("#nps tag:csi author:\"Анна\"", NULL, &r) == CXS_OK);
    CHECK_INT(r.filters.ntags, 2);
    CHECK_STR(r.filters.ntags ? r.filters.tags[0] : NULL, "nps");
    CHECK_INT(r.filters.nauthors, 1);
    CHECK_STR(r.filters.nauthors ? r.filters.authors[0] : NULL, "Анна");
    cxs_query_release(&r);
}

static void test_dates(void) {
    cxs_query r;
    CHECK_STR(strict_of("date:2024-01..2024-03"),
              "(FILTER ALL (RANGE 0 20240101000000..20240331235959))");
    CHECK_STR(strict_of("date:2024.."),
              "(FILTER ALL (RANGE 0 20240101000000..))");
    CHECK_STR(strict_of("date:..2023-06-30"),
              "(FILTER ALL (RANGE 0 ..20230630235959))");
    CHECK_STR(strict_of("date:2024"),
              "(FILTER ALL (RANGE 0 20240101000000..20241231235959))");
    CHECK_STR(strict_of("date:2024-02"),
              "(FILTER ALL (RANGE 0 20240201000000..20240229235959))");
    /* reversed ends are read the right way round */
    CHECK_STR(strict_of("date:2024-03..2024-01"),
              "(FILTER ALL (RANGE 0 20240101000000..20240331235959))");
    /* several date filters: the tightest bounds */
    CHECK_STR(strict_of("date:2023.. date:..2024-06"),
              "(FILTER ALL (RANGE 0 20230101000000..20240630235959))");

    CHECK(parse_opts("nps date:2024-01..2024-03", NULL, &r) == CXS_OK);
    CHECK_STR(r.filters.date_from, "2024-01");
    CHECK_STR(r.filters.date_to, "2024-03");
    cxs_query_release(&r);
    CHECK(parse_opts("date:2024", NULL, &r) == CXS_OK);
    CHECK_STR(r.filters.date_from, "2024");
    CHECK_STR(r.filters.date_to, "2024");
    cxs_query_release(&r);

    /* A bad date is read as words, not an error. */
    CHECK(parse_opts("date:abc", NULL, &r) == CXS_OK);
    CHECK(count_op(r.strict, CXS_Q_RANGE) == 0);
    CHECK(count_op(r.strict, CXS_Q_FILTER) == 0);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(has(D, "abc"), "%s", D);
    CHECK(r.filters.date_from == NULL);
    cxs_query_release(&r);
    CHECK(count_op(NULL, CXS_Q_AND) == 0);
    CHECK_MSG(!has(strict_of("date:2024-13"), "RANGE"), "%s", D);
    CHECK_STR(strict_of("-date:..2019"),
              "(AND_NOT ALL (RANGE 0 ..20191231235959))");
    CHECK_MSG(!has(strict_of("date:.."), "RANGE"), "%s", D);
}

static void check_ok(const char *q, const char *want) {
    cxs_query r;
    cxs_status rc = parse_opts(q, NULL, &r);
    CHECK_MSG(rc == CXS_OK && r.strict, "query \"%s\"", q);
    if (rc == CXS_OK && want) {
        cxs_qnode_describe(r.strict, D, sizeof D);
        CHECK_MSG(strcmp(D, want) == 0, "query \"%s\": got %s, want %s", q, D,
                  want);
    }
    cxs_query_release(&r);
}

static void test_forgiving(void) {
    check_ok("", "ALL");
    check_ok("   \t ", "ALL");
    check_ok("(", "ALL");
    check_ok(")))(((", "ALL");
    check_ok("-", "ALL");
    check_ok("*", "ALL");
    check_ok("\"", "ALL");
    check_ok("-\"\"", "ALL");
    check_ok("| | |", "ALL");
    check_ok("!!! ???", "ALL");
    check_ok("channel:", NULL);
    check_ok("author:\"\"", NULL);
    /* Unbalanced quotes run to the end; parentheses close at the end. */
    CHECK(starts(strict_of("\"клиентский опыт"), "(PHRASE "));
    CHECK(starts(strict_of("nps \"клиентский опыт"), "(AND (OR nps"));
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", strict_of("nps"));
    snprintf(b, sizeof b, "%s", strict_of("(nps"));
    CHECK_STR(b, a);
    snprintf(b, sizeof b, "%s", strict_of("nps)"));
    CHECK_STR(b, a);
    snprintf(b, sizeof b, "%s", strict_of("nps OR"));
    CHECK_STR(b, a);
    snprintf(b, sizeof b, "%s", strict_of("OR nps"));
    CHECK_STR(b, a);
    snprintf(b, sizeof b, "%s", strict_of("((nps))"));
    CHECK_STR(b, a);
    /* Only operators: read as the words they are. */
    check_ok("OR", NULL);
    check_ok("AND OR NOT", NULL);
    CHECK(has(strict_of("OR"), "or"));
    /* Bad UTF-8 and NUL bytes are no reason to fail. */
    cxs_query r;
    cxs_err err = {0};
    CHECK(cxs_query_parse(A, "\xff\xfe nps \xc3", 7, NULL, &r, &err) == CXS_OK);
    CHECK(has_term(r.strict, "nps"));
    cxs_query_release(&r);
    CHECK(cxs_query_parse(A, "nps\0csi", 7, NULL, &r, &err) == CXS_OK);
    cxs_query_release(&r);
    CHECK(cxs_query_parse(A, NULL, 0, NULL, &r, &err) == CXS_OK);
    CHECK(r.strict && (r.strict)->op == CXS_Q_ALL);
    cxs_query_release(&r);
    cxs_query_release(NULL);
}

static void test_too_large(void) {
    char *q = malloc(5000);
    memset(q, 'a', 5000);
    cxs_query r;
    cxs_err err = {0};
    CHECK(cxs_query_parse(A, q, 5000, NULL, &r, &err) == CXS_ERR_TOO_LARGE);
    CHECK(r.strict == NULL && r.hl_terms == NULL);
    CHECK_MSG(has(err.msg, "4096"), "%s", err.msg);
    CHECK(cxs_query_parse(A, q, 4096, NULL, &r, &err) == CXS_OK);
    cxs_query_release(&r);
    cxs_query_opts o = {0};
    o.max_len = 10;
    CHECK(cxs_query_parse(A, "0123456789x", 11, &o, &r, &err) ==
          CXS_ERR_TOO_LARGE);
    CHECK(cxs_query_parse(A, "0123456789", 10, &o, &r, &err) == CXS_OK);
    cxs_query_release(&r);
    free(q);
}

static void test_deep_nesting(void) {
    size_t n = 100000, len = 0;
    char *q = malloc(2 * n + 16);
    for (size_t i = 0; i < n; i++)
        q[len++] = i % 2 ? '(' : '-';
    memcpy(q + len, "nps", 3);
    len += 3;
    for (size_t i = 0; i < n / 2; i++)
        q[len++] = ')';
    cxs_query_opts o = {0};
    o.max_len = len;
    cxs_query r;
    cxs_err err = {0};
    CHECK(cxs_query_parse(A, q, len, &o, &r, &err) == CXS_OK);
    CHECK(r.strict && depth(r.strict) < 400);
    CHECK(has_term(r.strict, "nps"));
    cxs_qnode_describe(r.strict, D, sizeof D);
    cxs_query_release(&r);

    /* 1,000 plain nested groups around two words. */
    len = 0;
    for (size_t i = 0; i < 1000; i++)
        q[len++] = '(';
    memcpy(q + len, "nps csi", 7);
    len += 7;
    for (size_t i = 0; i < 1000; i++)
        q[len++] = ')';
    o.max_len = len;
    CHECK(cxs_query_parse(A, q, len, &o, &r, &err) == CXS_OK);
    CHECK(r.strict && (r.strict)->op == CXS_Q_AND && depth(r.strict) < 20);
    cxs_query_release(&r);
    free(q);
}

static void test_long_query(void) {
    size_t n = 10000, len = 0;
    char *q = malloc(n * 16);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(q + len, "слово%zu ", i);
    cxs_query_opts o = {0};
    o.max_len = len;
    cxs_query r;
    cxs_err err = {0};
    clock_t t0 = clock();
    CHECK(cxs_query_parse(A, q, len, &o, &r, &err) == CXS_OK);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_MSG(secs < 2.0, "%.2f s", secs);
    CHECK(r.strict && (r.strict)->op == CXS_Q_AND);
    CHECK_MSG(r.strict && (r.strict)->nkids == 64, "%zu words used",
              r.strict ? (r.strict)->nkids : 0);
    cxs_query_release(&r);
    free(q);
}

/* Any mix of operators, quotes and filters parses, and the tree stays
 * shallow (a fixed seed, so a failure can be replayed). */
static void test_random_queries(void) {
    static const char *const bits[] = {
        "(",     ")",      "\"",    "-",        "*",    "|",      " OR ",
        " AND ", " NOT ",  "date:", "channel:", "#",    "nps",    "опыт",
        "«",     "»",      " ",     "..",       "2024", "e-",     "l'",
        "\xd0",  "tag:\"", "-(",    "NPS-CSI",  "и ",   "author:"};
    size_t nb = sizeof bits / sizeof *bits, bad = 0, deep = 0;
    unsigned long seed = 12345;
    char q[512];
    for (int it = 0; it < 3000; it++) {
        size_t len = 0;
        int parts = (int)(seed % 24) + 1;
        for (int k = 0; k < parts; k++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            const char *b = bits[(seed >> 33) % nb];
            size_t n = strlen(b);
            if (len + n >= sizeof q)
                break;
            memcpy(q + len, b, n);
            len += n;
        }
        cxs_query r;
        cxs_err err = {0};
        if (cxs_query_parse(A, q, len, NULL, &r, &err) != CXS_OK || !r.strict)
            bad++;
        else if (depth(r.strict) > 200 || (r.relaxed && depth(r.relaxed) > 200))
            deep++;
        cxs_query_release(&r);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(deep, 0);
}

static char *write_tmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/cxs_syn_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static cxs_synonyms *load(const char *text, cxs_status want, const char *msg) {
    char *p = write_tmp(text);
    cxs_synonyms *s = NULL;
    cxs_err err = {0};
    CHECK(p != NULL);
    if (!p)
        return NULL;
    cxs_status rc = cxs_synonyms_load(p, A, &s, &err);
    CHECK_MSG(rc == want, "load: %s", err.msg);
    if (msg)
        CHECK_MSG(has(err.msg, msg), "%s does not mention %s", err.msg, msg);
    unlink(p);
    return s;
}

static void test_synonyms_load(void) {
    cxs_err err = {0};
    cxs_synonyms *s = (cxs_synonyms *)1;
    CHECK(cxs_synonyms_load("/nonexistent/syn.txt", A, &s, &err) == CXS_ERR_IO);
    CHECK(s == NULL && has(err.msg, "/nonexistent/syn.txt"));
    cxs_synonyms_free(load("", CXS_OK, NULL));
    cxs_synonyms_free(load("# only a comment\n\n", CXS_OK, NULL));
    load("# groups\nNPS, net promoter score\nCSI,, CES\n", CXS_ERR_PARSE,
         ":3:");
    load("NPS, net promoter score\n\nlonely\n", CXS_ERR_PARSE, ":3:");
    load("NPS, !!!\n", CXS_ERR_PARSE, ":1:");
    cxs_synonyms_free(NULL);

    /* The shipped glossary loads. */
    const char *path = CXS_CONFIG_DIR "/synonyms.txt";
    CHECK_MSG(cxs_synonyms_load(path, A, &s, &err) == CXS_OK, "%s", err.msg);
    cxs_query_opts o = {0};
    o.syn = s;
    cxs_query r;
    CHECK(parse_opts("NPS", &o, &r) == CXS_OK);
    CHECK(has_term(r.strict, "лояльности") && has_term(r.strict, "promoter"));
    cxs_query_release(&r);
    cxs_synonyms_free(s);
}

/* Glossary phrases recognized at index time (phrases.h). */
static cxs_status collect_found(void *ud, const char *term, size_t len) {
    strncat(ud, term, len);
    strcat(ud, "|");
    return CXS_OK;
}

static const char *find_in(const cxs_phrases *p, const char *const *terms,
                           const unsigned *pos, size_t n) {
    static char out[512];
    cxs_phrase_doc d;
    memset(&d, 0, sizeof d);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        CHECK(cxs_phrase_doc_add(&d, pos[i], terms[i], strlen(terms[i])) ==
              CXS_OK);
    CHECK(cxs_phrases_find(p, &d, collect_found, out) == CXS_OK);
    cxs_phrase_doc_release(&d);
    return out;
}

static void test_phrases(void) {
    const char *list = "клиентский опыт\nesperienza del cliente\nsolo\n"
                       "клиентский опыт\n";
    cxs_phrases *p = NULL;
    cxs_err err = {0};
    CHECK_MSG(cxs_phrases_new(A, list, strlen(list), &p, &err) == CXS_OK, "%s",
              err.msg);
    /* Keys: positional forms, one space per position between them. */
    CHECK(cxs_phrases_has(p, "клиентский опыт", strlen("клиентский опыт")));
    CHECK(cxs_phrases_has(p, "esperienza  cliente", 19));
    CHECK(!cxs_phrases_has(p, "esperienza cliente", 18));
    CHECK(!cxs_phrases_has(p, "solo", 4) && !cxs_phrases_has(NULL, "x", 1));
    /* In a post: any form by its lemma, in order, within the span. */
    const char *t1[] = {"XLклиентский", "XLопыт"};
    CHECK_STR(find_in(p, t1, (const unsigned[]){5, 6}, 2),
              "XSклиентский опыт|");
    CHECK_STR(find_in(p, t1, (const unsigned[]){5, 7}, 2), "");
    const char *t2[] = {"XLопыт", "XLклиентский"};
    CHECK_STR(find_in(p, t2, (const unsigned[]){5, 6}, 2), "");
    /* The stopword's place may hold any word, but no more than one. */
    const char *t3[] = {"esperienza", "nuova", "cliente"};
    CHECK_STR(find_in(p, t3, (const unsigned[]){1, 2, 3}, 3),
              "XSesperienza  cliente|");
    CHECK_STR(find_in(p, t3, (const unsigned[]){1, 2, 4}, 3), "");
    /* Twice in a post: twice. */
    const char *t4[] = {"клиентский", "опыт", "клиентский", "XLопыт"};
    CHECK_STR(find_in(p, t4, (const unsigned[]){1, 2, 9, 10}, 4),
              "XSклиентский опыт|XSклиентский опыт|");

    /* A query for a synonym reads the phrase's term, not its positions. */
    cxs_synonyms *s = load("CX, клиентский опыт, customer experience\n",
                           CXS_OK, NULL);
    cxs_query_opts o = {0};
    o.syn = s;
    o.phrases = p;
    cxs_query r;
    CHECK(parse_opts("CX", &o, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(has(D, "XSклиентский опыт") && has(D, "(PHRASE "), "%s", D);
    /* ... and its words still light up. */
    CHECK(in_list(r.hl_terms, r.nhl_terms, "XLопыт"));
    cxs_query_release(&r);
    cxs_synonyms_free(s);
    cxs_phrases_free(p);
}

static void test_synonyms_expand(void) {
    cxs_synonyms *s = load("# test groups\n"
                           "CX, клиентский опыт, customer experience\n"
                           "ОС, обратная связь, feedback  # comment\n",
                           CXS_OK, NULL);
    cxs_query_opts o = {0};
    o.syn = s;
    cxs_query r;
    /* An inflected multi-word member expands to the others. */
    CHECK(parse_opts("клиентского опыта", &o, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG((r.strict)->op == CXS_Q_OR && has_term(r.strict, "cx"), "%s", D);
    CHECK_MSG(has(D, "(SCALE 0.5 (OR "), "%s", D);
    CHECK_MSG(has(D, "(PHRASE (OR customer"), "%s", D);
    CHECK(in_list(r.hl_terms, r.nhl_terms, "cx"));
    CHECK(in_list(r.hl_terms, r.nhl_terms, "customer"));
    /* relaxed opens the words of the member as it would without synonyms:
     * (OR (OR клиентского опыта) (SCALE 0.5 ...)) */
    CHECK(r.relaxed && (r.relaxed)->op == CXS_Q_OR &&
          (r.relaxed)->kids[0]->op == CXS_Q_OR &&
          (r.relaxed)->kids[0]->nkids == 2 &&
          count_op(r.relaxed, CXS_Q_AND) == 0);
    CHECK_INT(r.nwords, 2);
    cxs_query_release(&r);

    /* A one-word member, inside a longer query. */
    CHECK(parse_opts("опрос CX", &o, &r) == CXS_OK);
    CHECK((r.strict)->op == CXS_Q_AND && (r.strict)->nkids == 2);
    CHECK((r.strict)->nkids == 2 && has_term((r.strict)->kids[1], "клиентский"));
    CHECK(r.relaxed != NULL);
    cxs_query_release(&r);

    /* A two-word member weighs as one word: 1/2 inside the 0.5. */
    CHECK(parse_opts("CX", &o, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(has(D, "(SCALE 0.5 (OR (SCALE 0.5 (PHRASE (OR клиентский"), "%s",
              D);
    cxs_query_release(&r);

    /* The synonym weight is an option. */
    o.w_synonym = 0.25;
    CHECK(parse_opts("feedback", &o, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(has(D, "(SCALE 0.25 (OR ") && has_term(r.strict, "ос"), "%s", D);
    cxs_query_release(&r);
    o.w_synonym = 0;

    /* Part of a member is no match; excluded words are not expanded. */
    CHECK(parse_opts("опыт", &o, &r) == CXS_OK);
    CHECK(!has_term(r.strict, "cx"));
    cxs_query_release(&r);
    CHECK(parse_opts("опрос -CX", &o, &r) == CXS_OK);
    CHECK(!has_term(r.strict, "клиентский"));
    cxs_query_release(&r);
    /* Without the table, nothing is expanded. */
    CHECK(!has_term(NULL, "cx"));
    CHECK(!has(strict_of("клиентского опыта"), " cx"));
    cxs_synonyms_free(s);
}

static void test_words_list(void) {
    cxs_query r;
    CHECK(parse_opts("кастамизация опыт -nps \"a b\" esper* channel:x", NULL,
                     &r) == CXS_OK);
    CHECK_INT(r.nwords, 2);
    CHECK(r.nwords == 2 && strcmp(r.words[0], "кастамизация") == 0 &&
          strcmp(r.words[1], "опыт") == 0);
    cxs_query_release(&r);
}

/* Several words: ranked up where they stand together, by rescoring the
 * best posts (search.c), not by a boost in the tree. */
static void test_proximity_words(void) {
    cxs_query r;
    CHECK(parse_opts("клиентский опыт", NULL, &r) == CXS_OK);
    cxs_qnode_describe(r.strict, D, sizeof D);
    CHECK_MSG(!has(D, "AND_MAYBE") && !has(D, "NEAR"), "%s", D);
    CHECK_INT(r.nprox, 2);
    if (r.nprox == 2) {
        CHECK(in_list(r.prox[0].terms, r.prox[0].n, "клиентский"));
        CHECK(in_list(r.prox[0].terms, r.prox[0].n, "XLклиентский"));
        CHECK(in_list(r.prox[1].terms, r.prox[1].n, "опыт"));
        /* stems hold no positions */
        CHECK(!in_list(r.prox[1].terms, r.prox[1].n, "Zоп"));
    }
    cxs_query_release(&r);
    /* One word, or one word and stopwords: nothing to bring together. */
    CHECK(parse_opts("опыт", NULL, &r) == CXS_OK);
    CHECK_INT(r.nprox, 0);
    cxs_query_release(&r);
    CHECK(parse_opts("опыт и", NULL, &r) == CXS_OK);
    CHECK_INT(r.nprox, 0);
    cxs_query_release(&r);
    /* Excluded words and phrases are not free words. */
    CHECK(parse_opts("путь к клиенту -nps \"карта пути\"", NULL, &r) ==
          CXS_OK);
    CHECK_INT(r.nprox, 2);
    cxs_query_release(&r);
}

static unsigned long long words_of(const cxs_query *r, const char *t) {
    for (size_t i = 0; i < r->nhl_terms; i++)
        if (strcmp(r->hl_terms[i], t) == 0)
            return r->hl_words ? r->hl_words[i] : ~0ULL;
    return ~0ULL;
}

/* Each word's own form and lemma terms name the word; the lemma looked up
 * as an exact form names none: the snippet maker trusts a placed lemma
 * for its own word's forms only (index/search.c). */
static void test_highlight_words(void) {
    cxs_query r;
    CHECK(parse_opts("опыта клиентов", NULL, &r) == CXS_OK);
    CHECK(r.hl_words != NULL);
    CHECK(words_of(&r, "опыта") == CXS_QWORD_BIT(0));
    CHECK(words_of(&r, "XLопыт") == CXS_QWORD_BIT(0));
    CHECK(words_of(&r, "опыт") == 0); /* the lemma as an exact form */
    CHECK(words_of(&r, "Zопыт") == CXS_QWORD_BIT(0));
    CHECK(words_of(&r, "клиентов") == CXS_QWORD_BIT(1));
    CHECK(words_of(&r, "XLклиент") == CXS_QWORD_BIT(1));
    cxs_query_release(&r);
    /* A word typed twice is one term naming both. */
    CHECK(parse_opts("опыта \"опыта\"", NULL, &r) == CXS_OK);
    CHECK(words_of(&r, "опыта") == (CXS_QWORD_BIT(0) | CXS_QWORD_BIT(1)));
    cxs_query_release(&r);
    CHECK(CXS_QWORD_BIT(70) == CXS_QWORD_MANY);
}

int main(void) {
    cxs_err err = {0};
    if (cxs_stemmers_new(NULL, &A, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    RUN(test_word_variants);
    RUN(test_highlight_words);
    RUN(test_proximity_words);
    RUN(test_all_words_required);
    RUN(test_stopwords);
    RUN(test_phrase);
    RUN(test_exclusion);
    RUN(test_or);
    RUN(test_parentheses);
    RUN(test_prefix);
    RUN(test_compound);
    RUN(test_filters);
    RUN(test_dates);
    RUN(test_forgiving);
    RUN(test_too_large);
    RUN(test_deep_nesting);
    RUN(test_long_query);
    RUN(test_random_queries);
    RUN(test_synonyms_load);
    RUN(test_synonyms_expand);
    RUN(test_phrases);
    RUN(test_words_list);
    cxs_stemmers_free(A);
    return cxs_test_done();
}
