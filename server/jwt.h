/*
 * jwt.h - HMAC-SHA256 and the JSON Web Tokens Meilisearch calls tenant
 * tokens (HS256 only), for meili_keys.c.
 *
 * Facts that shaped it:
 *  - HMAC-SHA256 comes from nettle, which cxsearchd already loads
 *    (libmicrohttpd -> GnuTLS -> nettle), so no new library is linked.
 *  - A token is checked in this order: its shape (three base64url parts),
 *    its header (alg must be HS256: "none" and every other algorithm are
 *    refused, so a token cannot choose how it is checked), then the
 *    signature with the key the caller picks from the (not yet trusted)
 *    payload, compared in constant time; only then are its claims
 *    believed. Expiry is the caller's, who knows the claim names.
 *
 * Thread-safety: pure functions.
 */
#ifndef CXS_SERVER_JWT_H
#define CXS_SERVER_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cxs_err.h"

#define CXS_SHA256_LEN 32

/* out = HMAC-SHA256(key, data). */
void cxs_hmac_sha256(const char *key, size_t klen, const char *data,
                     size_t dlen, unsigned char out[CXS_SHA256_LEN]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void cxs_hex(const unsigned char *b, size_t n, char *out);

/* Constant-time equality of a[0..an) and b[0..bn) (time depends on the
 * lengths only). */
bool cxs_ct_equal(const char *a, size_t an, const char *b, size_t bn);

/* True when tok has the shape of a JWT (three non-empty base64url parts). */
bool cxs_jwt_shaped(const char *tok, size_t n);

/* Decodes the unverified payload of a JWT whose header says HS256.
 * CXS_ERR_INVALID with msg when it is not one. *payload: new reference. */
CXS_MUST_CHECK cxs_status cxs_jwt_payload(const char *tok, size_t n,
                                          json_t **payload, char *msg,
                                          size_t cap);

/* True when the token's signature is HMAC-SHA256 of its first two parts
 * with key. */
bool cxs_jwt_signed_by(const char *tok, size_t n, const char *key, size_t klen);

#endif /* CXS_SERVER_JWT_H */
