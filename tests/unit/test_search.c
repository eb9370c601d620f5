/*
 * test_search.c - search paths that must agree with each other, against
 * real indexes built from data/sample/posts.jsonl plus posts written here:
 * - snippets: the fast path (matches taken from the index's positions, no
 *   dictionary lookups) gives the very snippets and titles the analyzer's
 *   path gives, for inflected forms, stopwords, accents, look-alike
 *   letters, compounds, words the dictionary does not know, wildcards,
 *   synonyms and titles that are not the text's first line;
 * - glossary phrases: an index that recognized them at write time (one
 *   term per phrase) finds exactly the posts that phrase search by
 *   positions finds in an index without them;
 * - proximity rescoring: of posts alike for BM25, the one with the words
 *   together ranks first, then the one with them near, on every page.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxs_test.h"
#include "index.h"

static const char *const extra_posts[] = {
    "{\"id\":\"t/1\",\"lang\":\"ru\",\"text\":\"Команда СХ провела опрос. "
    "Клиентского опыта стало больше, а опросы — короче. NPS-CSI в одном "
    "опросе.\"}",
    "{\"id\":\"t/2\",\"lang\":\"it\",\"text\":\"Perché la qualità del "
    "servizio conta: il percorso del cliente e l'esperienza del cliente "
    "migliorano insieme.\"}",
    "{\"id\":\"t/3\",\"lang\":\"ru\",\"title\":\"Заголовок про ретеншн\","
    "\"text\":\"Ретеншн и ретеншна: слово, которого нет в словаре. "
    "Клиентский путь, путь клиента, пути клиентов.\"}",
    "{\"id\":\"t/4\",\"lang\":\"en\",\"text\":\"Customer journeys and the "
    "customer journey map: journeys mapped, touchpoints counted, "
    "customer experience measured.\"}",
    /* Forms in capitals and words that share a stem with a query word:
     * whether positions alone show every match (search.c) is decided by
     * counts, which these posts make uneven. */
    "{\"id\":\"t/5\",\"lang\":\"ru\",\"title\":\"ЭЛЕГИЯ НА СМЕРТЬ "
    "АННЫ\",\"text\":\"ЭЛЕГИЯ НА СМЕРТЬ АННЫ. Ох, Анна! ВМЕСТО ПРОДОЛЖЕНИЯ: "
    "мы вместе. Ретеншна НЕТ, РЕТЕНШНА ЕСТЬ, ретеншн растёт. Сопоставление "
    "ТОВАР-ПРОДУКТ: товаров много, товару место.\"}",
    "{\"id\":\"t/6\",\"lang\":\"it\",\"text\":\"Non dev'essere così: "
    "essi dicono che esser chiari conta. Essi sono clienti, e potere è "
    "poter scegliere.\"}",
};

static const char *const queries[] = {
    "анна",
    "вместе твоя",
    "вместе",
    "ретеншна",
    "товара",
    "essi poter",
    "quand'essi",
    "клиентский опыт",
    "опыт",
    "опрос",
    "опрос*",
    "nps",
    "NPS-CSI",
    "csi",
    "сх",
    "cx",
    "perche",
    "perché qualità",
    "\"qualità del servizio\"",
    "percorso cliente",
    "ретеншн",
    "\"путь клиента\"",
    "клиентов",
    "customer journey",
    "journeys",
    "touchpoint",
    "измерять качество",
    "servizio OR отзывы",
    "лояльность -nps",
    "и в на",
    "esperienza",
};

static cxs_status put_json(cxs_index *ix, const char *line, cxs_err *err) {
    json_error_t jerr;
    json_t *obj = json_loads(line, 0, &jerr);
    if (!obj)
        return cxs_err_set(err, CXS_ERR_PARSE, "%s", jerr.text);
    cxs_post p = CXS_POST_INIT;
    cxs_status rc = cxs_post_from_json(obj, &p, err);
    json_decref(obj);
    if (rc == CXS_OK)
        rc = cxs_post_finish(&p, err);
    if (rc == CXS_OK)
        rc = cxs_index_put(ix, &p, NULL, err);
    cxs_post_release(&p);
    return rc;
}

/* Builds an index at db; with_glossary: the writer has the shipped
 * glossary, so the new index recognizes its phrases. */
static int build(const char *db, const char *src, int with_glossary) {
    char path[1024], syn[1024], *line = NULL;
    size_t cap = 0;
    cxs_err err = {0};
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    snprintf(syn, sizeof syn, "%s/config/synonyms.txt", src);
    if (with_glossary)
        cfg.synonyms_path = syn;
    cxs_index *ix = NULL;
    if (cxs_index_open_writer(db, &cfg, &ix, &err) != CXS_OK)
        return fprintf(stderr, "open: %s\n", err.msg), 0;
    snprintf(path, sizeof path, "%s/data/sample/posts.jsonl", src);
    FILE *f = fopen(path, "r");
    int ok = f != NULL, n = 0;
    while (ok && getline(&line, &cap, f) > 0)
        if ((ok = put_json(ix, line, &err) == CXS_OK))
            n++;
    for (size_t i = 0; ok && i < sizeof extra_posts / sizeof *extra_posts; i++)
        ok = put_json(ix, extra_posts[i], &err) == CXS_OK;
    ok = ok && cxs_index_commit(ix, &err) == CXS_OK;
    if (!ok)
        fprintf(stderr, "build: %s\n", err.msg);
    free(line);
    if (f)
        fclose(f);
    cxs_index_close(ix);
    CHECK(n >= 40);
    return ok;
}

static int cmp_id(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void compare(cxs_index *ix, const char *q, int full, size_t *marks) {
    cxs_search_req req;
    memset(&req, 0, sizeof req);
    req.q = q;
    req.limit = 100;
    req.snippet_full = full;
    cxs_search_res fast, slow;
    cxs_err err = {0};
    CHECK_MSG(cxs_index_search(ix, &req, &fast, &err) == CXS_OK, "%s: %s", q,
              err.msg);
    req.snippet_analyze = 1;
    CHECK_MSG(cxs_index_search(ix, &req, &slow, &err) == CXS_OK, "%s: %s", q,
              err.msg);
    CHECK_MSG(fast.nhits == slow.nhits, "%s", q);
    for (size_t i = 0; i < fast.nhits && i < slow.nhits; i++) {
        const cxs_hit *a = &fast.hits[i], *b = &slow.hits[i];
        CHECK_MSG(strcmp(a->snippet, b->snippet) == 0,
                  "%s, %s:\n fast: %s\n slow: %s", q, a->post.id, a->snippet,
                  b->snippet);
        CHECK_MSG(strcmp(a->title_hl, b->title_hl) == 0, "%s, %s title", q,
                  a->post.id);
        *marks += strstr(a->snippet, "<mark>") != NULL;
    }
    cxs_search_res_release(&fast);
    cxs_search_res_release(&slow);
}

/* A reader with the shipped glossary (NULL on failure). */
static cxs_index *open_reader(const char *db, const char *src) {
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    char syn[1024];
    snprintf(syn, sizeof syn, "%s/config/synonyms.txt", src);
    cfg.synonyms_path = syn;
    const char *paths[] = {db};
    cxs_index *ix = NULL;
    cxs_err err = {0};
    CHECK_MSG(cxs_index_open_reader(paths, 1, &cfg, &ix, &err) == CXS_OK, "%s",
              err.msg);
    return ix;
}

static void remove_db(const char *db) {
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", db);
    CHECK(system(cmd) == 0);
}

/* A writer on a new index in a temporary folder made from the template
 * db (mkdtemp); NULL, reported, when either fails. */
static cxs_index *temp_writer(char *db) {
    if (!mkdtemp(db)) {
        CHECK(!"mkdtemp");
        return NULL;
    }
    cxs_index_config cfg;
    cxs_index_config_init(&cfg);
    cxs_index *w = NULL;
    cxs_err err = {0};
    CHECK_MSG(cxs_index_open_writer(db, &cfg, &w, &err) == CXS_OK, "%s",
              err.msg);
    return w;
}

static void test_fast_equals_analyzer(const char *src) {
    char db[] = "/tmp/cxs-test-snippet-XXXXXX";
    if (!mkdtemp(db)) {
        CHECK(!"mkdtemp");
        return;
    }
    cxs_index *ix = build(db, src, 1) ? open_reader(db, src) : NULL;
    size_t marks = 0;
    for (size_t i = 0; ix && i < sizeof queries / sizeof *queries; i++) {
        compare(ix, queries[i], 0, &marks);
        compare(ix, queries[i], 1, &marks);
    }
    /* The comparison is worth something only if words lit up. */
    CHECK_MSG(marks > 100, "%zu snippets with a highlight", marks);
    cxs_index_close(ix);
    remove_db(db);
}

/* The ids a query finds (sorted, NUL-separated into out). */
static size_t found(cxs_index *ix, const char *q, char *out, size_t cap) {
    cxs_search_req req;
    memset(&req, 0, sizeof req);
    req.q = q;
    req.limit = 1000;
    cxs_search_res res;
    cxs_err err = {0};
    size_t n = 0, at = 0;
    out[0] = '\0';
    if (cxs_index_search(ix, &req, &res, &err) != CXS_OK) {
        CHECK_MSG(0, "%s: %s", q, err.msg);
        return 0;
    }
    const char *ids[1000];
    for (size_t i = 0; i < res.nhits && i < 1000; i++)
        ids[n++] = res.hits[i].post.id;
    qsort(ids, n, sizeof *ids, cmp_id);
    for (size_t i = 0; i < n && at + strlen(ids[i]) + 2 < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s ", ids[i]);
    cxs_search_res_release(&res);
    return n;
}

static void test_phrases_as_terms(const char *src) {
    char with[] = "/tmp/cxs-test-phr-XXXXXX",
         without[] = "/tmp/cxs-test-pos-XXXXXX";
    if (!mkdtemp(with) || !mkdtemp(without)) {
        CHECK(!"mkdtemp");
        return;
    }
    cxs_index *a = build(with, src, 1) ? open_reader(with, src) : NULL;
    cxs_index *b = build(without, src, 0) ? open_reader(without, src) : NULL;
    static const char *const syn_queries[] = {
        "cx",
        "CX",
        "nps",
        "cjm",
        "customer journey",
        "клиентский опыт",
        "touchpoint",
        "ux",
        "csat",
        "esperienza cliente",
        "voc",
        "опрос",
        "ces",
        "путь клиента",
        "CX nps",
        "cx OR csi",
    };
    static char ga[65536], gb[65536];
    size_t total = 0;
    for (size_t i = 0; a && b && i < sizeof syn_queries / sizeof *syn_queries;
         i++) {
        total += found(a, syn_queries[i], ga, sizeof ga);
        found(b, syn_queries[i], gb, sizeof gb);
        CHECK_MSG(strcmp(ga, gb) == 0, "%s:\n terms: %s\n positions: %s",
                  syn_queries[i], ga, gb);
    }
    CHECK_MSG(total > 40, "%zu hits", total);
    cxs_index_close(a);
    cxs_index_close(b);
    remove_db(with);
    remove_db(without);
}

static const char *page_id(cxs_index *ix, const char *q, size_t offset) {
    static char id[64];
    cxs_search_req req;
    memset(&req, 0, sizeof req);
    req.q = q;
    req.offset = offset;
    req.limit = 1;
    cxs_search_res res;
    cxs_err err = {0};
    id[0] = '\0';
    if (cxs_index_search(ix, &req, &res, &err) == CXS_OK && res.nhits)
        snprintf(id, sizeof id, "%s", res.hits[0].post.id);
    cxs_search_res_release(&res);
    return id;
}

static void test_proximity_rescoring(const char *src) {
    /* Same words, same length: only where the two words stand differs.
     * Ids are in the reverse of the expected order, so that the order
     * BM25 alone leaves (by docid) is the wrong one. */
    static const char *const posts[] = {
        "{\"id\":\"p/1\",\"lang\":\"ru\",\"text\":\"опыт один два три "
        "четыре пять шесть семь восемь девять клиентский\"}",
        "{\"id\":\"p/2\",\"lang\":\"ru\",\"text\":\"опыт один "
        "клиентский два три четыре пять шесть семь восемь девять\"}",
        "{\"id\":\"p/3\",\"lang\":\"ru\",\"text\":\"один два "
        "клиентский опыт три четыре пять шесть семь восемь девять\"}",
    };
    char db[] = "/tmp/cxs-test-prox-XXXXXX";
    cxs_err err = {0};
    cxs_index *w = temp_writer(db);
    int ok = w != NULL;
    for (size_t i = 0; ok && i < 3; i++)
        ok = put_json(w, posts[i], &err) == CXS_OK;
    ok = ok && cxs_index_commit(w, &err) == CXS_OK;
    CHECK_MSG(ok, "%s", err.msg);
    cxs_index_close(w);
    cxs_index *ix = ok ? open_reader(db, src) : NULL;
    if (ix) {
        CHECK_STR(page_id(ix, "клиентский опыт", 0), "p/3"); /* together */
        CHECK_STR(page_id(ix, "клиентский опыт", 1), "p/2"); /* near */
        CHECK_STR(page_id(ix, "клиентский опыт", 2), "p/1"); /* apart */
        /* Inflected forms are together too. */
        CHECK_STR(page_id(ix, "клиентского опыта", 0), "p/3");
    }
    cxs_index_close(ix);
    remove_db(db);
}

/* Writes one post with id and text through w and commits. */
static int commit_post(cxs_index *w, const char *id, const char *text) {
    char line[512];
    cxs_err err = {0};
    snprintf(line, sizeof line, "{\"id\":\"%s\",\"lang\":\"ru\",\"text\":\"%s\"}",
             id, text);
    int ok = put_json(w, line, &err) == CXS_OK &&
             cxs_index_commit(w, &err) == CXS_OK;
    CHECK_MSG(ok, "%s", err.msg);
    return ok;
}

/* The vocabulary of a revision a reader moved to (lexicon_cache.c): built
 * on a thread of its own while the reader answers (a word just written
 * becomes a typo candidate once it is ready), at once with
 * cxs_index_warm, a new reader meeting that build waits for it, and a
 * reader closed while it is being built leaves nothing behind (ASan,
 * valgrind). */
static void test_lexicon_after_commit(const char *src) {
    char db[] = "/tmp/cxs-test-lexrev-XXXXXX";
    cxs_err err = {0};
    cxs_index *w = temp_writer(db);
    int ok = w && commit_post(w, "l/1", "калейдоскопический узор");
    cxs_index *r = ok ? open_reader(db, src) : NULL;
    if (r && commit_post(w, "l/2", "гиперсегментированность аудитории")) {
        CHECK_STR(page_id(r, "калейдоскопичесский", 0), "l/1");
        CHECK(cxs_index_reopen(r, NULL, &err) == CXS_OK);
        /* Asked again until the new vocabulary is in (bounded). */
        int found = 0;
        for (int i = 0; i < 4000 && !found; i++) {
            found = strcmp(page_id(r, "гиперсегментированость", 0), "l/2") == 0;
            if (!found)
                usleep(5000);
        }
        CHECK_MSG(found, "a word written is a typo candidate after a reopen");
    }
    if (r && commit_post(w, "l/3", "сверхпроводимость металлов")) {
        CHECK(cxs_index_reopen(r, NULL, &err) == CXS_OK);
        cxs_index_warm(r);
        CHECK_STR(page_id(r, "сверхпроводимось", 0), "l/3");
    }
    if (r && commit_post(w, "l/4", "электрокардиография сердца")) {
        CHECK(cxs_index_reopen(r, NULL, &err) == CXS_OK);
        (void)page_id(r, "электрокардиографя", 0); /* starts the build */
        /* A reader with no vocabulary yet waits for that build (it hung
         * waiting for a broadcast nobody made). */
        cxs_index *r2 = open_reader(db, src);
        CHECK(r2 != NULL);
        if (r2)
            CHECK_STR(page_id(r2, "электрокардиографя", 0), "l/4");
        cxs_index_close(r2);
    }
    cxs_index_close(r); /* waits for that build */
    cxs_index_close(w);
    remove_db(db);
}

int main(void) {
    const char *src = getenv("CXS_SOURCE_DIR");
    if (!src)
        src = ".";
    test_fast_equals_analyzer(src);
    test_phrases_as_terms(src);
    test_proximity_rescoring(src);
    test_lexicon_after_commit(src);
    return cxs_test_done();
}
