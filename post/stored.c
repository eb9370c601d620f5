/*
 * stored.c - see stored.h.
 *
 * Record layout (format 1), after the marker byte:
 *   id, channel, author, date, lang, url, title, text, source file:
 *       each a varint n (0: absent, else n - 1 bytes follow);
 *   source line: a varint;
 *   tags: a varint count, then each a varint length and its bytes;
 *   extra fields: like a string above, holding a JSON object.
 * Varints are LEB128 (7 bits per byte, low first), as in Xapian's own
 * encodings.
 */
#include "stored.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ------------------------------------------------------------ encoding */

static cxs_status put_varint(cxs_buf *out, unsigned long long v) {
    return cxs_buf_append_varint(out, v);
}

static cxs_status put_bytes(cxs_buf *out, const char *s, size_t n) {
    cxs_status rc = put_varint(out, n);
    return rc == CXS_OK ? cxs_buf_append(out, s, n) : rc;
}

/* A string that may be absent (NULL). */
static cxs_status put_opt(cxs_buf *out, const char *s) {
    if (!s)
        return put_varint(out, 0);
    size_t n = strlen(s);
    cxs_status rc = put_varint(out, (unsigned long long)n + 1);
    return rc == CXS_OK ? cxs_buf_append(out, s, n) : rc;
}

static cxs_status put_extra(cxs_buf *out, const json_t *extra) {
    if (!json_is_object(extra) || json_object_size(extra) == 0)
        return put_varint(out, 0);
    char *s = json_dumps(extra, JSON_COMPACT);
    if (!s)
        return CXS_ERR_NOMEM;
    cxs_status rc = put_opt(out, s);
    free(s);
    return rc;
}

cxs_status cxs_stored_encode(const cxs_post *p, cxs_buf *out) {
    const char *const str[] = {p->id,    p->channel, p->author,
                               p->date,  p->lang,    p->url,
                               p->title, p->text,    p->source_file};
    cxs_status rc = cxs_buf_appendc(out, CXS_STORED_MARK);
    for (size_t i = 0; i < sizeof str / sizeof *str && rc == CXS_OK; i++)
        rc = put_opt(out, str[i]);
    if (rc == CXS_OK)
        rc = put_varint(
            out, p->source_line > 0 ? (unsigned long long)p->source_line : 0);
    if (rc == CXS_OK)
        rc = put_varint(out, p->ntags);
    for (size_t i = 0; i < p->ntags && rc == CXS_OK; i++)
        rc = put_bytes(out, p->tags[i], strlen(p->tags[i]));
    if (rc == CXS_OK)
        rc = put_extra(out, p->extra);
    return rc;
}

/* ------------------------------------------------------------ decoding */

typedef struct reader {
    const unsigned char *p, *end;
    int bad; /* ran past the end or met an impossible value */
} reader;

static unsigned long long get_varint(reader *r) {
    unsigned long long v;
    if (!cxs_varint_get(&r->p, r->end, &v))
        r->bad = 1;
    return v;
}

/* n bytes as a new NUL-terminated string into *field. */
static cxs_status take(reader *r, size_t n, char **field) {
    if (r->bad || n > (size_t)(r->end - r->p)) {
        r->bad = 1;
        return CXS_OK; /* reported once, by the caller */
    }
    cxs_status rc = cxs_post_set(field, (const char *)r->p, n);
    r->p += n;
    return rc;
}

static cxs_status get_opt(reader *r, char **field) {
    unsigned long long n = get_varint(r);
    return n ? take(r, (size_t)(n - 1), field) : CXS_OK;
}

static cxs_status get_tags(reader *r, cxs_post *p) {
    unsigned long long n = get_varint(r);
    /* Each tag takes at least a byte: a larger count is corrupt. */
    if (r->bad || n > (unsigned long long)(r->end - r->p)) {
        r->bad = 1;
        return CXS_OK;
    }
    if (n && !(p->tags = calloc((size_t)n, sizeof *p->tags)))
        return CXS_ERR_NOMEM;
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < n && rc == CXS_OK && !r->bad; i++) {
        rc = take(r, (size_t)get_varint(r), &p->tags[i]);
        p->ntags += p->tags[i] != NULL;
    }
    return rc;
}

static cxs_status get_extra(reader *r, cxs_post *p) {
    char *s = NULL;
    cxs_status rc = get_opt(r, &s);
    if (rc == CXS_OK && s && !r->bad) {
        p->extra = json_loads(s, 0, NULL);
        r->bad = !json_is_object(p->extra);
    }
    free(s);
    return rc;
}

static cxs_status decode_record(const char *data, size_t len, cxs_post *p,
                                cxs_err *err) {
    reader r = {(const unsigned char *)data + 1,
                (const unsigned char *)data + len, 0};
    char **const str[] = {&p->id,    &p->channel, &p->author,
                          &p->date,  &p->lang,    &p->url,
                          &p->title, &p->text,    &p->source_file};
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < sizeof str / sizeof *str && rc == CXS_OK; i++)
        rc = get_opt(&r, str[i]);
    unsigned long long line = rc == CXS_OK ? get_varint(&r) : 0;
    p->source_line = line <= 0x7fffffff ? (long)line : 0;
    if (rc == CXS_OK)
        rc = get_tags(&r, p);
    if (rc == CXS_OK)
        rc = get_extra(&r, p);
    if (rc != CXS_OK)
        return cxs_err_set(err, rc, "out of memory decoding a stored post");
    if (r.bad || r.p != r.end || !p->text)
        return cxs_err_set(err, CXS_ERR_INDEX, "stored post is corrupt");
    return CXS_OK;
}

static cxs_status decode_json(const char *data, size_t len, cxs_post *p,
                              cxs_err *err) {
    json_error_t jerr;
    json_t *obj = json_loadb(data, len, 0, &jerr);
    if (!obj)
        return cxs_err_set(err, CXS_ERR_INDEX, "stored post is not JSON: %s",
                           jerr.text);
    cxs_status rc = cxs_post_from_json(obj, p, err);
    json_decref(obj);
    return rc;
}

cxs_status cxs_stored_decode(const char *data, size_t len, cxs_post *p,
                             cxs_err *err) {
    cxs_status rc = len && (unsigned char)data[0] == CXS_STORED_MARK
                        ? decode_record(data, len, p, err)
                        : decode_json(data, len, p, err);
    if (rc != CXS_OK)
        cxs_post_release(p);
    return rc;
}
