/*
 * test_post.c - the post model: JSON round trip (unknown fields kept),
 * validation errors, derived title / tags / id, the text hash.
 */
#include <jansson.h>
#include <string.h>

#include "cxs_test.h"
#include "post.h"

static json_t *parse(const char *s) {
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return j;
}

static void test_round_trip(void) {
    const char *in =
        "{\"id\":\"cxtest/7\",\"channel\":\"cxtest\",\"author\":\"Anna\","
        "\"date\":\"2024-03-22T10:00:00+03:00\",\"lang\":\"ru\","
        "\"url\":\"https://t.me/cxtest/7\",\"title\":\"Заголовок\","
        "\"text\":\"Текст про NPS\",\"tags\":[\"NPS\",\"#cx\"],"
        "\"source\":{\"file\":\"a.jsonl\",\"line\":3},"
        "\"reactions\":{\"👍\":12},\"views\":1500}";
    json_t *j = parse(in);
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    CHECK_INT(cxs_post_from_json(j, &p, &err), CXS_OK);
    CHECK_STR(p.id, "cxtest/7");
    CHECK_STR(p.channel, "cxtest");
    CHECK_STR(p.date, "2024-03-22T10:00:00+03:00");
    CHECK_STR(p.text, "Текст про NPS");
    CHECK_INT(p.ntags, 2);
    CHECK_STR(p.tags[0], "nps");
    CHECK_STR(p.tags[1], "cx");
    CHECK_STR(p.source_file, "a.jsonl");
    CHECK_INT(p.source_line, 3);
    CHECK(json_is_object(p.extra));
    CHECK_INT(json_integer_value(json_object_get(p.extra, "views")), 1500);

    json_t *out = cxs_post_to_json(&p);
    CHECK(out != NULL);
    CHECK_STR(json_string_value(json_object_get(out, "title")), "Заголовок");
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(out, "reactions"), "👍")),
              12);
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(out, "source"), "line")),
              3);
    /* Everything but the tag spelling survives: from_json(to_json(p)). */
    cxs_post q = CXS_POST_INIT;
    CHECK_INT(cxs_post_from_json(out, &q, &err), CXS_OK);
    json_t *out2 = cxs_post_to_json(&q);
    CHECK(json_equal(out, out2));
    /* The key order is fixed so that dump output is stable. */
    char *s = json_dumps(out, JSON_PRESERVE_ORDER | JSON_COMPACT);
    CHECK(s && strncmp(s, "{\"id\":\"cxtest/7\",\"channel\":", 27) == 0);
    free(s);
    json_decref(out2);
    json_decref(out);
    json_decref(j);
    cxs_post_release(&q);
    cxs_post_release(&p);
    CHECK(p.text == NULL && p.extra == NULL && p.ntags == 0);
}

static void test_text_array_and_errors(void) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    json_t *j = parse("{\"text\":[\"uno\",\"due\"]}");
    CHECK_INT(cxs_post_from_json(j, &p, &err), CXS_OK);
    CHECK_STR(p.text, "uno\ndue");
    cxs_post_release(&p);
    json_decref(j);

    const char *bad[] = {"{\"title\":\"no text\"}",
                         "{\"text\":\"\"}",
                         "{\"text\":\"x\",\"date\":5}",
                         "{\"text\":[\"a\",{\"b\":1}]}",
                         "{\"text\":\"x\",\"tags\":\"nps\"}",
                         "{\"text\":\"x\",\"source\":{\"line\":\"3\"}}",
                         "[1]"};
    const char *field[] = {"text", "text",        "date",  "text",
                           "tags", "source.line", "object"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = parse(bad[i]);
        cxs_err_clear(&err);
        CHECK_INT(cxs_post_from_json(j, &p, &err), CXS_ERR_PARSE);
        CHECK_MSG(strstr(err.msg, field[i]) != NULL, "%s -> %s", bad[i],
                  err.msg);
        CHECK(p.text == NULL && p.extra == NULL); /* released on error */
        json_decref(j);
    }
}

static void test_finish_derives(void) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    const char *t = "\n\n  # Опыт клиента: #NPS и #CSAT  \n"
                    "Второй абзац про #клиентскийОпыт, не #1 и не a#b.\n"
                    "Ссылка https://x.org/#anchor и повтор #nps.";
    CHECK_INT(cxs_post_set(&p.text, t, strlen(t)), CXS_OK);
    CHECK_INT(cxs_post_set(&p.channel, "cxtest", 6), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_OK);
    CHECK_STR(p.title, "Опыт клиента: #NPS и #CSAT");
    CHECK_INT(p.ntags, 3);
    if (p.ntags == 3) {
        CHECK_STR(p.tags[0], "nps");
        CHECK_STR(p.tags[1], "csat");
        CHECK_STR(p.tags[2], "клиентскийопыт");
    }
    CHECK(strncmp(p.text, "# Опыт", 8) == 0); /* trimmed */
    CHECK(p.id && strncmp(p.id, "cxtest/h", 8) == 0 && strlen(p.id) == 8 + 16);
    char *id1 = strdup(p.id);
    cxs_post_release(&p);

    /* Same text, other white space and ASCII case: same id. */
    const char *t2 = "# опыт КЛИЕНТА: #nps и #csat\n"
                     "второй абзац про #клиентскийОпыт,   не #1 и не a#b. "
                     "ссылка https://x.org/#anchor и повтор #NPS.";
    CHECK_INT(cxs_post_set(&p.text, t2, strlen(t2)), CXS_OK);
    CHECK_INT(cxs_post_set(&p.channel, "cxtest", 6), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_OK);
    /* Cyrillic case differs ("Опыт"/"опыт"): only ASCII is folded, so
     * these ids differ; the hash promise is white space + ASCII case. */
    CHECK(strcmp(p.id, id1) != 0);
    cxs_post_release(&p);
    free(id1);

    CHECK(cxs_post_text_hash("Hello  World\n", 13) ==
          cxs_post_text_hash(" hello world", 12));
    CHECK(cxs_post_text_hash("hello world", 11) !=
          cxs_post_text_hash("hello word", 10));

    /* No channel: "h/<hex>". */
    CHECK_INT(cxs_post_set(&p.text, "solo testo", 10), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_OK);
    CHECK(strncmp(p.id, "h/", 2) == 0 && strlen(p.id) == 18);
    CHECK_STR(p.title, "solo testo");
    cxs_post_release(&p);
}

static void test_finish_rejects(void) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    CHECK_INT(cxs_post_finish(&p, &err), CXS_ERR_INVALID);
    CHECK_INT(cxs_post_set(&p.text, " \n\t ", 4), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_ERR_INVALID);
    CHECK_INT(cxs_post_set(&p.text, "ok", 2), CXS_OK);
    CHECK_INT(cxs_post_set(&p.id, "a\nb", 3), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_ERR_INVALID);
    char big[600];
    memset(big, 'x', sizeof big);
    CHECK_INT(cxs_post_set(&p.id, big, sizeof big), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_ERR_INVALID);
    CHECK_INT(cxs_post_set(&p.id, "ok/1", 4), CXS_OK);
    CHECK_INT(cxs_post_set(&p.author, "\xff\xfe", 2), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_ERR_PARSE);
    CHECK(strstr(err.msg, "author") != NULL);
    CHECK_INT(cxs_post_set(&p.author, NULL, 0), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_OK);
    cxs_post_release(&p);
}

static void test_long_title_cut_at_word(void) {
    cxs_post p = CXS_POST_INIT;
    cxs_err err = {0};
    char t[2000] = "";
    for (int i = 0; i < 60; i++)
        strcat(t, "слово ");
    CHECK_INT(cxs_post_set(&p.text, t, strlen(t)), CXS_OK);
    CHECK_INT(cxs_post_finish(&p, &err), CXS_OK);
    size_t n = strlen(p.title);
    CHECK(n > 0 && n <= 120 * 2);
    CHECK(p.title[n - 1] != ' ');
    CHECK(strncmp(p.title + n - 10, "слово", 10) == 0); /* whole word */
    cxs_post_release(&p);
}

static void test_tags_api(void) {
    cxs_post p = CXS_POST_INIT;
    CHECK_INT(cxs_post_add_tag(&p, "#Опрос", strlen("#Опрос")), CXS_OK);
    CHECK_INT(cxs_post_add_tag(&p, "опрос", strlen("опрос")), CXS_OK);
    CHECK_INT(cxs_post_add_tag(&p, "##", 2), CXS_OK);
    CHECK_INT(cxs_post_add_tag(&p, "Qualità", strlen("Qualità")), CXS_OK);
    CHECK_INT(p.ntags, 2);
    CHECK_STR(p.tags[0], "опрос");
    CHECK_STR(p.tags[1], "qualità");
    cxs_post_release(&p);
    cxs_post_release(NULL);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_text_array_and_errors);
    RUN(test_finish_derives);
    RUN(test_finish_rejects);
    RUN(test_long_title_cut_at_word);
    RUN(test_tags_api);
    return cxs_test_done();
}
