/*
 * test_common.c - the low-level pieces of common/: UTF-8 (decode and its
 * refusals, encode, validate, repair, cut, trim), array growth with its
 * overflow check, and the sticky errors of cxs_buf.
 *
 * The UTF-8 cases are the ones RFC 3629 names as traps (overlong forms,
 * surrogates, code points past U+10FFFF, truncated sequences), since
 * every layer trusts this one decoder to refuse them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_grow.h"
#include "cxs_test.h"
#include "cxs_utf8.h"

/* ---------------------------------------------------------------- UTF-8 */

/* Decodes s (n bytes) and checks the length and code point. */
static void decodes(const char *s, size_t n, size_t len, unsigned cp) {
    unsigned got = 0;
    size_t k = cxs_utf8_decode(s, n, &got);
    CHECK_MSG(k == len && got == cp, "\"%s\": got %zu U+%04X, want %zu U+%04X",
              s, k, got, len, cp);
}

static void test_decode_valid(void) {
    decodes("a", 1, 1, 'a');
    decodes("\x7F", 1, 1, 0x7F);
    decodes("\xC2\x80", 2, 2, 0x80); /* the smallest two-byte */
    decodes("ж", 2, 2, 0x436);
    decodes("\xDF\xBF", 2, 2, 0x7FF);
    decodes("\xE0\xA0\x80", 3, 3, 0x800); /* the smallest three-byte */
    decodes("€", 3, 3, 0x20AC);
    decodes("\xED\x9F\xBF", 3, 3, 0xD7FF); /* just below the surrogates */
    decodes("\xEE\x80\x80", 3, 3, 0xE000); /* just above them */
    decodes("\xEF\xBF\xBD", 3, 3, 0xFFFD); /* a real U+FFFD is valid */
    decodes("\xF0\x90\x80\x80", 4, 4, 0x10000);
    decodes("😀", 4, 4, 0x1F600);
    decodes("\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF);
    decodes("жx", 3, 2, 0x436); /* stops after the character */
    char nul = '\0';
    decodes(&nul, 1, 1, 0);
}

static void test_decode_invalid(void) {
    decodes("\x80", 1, 1, 0xFFFD); /* lone continuation */
    decodes("\xBF\x80", 2, 1, 0xFFFD);
    decodes("\xC0\xAF", 2, 1, 0xFFFD);         /* overlong '/' */
    decodes("\xC1\xBF", 2, 1, 0xFFFD);         /* overlong */
    decodes("\xE0\x80\xAF", 3, 1, 0xFFFD);     /* overlong '/' */
    decodes("\xE0\x9F\xBF", 3, 1, 0xFFFD);     /* overlong U+07FF */
    decodes("\xF0\x80\x80\xAF", 4, 1, 0xFFFD); /* overlong '/' */
    decodes("\xF0\x8F\xBF\xBF", 4, 1, 0xFFFD); /* overlong U+FFFF */
    decodes("\xED\xA0\x80", 3, 1, 0xFFFD);     /* U+D800 */
    decodes("\xED\xBF\xBF", 3, 1, 0xFFFD);     /* U+DFFF */
    decodes("\xF4\x90\x80\x80", 4, 1, 0xFFFD); /* U+110000 */
    decodes("\xF5\x80\x80\x80", 4, 1, 0xFFFD);
    decodes("\xFE", 1, 1, 0xFFFD);
    decodes("\xFF", 1, 1, 0xFFFD);
    decodes("\xC3(", 2, 1, 0xFFFD); /* bad continuation */
    decodes("\xE2\x82(", 3, 1, 0xFFFD);
    /* Truncated: the bytes after n are not looked at, even if they would
     * complete the sequence. */
    decodes("\xD0\xB6", 1, 1, 0xFFFD);
    decodes("\xE2\x82\xAC", 2, 1, 0xFFFD);
    decodes("\xF0\x9F\x98\x80", 3, 1, 0xFFFD);
}

static void test_next_and_encode(void) {
    const char *s = "aж€😀\xFF";
    size_t n = strlen(s), i = 0;
    unsigned want[] = {'a', 0x436, 0x20AC, 0x1F600, 0xFFFD};
    for (size_t k = 0; k < 5; k++)
        CHECK_INT(cxs_utf8_next(s, n, &i), want[k]);
    CHECK_INT(i, n);
    unsigned cps[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    for (size_t k = 0; k < sizeof cps / sizeof *cps; k++) {
        char out[4];
        unsigned back = 1;
        size_t len = cxs_utf8_encode(cps[k], out);
        CHECK_INT(cxs_utf8_decode(out, len, &back), len);
        CHECK_INT(back, cps[k]);
    }
}

static void test_put_bounded(void) {
    char out[8];
    size_t len = 0;
    CHECK(cxs_utf8_put(out, &len, 5, 0x436));  /* ж: 2 bytes */
    CHECK(cxs_utf8_put(out, &len, 5, 0x20AC)); /* €: 3 bytes, 5 in all */
    CHECK(!cxs_utf8_put(out, &len, 5, 'a'));   /* no room: untouched */
    CHECK_INT(len, 5);
    CHECK(memcmp(out, "ж€", 5) == 0);
}

static void test_valid_prefix(void) {
    CHECK_INT(cxs_utf8_valid_prefix("", 0), 0);
    CHECK_INT(cxs_utf8_valid_prefix("привет", 12), 12);
    CHECK_INT(cxs_utf8_valid_prefix("при\xD0", 7), 6); /* truncated end */
    CHECK_INT(cxs_utf8_valid_prefix("ab\xC0\xAF", 4), 2);
    CHECK_INT(cxs_utf8_valid_prefix("ab\xED\xA0\x80", 5), 2);
    CHECK(cxs_utf8_valid("perché", strlen("perché")));
    CHECK(!cxs_utf8_valid("perch\xE9", 6)); /* Latin-1 é */
}

static void test_repair(void) {
    cxs_buf b = CXS_BUF_INIT;
    size_t bad = 0;
    /* One U+FFFD per bad byte; the good bytes around them kept. */
    CHECK_INT(cxs_utf8_append_fixed(&b, "a\xFF\xC0\xAFж\xE2\x82", 8, &bad),
              CXS_OK);
    CHECK_STR(b.data, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDж"
                      "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_INT(bad, 5);
    CHECK(cxs_utf8_valid(b.data, b.len));
    cxs_buf_reset(&b);
    bad = 0;
    CHECK_INT(cxs_utf8_append_fixed(&b, "", 0, &bad), CXS_OK);
    CHECK(b.data && b.len == 0 && bad == 0); /* a string, even empty */
    cxs_buf_release(&b);
}

static void test_cut(void) {
    const char *s = "aж€😀b"; /* 1 + 2 + 3 + 4 + 1 bytes */
    size_t n = strlen(s);
    size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11};
    for (size_t max = 0; max <= n; max++) {
        size_t k = cxs_utf8_cut(s, n, max);
        CHECK_MSG(k == want[max], "max %zu: got %zu", max, k);
        CHECK(cxs_utf8_valid(s, k));
    }
    CHECK_INT(cxs_utf8_cut(s, n, 100), n);
    /* Only continuation bytes: nothing can be kept. */
    CHECK_INT(cxs_utf8_cut("\x80\x80\x80", 3, 2), 0);
}

static void test_trim(void) {
    const char *s = " \t\xC2\xA0\xEF\xBB\xBFтекст \xC2\xA0\n";
    size_t n = strlen(s);
    const char *t = cxs_utf8_trim(s, &n);
    CHECK_INT(n, strlen("текст"));
    CHECK(strncmp(t, "текст", n) == 0);
    n = 4;
    cxs_utf8_trim(" \n\r\t", &n);
    CHECK_INT(n, 0);
    CHECK(cxs_utf8_blank("\xC2\xA0 \xEF\xBB\xBF", 6));
    CHECK(!cxs_utf8_blank(" x ", 3));
    /* U+2000 (en quad) is not one of the spaces trimmed: kept. */
    n = 3;
    CHECK(cxs_utf8_trim("\xE2\x80\x80", &n) && n == 3);
}

/* ----------------------------------------------------------------- grow */

static void test_grow(void) {
    int *v = NULL;
    size_t cap = 0;
    CHECK_INT(CXS_GROW(v, cap, 1), CXS_OK);
    CHECK_INT(cap, CXS_GROW_MIN);
    for (int i = 0; i < 1000; i++) {
        CHECK_INT(CXS_GROW(v, cap, (size_t)i + 1), CXS_OK);
        v[i] = i;
    }
    CHECK(cap >= 1000 && cap < 2000); /* doubled, not grown by one */
    int sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += v[i] == i;
    CHECK_INT(sum, 1000); /* the content survives the moves */
    size_t before = cap;
    CHECK_INT(CXS_GROW(v, cap, 10), CXS_OK); /* room already: nothing */
    CHECK_INT(cap, before);
    free(v);
}

static void test_grow_overflow(void) {
    /* need * elem_size past SIZE_MAX is refused before realloc, and the
     * array is left as it was. */
    uint64_t *v = NULL;
    size_t cap = 0;
    CHECK_INT(CXS_GROW(v, cap, 4), CXS_OK);
    v[3] = 42;
    size_t before = cap;
    CHECK_INT(CXS_GROW(v, cap, SIZE_MAX / 8 + 1), CXS_ERR_TOO_LARGE);
    CHECK_INT(CXS_GROW(v, cap, SIZE_MAX), CXS_ERR_TOO_LARGE);
    CHECK_INT(cap, before);
    CHECK_INT(v[3], 42);
    /* (realloc's own refusal, CXS_ERR_NOMEM, is not provoked here: ASan
     * aborts on an allocation that large instead of returning NULL.) */
    free(v);
}

/* ------------------------------------------------------------------ buf */

static void test_buf_sticky(void) {
    cxs_buf b;
    cxs_buf_init(&b, 8);
    CHECK_INT(cxs_buf_appends(&b, "abcd"), CXS_OK);
    CHECK_INT(cxs_buf_status(&b), CXS_OK);
    CHECK_INT(cxs_buf_appends(&b, "efghij"), CXS_ERR_TOO_LARGE); /* 10 > 8 */
    /* A later, shorter append that would fit fails too, so nothing is
     * left out of the middle. */
    CHECK_INT(cxs_buf_appends(&b, "xy"), CXS_ERR_TOO_LARGE);
    CHECK_INT(cxs_buf_appendc(&b, 'z'), CXS_ERR_TOO_LARGE);
    CHECK_INT(cxs_buf_appendf(&b, "%d", 1), CXS_ERR_TOO_LARGE);
    CHECK_INT(cxs_buf_append_html(&b, "<", 1), CXS_ERR_TOO_LARGE);
    CHECK_INT(cxs_utf8_append_cp(&b, 'q'), CXS_ERR_TOO_LARGE);
    CHECK_INT(cxs_buf_status(&b), CXS_ERR_TOO_LARGE);
    CHECK_STR(b.data, "abcd"); /* what came before the failure */
    CHECK_INT(b.len, 4);
    /* Reset clears the error; max stays. */
    cxs_buf_reset(&b);
    CHECK_INT(cxs_buf_status(&b), CXS_OK);
    CHECK_INT(cxs_buf_appends(&b, "12345678"), CXS_OK);
    CHECK_INT(cxs_buf_appendc(&b, '9'), CXS_ERR_TOO_LARGE);
    /* A failed buffer is not handed out as if whole. */
    CHECK(cxs_buf_detach(&b) == NULL);
    CHECK_INT(cxs_buf_status(&b), CXS_OK);
    CHECK(b.data == NULL && b.len == 0);
    CHECK_INT(cxs_buf_appends(&b, "ok"), CXS_OK);
    char *s = cxs_buf_detach(&b);
    CHECK_STR(s, "ok");
    free(s);
    /* Release clears it too. */
    CHECK_INT(cxs_buf_appends(&b, "123456789"), CXS_ERR_TOO_LARGE);
    cxs_buf_release(&b);
    CHECK_INT(cxs_buf_status(&b), CXS_OK);
    CHECK_INT(cxs_buf_appends(&b, "again"), CXS_OK);
    cxs_buf_release(&b);
}

static void test_buf_basics(void) {
    cxs_buf b = CXS_BUF_INIT;
    CHECK_INT(cxs_buf_status(&b), CXS_OK);
    char *empty = cxs_buf_detach(&b);
    CHECK_STR(empty, ""); /* an empty buffer detaches as "" */
    free(empty);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(cxs_buf_appendf(&b, "%03d", i % 1000), CXS_OK);
    CHECK_INT(b.len, 3000);
    CHECK(strncmp(b.data + 2997, "999", 3) == 0 && b.data[3000] == '\0');
    cxs_buf_reset(&b);
    CHECK_INT(cxs_buf_append_html(&b, "<a href='x'>&\"", 14), CXS_OK);
    CHECK_STR(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
    cxs_buf_release(&b);
}

int main(void) {
    RUN(test_decode_valid);
    RUN(test_decode_invalid);
    RUN(test_next_and_encode);
    RUN(test_put_bounded);
    RUN(test_valid_prefix);
    RUN(test_repair);
    RUN(test_cut);
    RUN(test_trim);
    RUN(test_grow);
    RUN(test_grow_overflow);
    RUN(test_buf_sticky);
    RUN(test_buf_basics);
    return cxs_test_done();
}
