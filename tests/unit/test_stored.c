/*
 * test_stored.c - the stored form of a post (post/stored.h): every field
 * survives a round trip, old JSON data still decodes, and corrupt or
 * truncated records are refused with an error, never read past their end.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_test.h"
#include "stored.h"

static void full_post(cxs_post *p) {
    json_error_t e;
    json_t *j = json_loads(
        "{\"id\":\"lab/12\",\"channel\":\"lab\",\"author\":\"Мария\","
        "\"date\":\"2024-05-02T09:30:00Z\",\"lang\":\"ru\","
        "\"url\":\"https://example.org/lab/12\",\"title\":\"Опрос NPS\","
        "\"text\":\"Опрос NPS в мае\\nВторая строка\",\"tags\":[\"nps\","
        "\"опрос\"],\"source\":{\"file\":\"lab.jsonl\",\"line\":41},"
        "\"views\":300,\"links\":[\"a\",\"b\"]}",
        0, &e);
    cxs_err err = {0};
    CHECK(j != NULL);
    CHECK_INT(cxs_post_from_json(j, p, &err), CXS_OK);
    json_decref(j);
}

static void same_json(const cxs_post *a, const cxs_post *b) {
    json_t *ja = cxs_post_to_json(a), *jb = cxs_post_to_json(b);
    CHECK(ja && jb && json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
}

static void test_round_trip(void) {
    cxs_post p = CXS_POST_INIT, q = CXS_POST_INIT;
    cxs_buf b = CXS_BUF_INIT;
    cxs_err err = {0};
    full_post(&p);
    CHECK_INT(cxs_stored_encode(&p, &b), CXS_OK);
    CHECK_INT((unsigned char)b.data[0], CXS_STORED_MARK);
    CHECK_INT(cxs_stored_decode(b.data, b.len, &q, &err), CXS_OK);
    CHECK_STR(q.author, "Мария");
    CHECK_STR(q.text, "Опрос NPS в мае\nВторая строка");
    CHECK_INT(q.ntags, 2);
    CHECK_STR(q.tags[1], "опрос");
    CHECK_STR(q.source_file, "lab.jsonl");
    CHECK_INT(q.source_line, 41);
    CHECK_INT(json_integer_value(json_object_get(q.extra, "views")), 300);
    same_json(&p, &q);
    cxs_post_release(&q);

    /* Absent fields stay absent; empty strings stay empty. */
    cxs_post m = CXS_POST_INIT;
    m.text = strdup("только текст");
    m.url = strdup("");
    cxs_buf_reset(&b);
    CHECK_INT(cxs_stored_encode(&m, &b), CXS_OK);
    CHECK_INT(cxs_stored_decode(b.data, b.len, &q, &err), CXS_OK);
    CHECK(q.id == NULL && q.title == NULL && q.extra == NULL);
    CHECK_STR(q.url, "");
    CHECK_INT(q.ntags, 0);
    cxs_post_release(&q);
    cxs_post_release(&m);
    cxs_post_release(&p);
    cxs_buf_release(&b);
}

/* Indexes written before the record format hold JSON. */
static void test_json_data(void) {
    const char *old = "{\"id\":\"a/1\",\"text\":\"старый формат\","
                      "\"tags\":[\"cx\"]}";
    cxs_post q = CXS_POST_INIT;
    cxs_err err = {0};
    CHECK_INT(cxs_stored_decode(old, strlen(old), &q, &err), CXS_OK);
    CHECK_STR(q.id, "a/1");
    CHECK_STR(q.text, "старый формат");
    CHECK_INT(q.ntags, 1);
    cxs_post_release(&q);
    CHECK_INT(cxs_stored_decode("{\"id\":", 6, &q, &err), CXS_ERR_INDEX);
}

/* Every prefix of a record is refused, as is any record with a byte
 * changed into a huge length; each in a buffer of its exact size, so
 * ASan catches a read past the end. */
static void test_corrupt(void) {
    cxs_post p = CXS_POST_INIT, q = CXS_POST_INIT;
    cxs_buf b = CXS_BUF_INIT;
    cxs_err err = {0};
    full_post(&p);
    CHECK_INT(cxs_stored_encode(&p, &b), CXS_OK);
    int refused = 1;
    for (size_t n = 1; n < b.len; n++) {
        char *cut = malloc(n);
        memcpy(cut, b.data, n);
        refused &= cxs_stored_decode(cut, n, &q, &err) == CXS_ERR_INDEX;
        refused &= q.text == NULL && q.id == NULL; /* released */
        free(cut);
    }
    CHECK(refused);
    int survived = 1;
    for (size_t i = 1; i < b.len; i++) {
        char *bad = malloc(b.len);
        memcpy(bad, b.data, b.len);
        bad[i] = (char)0xff;
        cxs_status rc = cxs_stored_decode(bad, b.len, &q, &err);
        survived &= rc == CXS_OK || rc == CXS_ERR_INDEX;
        cxs_post_release(&q);
        free(bad);
    }
    CHECK(survived);
    cxs_post_release(&p);
    cxs_buf_release(&b);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_json_data);
    RUN(test_corrupt);
    return cxs_test_done();
}
