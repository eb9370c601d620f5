/*
 * test_meili.c - unit tests of the Meilisearch drop-in's pure parts
 * (server/): documents as posts and back, the bodies they come in (JSON,
 * NDJSON, CSV), HMAC-SHA256 and HS256 tokens. The HTTP side is tested
 * end to end by tests/e2e/test_meili_client.py.
 */
#include <string.h>

#include "cxs_test.h"
#include "jwt.h"
#include "meili_docs.h"

/* A document through a post and back, compared with what was sent. */
static int round_trips(const char *doc_json, const char *pk) {
    json_t *doc = json_loads(doc_json, 0, NULL);
    cxs_post p;
    cxs_meili_error e = {0};
    int same = 0;
    if (cxs_meili_doc_to_post(doc, pk, 0, &p, &e) == CXS_OK) {
        json_t *back = cxs_meili_post_to_doc(&p);
        same = json_equal(back, doc);
        if (!same) {
            char *s = json_dumps(back, JSON_COMPACT);
            fprintf(stderr, "  came back as %s\n", s);
            free(s);
        }
        json_decref(back);
        cxs_post_release(&p);
    } else {
        fprintf(stderr, "  refused: %s %s\n", e.code, e.msg);
    }
    json_decref(doc);
    return same;
}

static void test_round_trip(void) {
    CHECK(round_trips("{\"id\": 7, \"content\": \"Заметка о клиентском опыте\","
                      " \"rating\": 4.5, \"meta\": {\"a\": [1, 2]}}",
                      "id"));
    CHECK(round_trips("{\"sku\": \"a-1\", \"title\": \"T\", \"text\": \"x y\","
                      " \"id\": {\"legacy\": true}}",
                      "sku"));
    CHECK(
        round_trips("{\"id\": \"n1\", \"body\": \"testo\", \"tags\": [\"NPS\","
                    " \"#Csat\"], \"date\": 1714640000, \"lang\": 3}",
                    "id"));
    CHECK(round_trips("{\"id\": 1, \"name\": \"only a name\", \"price\": 3}",
                      "id"));
    CHECK(round_trips("{\"id\": 2, \"price\": 3}", "id"));
    CHECK(round_trips("{\"id\": 3, \"text\": null, \"content\": \"c\","
                      " \"source\": \"crm\", \"_meili\": 1}",
                      "id"));
}

static void test_mapping(void) {
    json_t *doc = json_loads("{\"id\": 5, \"content\": \"Опрос клиентов\","
                             " \"channel\": \"team_a\", \"tags\": [\"NPS\"]}",
                             0, NULL);
    cxs_post p;
    cxs_meili_error e = {0};
    CHECK(cxs_meili_doc_to_post(doc, "id", 0, &p, &e) == CXS_OK);
    CHECK_STR(p.id, "5");
    CHECK_STR(p.text, "Опрос клиентов");
    CHECK_STR(p.channel, "team_a");
    CHECK(p.ntags == 1 && !strcmp(p.tags[0], "nps"));
    CHECK_STR(cxs_meili_post_pk(&p), "id");
    cxs_post_release(&p);
    json_decref(doc);
}

static const char *refusal(const char *doc_json, const char *pk) {
    static cxs_meili_error e;
    json_t *doc = json_loads(doc_json, JSON_DECODE_ANY, NULL);
    cxs_post p;
    memset(&e, 0, sizeof e);
    if (cxs_meili_doc_to_post(doc, pk, 0, &p, &e) == CXS_OK)
        cxs_post_release(&p);
    json_decref(doc);
    return e.code;
}

static void test_refusals(void) {
    CHECK_STR(refusal("{\"content\": \"x\"}", "id"), "missing_document_id");
    CHECK_STR(refusal("{\"id\": 1.5, \"content\": \"x\"}", "id"),
              "invalid_document_id");
    CHECK_STR(refusal("{\"id\": \"a/b\", \"content\": \"x\"}", "id"),
              "invalid_document_id");
    CHECK_STR(refusal("{\"id\": \"a b\", \"content\": \"x\"}", "id"),
              "invalid_document_id");
    CHECK_STR(refusal("{\"id\": 1, \"text\": {\"a\": 1}}", "id"),
              "invalid_document_fields");
    CHECK_STR(refusal("[1]", "id"), "invalid_document_fields");
    char pk[CXS_MEILI_PK_MAX];
    cxs_meili_error e = {0};
    json_t *d = json_loads("{\"userId\": 1, \"docId\": 2}", 0, NULL);
    CHECK(cxs_meili_pk_infer(d, NULL, pk, &e) != CXS_OK);
    CHECK_STR(e.code, "index_primary_key_multiple_candidates_found");
    json_decref(d);
    d = json_loads("{\"docId\": 2, \"x\": 1}", 0, NULL);
    CHECK(cxs_meili_pk_infer(d, NULL, pk, &e) == CXS_OK);
    CHECK_STR(pk, "docId");
    json_decref(d);
}

static json_t *body(const char *ctype, const char *s, const char **code) {
    static cxs_meili_error e;
    json_t *out = NULL;
    memset(&e, 0, sizeof e);
    if (cxs_meili_body_docs(ctype, s, strlen(s), ',', &out, &e) != CXS_OK)
        out = NULL;
    *code = e.code;
    return out;
}

static void test_bodies(void) {
    const char *code;
    json_t *a = body("text/csv",
                     "id,title,price:number,ok:boolean\r\n"
                     "1,\"a, \"\"quoted\"\"\nline\",2.5,true\r\n"
                     "\r\n"
                     "2,,7,false",
                     &code);
    json_t *want = json_loads(
        "[{\"id\": \"1\", \"title\": \"a, \\\"quoted\\\"\\nline\", "
        "\"price\": 2.5, \"ok\": true}, {\"id\": \"2\", \"title\": null, "
        "\"price\": 7, \"ok\": false}]",
        0, NULL);
    CHECK_MSG(json_equal(a, want), "%s", code);
    json_decref(a);
    json_decref(want);
    CHECK(!body("text/csv", "id,title\n1,\"broken\n", &code));
    CHECK_STR(code, "malformed_payload");
    CHECK(!body("text/csv", "id,title\n1,\"a\"b\n", &code));
    CHECK(!body("text/csv", "id,title\n1\n", &code));
    CHECK(!body("text/csv", "id,n:number\n1,abc\n", &code));
    a = body("application/x-ndjson", "{\"id\": 1}\n\n{\"id\": 2}", &code);
    CHECK(json_array_size(a) == 2);
    json_decref(a);
    CHECK(!body("application/x-ndjson", "{\"id\": 1}\n[2]\n", &code));
    a = body("application/json", "{\"id\": 1}", &code);
    CHECK(json_array_size(a) == 1);
    json_decref(a);
    CHECK(!body("application/json", "\"text\"", &code));
}

static void test_hmac(void) {
    /* RFC 4231, test case 2. */
    unsigned char mac[CXS_SHA256_LEN];
    char hex[2 * CXS_SHA256_LEN + 1];
    const char *data = "what do ya want for nothing?";
    cxs_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    cxs_hex(mac, sizeof mac, hex);
    CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
                   "64ec3843");
    CHECK(cxs_ct_equal("abc", 3, "abc", 3));
    CHECK(!cxs_ct_equal("abd", 3, "abc", 3));
    CHECK(!cxs_ct_equal("ab", 2, "abc", 3));
    CHECK(!cxs_ct_equal("abcd", 4, "abc", 3));
}

static void test_tokens(void) {
    /* {"alg":"HS256","typ":"JWT"} . {"apiKeyUid":"u","searchRules":["*"]} */
    const char *head = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    const char *pay = "eyJhcGlLZXlVaWQiOiJ1Iiwic2VhcmNoUnVsZXMiOlsiKiJdfQ";
    char tok[512], signing[256];
    unsigned char mac[CXS_SHA256_LEN];
    snprintf(signing, sizeof signing, "%s.%s", head, pay);
    cxs_hmac_sha256("k3y", 3, signing, strlen(signing), mac);
    /* base64url of the MAC, by hand (no padding). */
    static const char B[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char sig[64];
    size_t j = 0;
    for (size_t i = 0; i < CXS_SHA256_LEN; i += 3) {
        unsigned v = (unsigned)mac[i] << 16 |
                     (i + 1 < CXS_SHA256_LEN ? (unsigned)mac[i + 1] << 8 : 0) |
                     (i + 2 < CXS_SHA256_LEN ? mac[i + 2] : 0);
        size_t n = i + 2 < CXS_SHA256_LEN ? 4 : i + 1 < CXS_SHA256_LEN ? 3 : 2;
        for (size_t k = 0; k < n; k++)
            sig[j++] = B[(v >> (18 - 6 * k)) & 63];
    }
    sig[j] = '\0';
    snprintf(tok, sizeof tok, "%s.%s", signing, sig);
    char msg[256];
    json_t *p = NULL;
    CHECK(cxs_jwt_shaped(tok, strlen(tok)));
    CHECK(cxs_jwt_payload(tok, strlen(tok), &p, msg, sizeof msg) == CXS_OK);
    CHECK_STR(json_string_value(json_object_get(p, "apiKeyUid")), "u");
    json_decref(p);
    CHECK(cxs_jwt_signed_by(tok, strlen(tok), "k3y", 3));
    CHECK(!cxs_jwt_signed_by(tok, strlen(tok), "k3z", 3));
    tok[strlen(tok) - 2] ^= 1; /* one bit of the signature */
    CHECK(!cxs_jwt_signed_by(tok, strlen(tok), "k3y", 3));
    /* {"alg":"none"} */
    snprintf(tok, sizeof tok, "eyJhbGciOiJub25lIn0.%s.", pay);
    CHECK(!cxs_jwt_shaped(tok, strlen(tok)));
    snprintf(tok, sizeof tok, "eyJhbGciOiJub25lIn0.%s.%s", pay, sig);
    CHECK(cxs_jwt_payload(tok, strlen(tok), &p, msg, sizeof msg) != CXS_OK);
    CHECK(strstr(msg, "none") != NULL);
    CHECK(!cxs_jwt_shaped("a.b", 3));
    CHECK(!cxs_jwt_shaped("a.b.c.d", 7));
    CHECK(!cxs_jwt_shaped("a.b!.c", 6));
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_mapping);
    RUN(test_refusals);
    RUN(test_bodies);
    RUN(test_hmac);
    RUN(test_tokens);
    return cxs_test_done();
}
