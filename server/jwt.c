/*
 * jwt.c - HMAC-SHA256 (nettle) and HS256 JSON Web Tokens (see jwt.h).
 * base64url is decoded here (without padding, as JWTs are written):
 * nettle's decoder insists on padding.
 */
#include "jwt.h"

#include <nettle/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PART_MAX 8192

void cxs_hmac_sha256(const char *key, size_t klen, const char *data,
                     size_t dlen, unsigned char out[CXS_SHA256_LEN]) {
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, klen, (const uint8_t *)key);
    hmac_sha256_update(&ctx, dlen, (const uint8_t *)data);
    hmac_sha256_digest(&ctx, CXS_SHA256_LEN, out);
}

void cxs_hex(const unsigned char *b, size_t n, char *out) {
    static const char H[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = H[b[i] >> 4];
        out[2 * i + 1] = H[b[i] & 15];
    }
    out[2 * n] = '\0';
}

bool cxs_ct_equal(const char *a, size_t an, const char *b, size_t bn) {
    unsigned char d = (unsigned char)(an != bn);
    for (size_t i = 0; i < bn; i++)
        d |= (unsigned char)b[i] ^ (unsigned char)(i < an ? a[i] : ~b[i]);
    return d == 0;
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* base64url s[0..n) into out (cap bytes); -1 when malformed or too big. */
static long b64url_decode(const char *s, size_t n, unsigned char *out,
                          size_t cap) {
    unsigned long acc = 0;
    size_t bits = 0, j = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (j == cap)
                return -1;
            out[j++] = (unsigned char)(acc >> bits);
            acc &= (1ul << bits) - 1;
        }
    }
    return (long)j;
}

/* The three parts: [0, d1), (d1, d2), (d2, n). */
static bool split(const char *tok, size_t n, size_t *d1, size_t *d2) {
    const char *a = memchr(tok, '.', n);
    const char *b = a ? memchr(a + 1, '.', n - (size_t)(a + 1 - tok)) : NULL;
    if (!a || !b || memchr(b + 1, '.', n - (size_t)(b + 1 - tok)))
        return 0;
    *d1 = (size_t)(a - tok);
    *d2 = (size_t)(b - tok);
    return *d1 > 0 && *d2 > *d1 + 1 && *d2 + 1 < n;
}

bool cxs_jwt_shaped(const char *tok, size_t n) {
    size_t d1, d2;
    if (!split(tok, n, &d1, &d2))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tok[i] != '.' && b64val((unsigned char)tok[i]) < 0)
            return 0;
    return 1;
}

static json_t *part_json(const char *s, size_t n) {
    unsigned char buf[PART_MAX];
    long len = b64url_decode(s, n, buf, sizeof buf);
    return len < 0 ? NULL : json_loadb((const char *)buf, (size_t)len, 0, NULL);
}

cxs_status cxs_jwt_payload(const char *tok, size_t n, json_t **payload,
                           char *msg, size_t cap) {
    size_t d1, d2;
    *payload = NULL;
    if (!cxs_jwt_shaped(tok, n) || !split(tok, n, &d1, &d2)) {
        snprintf(msg, cap, "the tenant token is not a JSON Web Token");
        return CXS_ERR_INVALID;
    }
    json_t *h = part_json(tok, d1);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    int hs256 = alg && !strcmp(alg, "HS256");
    if (!h)
        snprintf(msg, cap, "the tenant token's header is not valid JSON");
    else if (!hs256)
        snprintf(msg, cap,
                 "the tenant token's algorithm `%.16s` is refused: only "
                 "HS256 is accepted",
                 alg ? alg : "none");
    json_decref(h);
    if (!hs256)
        return CXS_ERR_INVALID;
    *payload = part_json(tok + d1 + 1, d2 - d1 - 1);
    if (!json_is_object(*payload)) {
        json_decref(*payload);
        *payload = NULL;
        snprintf(msg, cap, "the tenant token's payload is not a JSON object");
        return CXS_ERR_INVALID;
    }
    return CXS_OK;
}

bool cxs_jwt_signed_by(const char *tok, size_t n, const char *key,
                       size_t klen) {
    size_t d1, d2;
    unsigned char mac[CXS_SHA256_LEN], sig[CXS_SHA256_LEN + 4];
    if (!split(tok, n, &d1, &d2))
        return 0;
    cxs_hmac_sha256(key, klen, tok, d2, mac);
    long sl = b64url_decode(tok + d2 + 1, n - d2 - 1, sig, sizeof sig);
    if (sl < 0)
        return 0;
    return cxs_ct_equal((const char *)sig, (size_t)sl, (const char *)mac,
                        CXS_SHA256_LEN);
}
