/*
 * test_checkpoints.c - snippets from the index's resume points
 * (index/checkpoints.c, index/snippet.c) are the snippets of the full
 * scan, byte for byte:
 * - directly: for varied texts (Russian, Italian, English, compounds,
 *   elisions, hashtags, mentions, URLs, emoji counts, a title line, long
 *   texts) and many random sets of matched positions, passage lengths and
 *   title offsets, cxs_snippet_make with the resume points equals it
 *   without them;
 * - through the index: posts written here and data/sample/posts.jsonl,
 *   searched with and without the resume points (snippet_scan), give the
 *   same snippets and titles for every hit of many queries;
 * and the trailer changes nothing else: a post reads back as written, and
 * a post compares unchanged with its copy stored without a trailer.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxs_test.h"
#include "index_internal.h"
#include "snippet.h"

static cxs_stemmers *A;

static const char *const pieces[] = {
    "клиентский опыт",   "NPS-CSI",          "dell'informazione",
    "#CX",               "@anna_ivanova",    "https://example.com/a?b=c).",
    "🔥28",              "❤8",               "l'80%",
    "customer journey",  "путь клиента",     "3,5",
    "e/o",               "\n",               "\n\n",
    "\t",                "—",                "«опрос»",
    "опрос.",            "perché",           "don't",
    "qualità del servizio", "ёлки",          "x@y.com",
    "пути клиентов",     "esperienza cliente", "touchpoints",
    "опросы показали",   "il percorso",      "measured",
};
#define NPIECES (sizeof pieces / sizeof *pieces)

static unsigned long long rnd_state = 42;
static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rnd_state >> 33) % n);
}

/* A text of about `words` pieces, from a random seed; caller frees. */
static char *make_text(size_t words, int title) {
    cxs_buf b = CXS_BUF_INIT;
    if (title)
        (void)cxs_buf_appends(&b, "Заголовок: опрос и NPS\n\n");
    for (size_t i = 0; i < words; i++) {
        (void)cxs_buf_appends(&b, pieces[rnd(NPIECES)]);
        (void)cxs_buf_appendc(&b, rnd(6) ? ' ' : ',');
    }
    return cxs_buf_detach(&b);
}

typedef struct marks_ctx {
    cxs_checkpoints *b;
    unsigned npos;
} marks_ctx;

static int feed(void *ud, const cxs_token *tok) {
    marks_ctx *m = ud;
    CHECK(cxs_checkpoints_token(m->b, tok) == CXS_OK);
    m->npos = tok->pos + 1;
    return 0;
}

/* The trailer of text as the indexer writes it, into data. */
static unsigned make_marks(const char *text, cxs_buf *data) {
    cxs_checkpoints b;
    memset(&b, 0, sizeof b);
    cxs_checkpoints_begin(&b, text, strlen(text));
    marks_ctx m = {&b, 0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, text, strlen(text), feed, &m, &err) ==
          CXS_OK);
    (void)cxs_buf_appendc(data, 'R'); /* stands for the record */
    CHECK(cxs_checkpoints_append(&b, data) == CXS_OK);
    cxs_checkpoints_release(&b);
    return m.npos;
}

static int cmp_pos(const void *a, const void *b) {
    const cxs_snippet_pos *x = a, *y = b;
    return x->pos != y->pos ? (x->pos > y->pos) - (x->pos < y->pos)
                            : (x->term > y->term) - (x->term < y->term);
}

static char *snippet(const char *text, size_t from, const cxs_highlight *hl,
                     unsigned words) {
    cxs_buf out = CXS_BUF_INIT;
    cxs_err err = {0};
    CHECK_MSG(cxs_snippet_make(A, text, strlen(text), from, CXS_LANG_RU, hl,
                               words, &out, &err) == CXS_OK,
              "%s", err.msg);
    return cxs_buf_detach(&out);
}

/* One random set of matches over text: both paths, compared. */
static void compare_once(const char *text, size_t from, unsigned npos,
                         const cxs_buf *data, size_t *cuts) {
    cxs_snippet_pos pos[64];
    size_t n = rnd(4) ? rnd(12) : rnd(64);
    for (size_t i = 0; i < n; i++) /* some beyond: a title's positions */
        pos[i] = (cxs_snippet_pos){1 + rnd(npos + (rnd(8) ? 0 : 200)),
                                   rnd(4)};
    qsort(pos, n, sizeof *pos, cmp_pos);
    cxs_highlight hl = {.pre = "<b>", .post = "</b>", .by_index = 1,
                        .pos = pos, .npos = n};
    unsigned words = (unsigned[]){0, 5, 12, 30, 50}[rnd(5)];
    char *full = snippet(text, from, &hl, words);
    cxs_checkpoints_split(data->data, data->len, &hl.marks, &hl.nmarks);
    CHECK(hl.marks != NULL);
    char *fast = snippet(text, from, &hl, words);
    CHECK_MSG(full && fast && strcmp(full, fast) == 0,
              "words %u, from %zu, %zu matches:\n full: %s\n fast: %s", words,
              from, n, full, fast);
    *cuts += full && strncmp(full, "…", 3) == 0;
    free(full);
    free(fast);
}

static void test_window_equals_full_scan(void) {
    size_t cuts = 0, runs = 0;
    for (int t = 0; t < 60; t++) {
        int title = t % 3 == 0;
        char *text = make_text(t < 10 ? (size_t)t : 20 + rnd(t * 40), title);
        cxs_buf data = CXS_BUF_INIT;
        unsigned npos = make_marks(text, &data);
        size_t from = title ? strlen("Заголовок: опрос и NPS\n\n") : 0;
        for (int k = 0; k < 40; k++, runs++)
            compare_once(text, rnd(3) ? from : 0, npos ? npos : 1, &data,
                         &cuts);
        cxs_buf_release(&data);
        free(text);
    }
    /* Worth something only if passages were taken from inside texts. */
    CHECK_MSG(cuts > runs / 4, "%zu of %zu passages not at the start", cuts,
              runs);
}

/* The resume points are used: told the text has 20 positions, the
 * snippet shows those and no "…" (the full scan would go on). */
static void test_window_uses_marks(void) {
    char *text = make_text(200, 0);
    cxs_highlight hl = {.pre = "<b>", .post = "</b>", .by_index = 1};
    char *full = snippet(text, 0, &hl, 30);
    unsigned char payload[] = {20};
    hl.marks = payload, hl.nmarks = 1;
    char *fast = snippet(text, 0, &hl, 30);
    CHECK(full && strstr(full, " …") != NULL);
    CHECK(fast && strstr(fast, "…") == NULL);
    /* A resume point past the text's end (corrupt): the full scan. */
    unsigned char bad[] = {250, 1, 16, 0xFF, 0x7F};
    hl.marks = bad, hl.nmarks = sizeof bad;
    char *safe = snippet(text, 0, &hl, 30);
    CHECK(safe && full && strcmp(safe, full) == 0);
    free(full);
    free(fast);
    free(safe);
    free(text);
}

/* ---- through the index ---- */

static const char *const queries[] = {
    "клиентский опыт", "опрос",          "опросы",        "путь клиента",
    "клиентов",        "informazione",   "esperienza",    "qualità servizio",
    "percorso",        "customer",       "journey",       "touchpoint",
    "measured",        "nps",            "csi",           "ёлка",
    "cx",              "anna_ivanova",   "perché",        "\"путь клиента\"",
    "заголовок",       "опыт клиента",   "servizio",      "показали",
};

static char *w3_text; /* the text of post w/3, to read back */

static cxs_status put_post(cxs_index *ix, const char *id, const char *title,
                           char *text, cxs_err *err) {
    cxs_post p = CXS_POST_INIT;
    cxs_status rc = cxs_post_set(&p.id, id, strlen(id));
    if (rc == CXS_OK && title)
        rc = cxs_post_set(&p.title, title, strlen(title));
    if (rc == CXS_OK)
        rc = cxs_post_set(&p.lang, "ru", 2);
    p.text = text;
    if (rc == CXS_OK)
        rc = cxs_post_finish(&p, err);
    if (rc == CXS_OK)
        rc = cxs_index_put(ix, &p, NULL, err);
    p.text = NULL;
    cxs_post_release(&p);
    return rc;
}

static int put_sample(cxs_index *ix, const char *src, cxs_err *err) {
    char path[1024], *line = NULL;
    size_t cap = 0;
    int ok = 1;
    snprintf(path, sizeof path, "%s/data/sample/posts.jsonl", src);
    FILE *f = fopen(path, "r");
    while (f && ok && getline(&line, &cap, f) > 0) {
        json_t *obj = json_loads(line, 0, NULL);
        cxs_post p = CXS_POST_INIT;
        ok = obj && cxs_post_from_json(obj, &p, err) == CXS_OK &&
             cxs_post_finish(&p, err) == CXS_OK &&
             cxs_index_put(ix, &p, NULL, err) == CXS_OK;
        cxs_post_release(&p);
        json_decref(obj);
    }
    free(line);
    if (f)
        fclose(f);
    return f && ok;
}

/* Posts of every size, a third with a title line, some titles apart,
 * one longer than the analyzer's chunk (no resume points). */
static int build(const char *db, const char *src) {
    cxs_err err = {0};
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    cxs_index *ix = NULL;
    if (cxs_index_open_writer(db, &cfg, &ix, &err) != CXS_OK)
        return fprintf(stderr, "open: %s\n", err.msg), 0;
    int ok = put_sample(ix, src, &err);
    for (int i = 0; ok && i < 80; i++) {
        char id[32];
        snprintf(id, sizeof id, "w/%d", i);
        char *text = make_text(i == 79 ? 30000 : 10 + rnd(i * 20 + 10),
                               i % 3 == 0);
        const char *title = i % 3 == 0   ? "Заголовок: опрос и NPS"
                            : i % 3 == 1 ? "Отдельный заголовок про опыт"
                                         : NULL;
        ok = text && put_post(ix, id, title, text, &err) == CXS_OK;
        if (i == 3)
            w3_text = text;
        else
            free(text);
    }
    ok = ok && cxs_index_commit(ix, &err) == CXS_OK;
    if (!ok)
        fprintf(stderr, "build: %s\n", err.msg);
    cxs_index_close(ix);
    return ok;
}

static size_t compare_query(cxs_index *ix, const char *q, unsigned words) {
    cxs_search_req req;
    memset(&req, 0, sizeof req);
    req.q = q;
    req.limit = 200;
    req.snippet_words = words;
    cxs_search_res fast, slow;
    cxs_err err = {0};
    CHECK_MSG(cxs_index_search(ix, &req, &fast, &err) == CXS_OK, "%s", err.msg);
    req.snippet_scan = 1;
    CHECK_MSG(cxs_index_search(ix, &req, &slow, &err) == CXS_OK, "%s", err.msg);
    CHECK_MSG(fast.nhits == slow.nhits, "%s", q);
    size_t marked = 0;
    for (size_t i = 0; i < fast.nhits && i < slow.nhits; i++) {
        const cxs_hit *a = &fast.hits[i], *b = &slow.hits[i];
        CHECK_MSG(strcmp(a->snippet, b->snippet) == 0,
                  "%s, %s:\n marks: %s\n scan:  %s", q, a->post.id, a->snippet,
                  b->snippet);
        CHECK_MSG(strcmp(a->title_hl, b->title_hl) == 0, "%s, %s title", q,
                  a->post.id);
        marked += strstr(a->snippet, "<mark>") != NULL;
    }
    cxs_search_res_release(&fast);
    cxs_search_res_release(&slow);
    return marked;
}

/* A post reads back as written: the trailer is not part of it. */
static void check_read_back(cxs_index *ix) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    CHECK_MSG(cxs_index_get(ix, "w/3", &p, &err) == CXS_OK, "%s", err.msg);
    CHECK(p.text && w3_text && strcmp(p.text, w3_text) == 0);
    CHECK(p.title && strcmp(p.title, "Заголовок: опрос и NPS") == 0);
    CHECK(p.lang && strcmp(p.lang, "ru") == 0 && p.extra == NULL);
    cxs_post_release(&p);
    free(w3_text);
}

static void test_index_equals_full_scan(void) {
    const char *src = getenv("CXS_SOURCE_DIR");
    char db[] = "/tmp/cxs-test-checkpoints-XXXXXX";
    if (!src || !mkdtemp(db)) {
        CHECK(!"CXS_SOURCE_DIR and a temporary folder");
        return;
    }
    cxs_index *ix = NULL;
    cxs_err err = {0};
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    const char *paths[] = {db};
    if (build(db, src))
        CHECK_MSG(cxs_index_open_reader(paths, 1, &cfg, &ix, &err) == CXS_OK,
                  "%s", err.msg);
    size_t marked = 0;
    for (size_t i = 0; ix && i < sizeof queries / sizeof *queries; i++)
        for (unsigned w = 0; w < 3; w++)
            marked += compare_query(ix, queries[i], (unsigned[]){0, 8, 40}[w]);
    CHECK_MSG(marked > 300, "%zu snippets with a highlight", marked);
    if (ix)
        check_read_back(ix);
    cxs_index_close(ix);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", db);
    CHECK(system(cmd) == 0);
}

/* The prepared data carries a trailer, decodes to the post, and compares
 * unchanged with itself and with its copy stored before trailers. */
static void test_prepared_data(void) {
    cxs_doc_maker m;
    memset(&m, 0, sizeof m);
    m.an = A;
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    char *text = make_text(300, 1);
    CHECK(cxs_post_set(&p.id, "x/1", 3) == CXS_OK);
    p.text = text;
    cxs_prepared a, b;
    CHECK(cxs_doc_prepare(&m, &p, &a, &err) == CXS_OK);
    CHECK(cxs_doc_prepare(&m, &p, &b, &err) == CXS_OK);
    const unsigned char *payload;
    size_t plen;
    size_t rec = cxs_checkpoints_split(a.data, a.data_len, &payload, &plen);
    CHECK(payload != NULL && plen > 10 && rec + plen + 3 == a.data_len);
    CHECK(plen * 20 < strlen(text)); /* small beside the text */
    cxs_buf old = CXS_BUF_INIT;
    CHECK(cxs_buf_append(&old, b.data, b.data_len) == CXS_OK);
    CHECK_INT(cxs_index_compare(&a, &old), CXS_PUT_UNCHANGED);
    old.len = rec; /* as stored before trailers */
    CHECK_INT(cxs_index_compare(&a, &old), CXS_PUT_UNCHANGED);
    old.data[rec - 1] ^= 1;
    CHECK_INT(cxs_index_compare(&a, &old), CXS_PUT_UPDATED);
    cxs_post q = CXS_POST_INIT;
    CHECK(cxs_index_decode_post(a.data, a.data_len, &q, &err) == CXS_OK);
    CHECK(q.text && strcmp(q.text, text) == 0);
    cxs_post_release(&q);
    CHECK(cxs_index_decode_post(a.data, rec, &q, &err) == CXS_OK);
    CHECK(q.text && strcmp(q.text, text) == 0);
    cxs_post_release(&q);
    cxs_buf_release(&old);
    cxs_prepared_release(&a);
    cxs_prepared_release(&b);
    cxs_post_release(&p);
    cxs_doc_maker_release(&m);
}

int main(void) {
    cxs_err err = {0};
    if (cxs_stemmers_new(NULL, &A, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    RUN(test_window_equals_full_scan);
    RUN(test_window_uses_marks);
    RUN(test_prepared_data);
    RUN(test_index_equals_full_scan);
    cxs_stemmers_free(A);
    return cxs_test_done();
}
