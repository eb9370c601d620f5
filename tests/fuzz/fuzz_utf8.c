/*
 * fuzz_utf8.c - libFuzzer target for common/cxs_utf8.h, the one UTF-8
 * module every layer trusts.
 *
 * The input is copied into a buffer of its exact size, so ASan sees any
 * read past n. Invariants checked (besides ASan/UBSan):
 * - decode at every offset agrees with a slow reference decoder written
 *   differently (bit patterns per length), returns 1..4 bytes, never more
 *   than are left, and U+FFFD with length 1 exactly where the reference
 *   finds no valid sequence; next agrees with decode; a decoded code point
 *   encodes back to the same bytes;
 * - valid_prefix equals the reference's, and valid agrees with it and
 *   with fuzz_utf8_ok (a third, independent check);
 * - repair (append_fixed) yields valid UTF-8, one U+FFFD per bad byte,
 *   and the input unchanged when it was valid;
 * - cut returns at most max bytes (n when n <= max), ends on a character
 *   boundary (only continuation bytes after it up to max), and, in text
 *   valid through s[max], drops at most 3 bytes and keeps it valid;
 * - trim returns a piece of the input with no white space at either end.
 */
#include "cxs_utf8.h"
#include "fuzz_util.h"

/* Length of the valid sequence at s[0..n) by the reference, 0 if none. */
static size_t ref_seq(const unsigned char *s, size_t n, unsigned *cp) {
    static const unsigned lead_mask[] = {0, 0x80, 0xE0, 0xF0, 0xF8};
    static const unsigned lead_bits[] = {0, 0x00, 0xC0, 0xE0, 0xF0};
    static const unsigned lo[] = {0, 0, 0x80, 0x800, 0x10000};
    for (size_t len = 1; len <= 4 && len <= n; len++) {
        if ((s[0] & lead_mask[len]) != lead_bits[len])
            continue;
        unsigned v = s[0] & ~lead_mask[len] & 0xFF;
        size_t i = 1;
        for (; i < len && (s[i] & 0xC0) == 0x80; i++)
            v = v * 64 + (s[i] & 0x3F);
        if (i < len || v < lo[len] || v > 0x10FFFF ||
            (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return len;
    }
    return 0;
}

static size_t ref_valid_prefix(const unsigned char *s, size_t n) {
    size_t i = 0;
    unsigned cp;
    for (size_t k; i < n && (k = ref_seq(s + i, n - i, &cp)) > 0;)
        i += k;
    return i;
}

static void check_decode(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = 0, want = 0;
        size_t len = cxs_utf8_decode(s + i, n - i, &cp);
        size_t rlen = ref_seq(u + i, n - i, &want);
        FUZZ_ASSERT(len >= 1 && len <= 4 && len <= n - i, "decode length");
        if (rlen == 0) {
            FUZZ_ASSERT(len == 1 && cp == 0xFFFD, "invalid not U+FFFD");
        } else {
            FUZZ_ASSERT(len == rlen && cp == want, "decode vs reference");
            char out[4];
            FUZZ_ASSERT(cxs_utf8_encode(cp, out) == len &&
                            memcmp(out, s + i, len) == 0,
                        "encode(decode(x)) != x");
        }
        size_t j = i;
        FUZZ_ASSERT(cxs_utf8_next(s, n, &j) == cp && j == i + len,
                    "next vs decode");
    }
}

static void check_valid(const char *s, size_t n) {
    size_t want = ref_valid_prefix((const unsigned char *)s, n);
    FUZZ_ASSERT(cxs_utf8_valid_prefix(s, n) == want,
                "valid_prefix vs reference");
    FUZZ_ASSERT(cxs_utf8_valid(s, n) == (want == n), "valid vs reference");
    FUZZ_ASSERT(fuzz_utf8_ok(s, n) == (want == n), "valid vs fuzz_utf8_ok");
}

static void check_repair(const char *s, size_t n) {
    cxs_buf b = CXS_BUF_INIT;
    size_t bad = 0, want_bad = 0;
    unsigned cp;
    for (size_t i = 0, k; i < n; i += k ? k : 1) {
        k = ref_seq((const unsigned char *)s + i, n - i, &cp);
        want_bad += k == 0;
    }
    FUZZ_ASSERT(cxs_utf8_append_fixed(&b, s, n, &bad) == CXS_OK,
                "repair failed");
    FUZZ_ASSERT(cxs_buf_status(&b) == CXS_OK && b.data, "repair buffer");
    FUZZ_ASSERT(fuzz_utf8_ok(b.data, b.len), "repair output not UTF-8");
    FUZZ_ASSERT(bad == want_bad, "one U+FFFD per bad byte");
    FUZZ_ASSERT(b.len == n + 2 * bad, "repair length");
    if (bad == 0)
        FUZZ_ASSERT(memcmp(b.data, s, n) == 0, "valid input changed");
    cxs_buf_release(&b);
}

static void check_cut(const char *s, size_t n, size_t max) {
    const unsigned char *u = (const unsigned char *)s;
    size_t k = cxs_utf8_cut(s, n, max);
    if (n <= max) {
        FUZZ_ASSERT(k == n, "cut of a short text");
        return;
    }
    FUZZ_ASSERT(k <= max, "cut past max");
    FUZZ_ASSERT((u[k] & 0xC0) != 0x80 || k == 0, "cut inside a character");
    for (size_t i = k + 1; i <= max; i++)
        FUZZ_ASSERT((u[i] & 0xC0) == 0x80, "cut earlier than needed");
    if (ref_valid_prefix(u, n) > max) { /* valid through s[max] */
        FUZZ_ASSERT(max - k <= 3, "cut more than a character");
        FUZZ_ASSERT(cxs_utf8_valid(s, k), "cut of valid text not valid");
    }
}

static bool is_space_at(const char *s, size_t n) {
    size_t k;
    return cxs_utf8_space_at(s, n, &k) ||
           (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
}

static void check_trim(const char *s, size_t n) {
    size_t m = n;
    const char *t = cxs_utf8_trim(s, &m);
    FUZZ_ASSERT(t >= s && t + m <= s + n, "trim outside the input");
    FUZZ_ASSERT(m == 0 || !is_space_at(t, m), "space left at the start");
    static const size_t widths[] = {1, 2, 3};
    for (size_t w = 0; w < 3 && m > 0; w++) {
        size_t k = widths[w], got;
        if (m < k)
            continue;
        bool sp = k == 3 ? memcmp(t + m - 3, "\xEF\xBB\xBF", 3) == 0
                         : cxs_utf8_space_at(t + m - k, k, &got) && got == k;
        FUZZ_ASSERT(!sp, "space left at the end");
    }
    FUZZ_ASSERT(cxs_utf8_blank(s, n) == (m == 0), "blank vs trim");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size ? size : 1); /* exact size: ASan sees over-reads */
    FUZZ_ASSERT(s, "out of memory");
    if (size)
        memcpy(s, data, size);
    check_decode(s, size);
    check_valid(s, size);
    check_repair(s, size);
    for (size_t max = 0; max <= size && max < 64; max++)
        check_cut(s, size, max);
    if (size > 0) {
        check_cut(s, size, size / 2);
        check_cut(s, size, size - 1);
    }
    check_trim(s, size);
    free(s);
    return 0;
}
