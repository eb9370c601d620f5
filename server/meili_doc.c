/*
 * meili_doc.c - a Meilisearch document as a post and back (see
 * meili_docs.h for the mapping and why the `_meili` marker exists).
 *
 * The marker is an object in the post's extras:
 *   "pk":   the primary key's name, when it is not "id"
 *   "int":  true when the primary key was a JSON integer
 *   "text": the field the text came from ("content", "body"), or false
 *           when the text was made up from the string values
 *   "drop": fields the post derived and the document did not have
 *   "raw":  fields the post holds differently (or not at all), as sent
 * A post without the marker (written by cxsearch's own API or importer)
 * is returned as it is stored, without `source`.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cxs_buf.h"
#include "meili_docs.h"

#define MARK "_meili"
#define ID_MAX 511

static void set_v(cxs_meili_error *e, unsigned status, const char *code,
                  const char *fmt, va_list ap) {
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

void cxs_meili_set(cxs_meili_error *e, unsigned status, const char *code,
                   const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_v(e, status, code, fmt, ap);
    va_end(ap);
}

cxs_status cxs_meili_fail(cxs_meili_error *e, unsigned status, const char *code,
                          const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_v(e, status, code, fmt, ap);
    va_end(ap);
    return status >= 500 ? CXS_ERR_INTERNAL : CXS_ERR_INVALID;
}

static bool ends_in_id(const char *k) {
    size_t n = strlen(k);
    return n >= 2 && strcasecmp(k + n - 2, "id") == 0;
}

cxs_status cxs_meili_pk_infer(const json_t *first, const char *given, char *pk,
                              cxs_meili_error *e) {
    const char *key, *found = NULL;
    const json_t *v;
    size_t n = 0;
    if (given) {
        if (!*given || strlen(given) >= CXS_MEILI_PK_MAX)
            return cxs_meili_fail(e, 400, "invalid_index_primary_key",
                                  "primaryKey: expected 1 to %d bytes",
                                  CXS_MEILI_PK_MAX - 1);
        snprintf(pk, CXS_MEILI_PK_MAX, "%s", given);
        return CXS_OK;
    }
    if (json_object_get(first, "id")) {
        snprintf(pk, CXS_MEILI_PK_MAX, "id");
        return CXS_OK;
    }
    json_object_foreach((json_t *)first, key, v) {
        if (ends_in_id(key))
            found = key, n++;
    }
    if (n == 1 && strlen(found) < CXS_MEILI_PK_MAX) {
        snprintf(pk, CXS_MEILI_PK_MAX, "%s", found);
        return CXS_OK;
    }
    if (n)
        return cxs_meili_fail(
            e, 400, "index_primary_key_multiple_candidates_found",
            "The primary key inference failed as the engine found %zu fields "
            "ending with `id` in their names. Please specify the primary key "
            "manually using the `primaryKey` query parameter.",
            n);
    return cxs_meili_fail(
        e, 400, "index_primary_key_no_candidate_found",
        "The primary key inference failed as the engine did not find any "
        "field ending with `id` in its name. Please specify the primary key "
        "manually using the `primaryKey` query parameter.");
}

const char *cxs_meili_id_text(const json_t *v, char *buf, size_t cap) {
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > ID_MAX || n >= cap)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return NULL;
    memcpy(buf, s, n + 1);
    return buf;
}

/* ---- document to post ---- */

/* The post fields a document may fill, with the JSON type they need. */
static const char *const STRING_FIELDS[] = {"channel", "author", "date",
                                            "lang",    "url",    "title"};
#define NSTRING (sizeof STRING_FIELDS / sizeof STRING_FIELDS[0])
static const char *const TEXT_FIELDS[] = {"text", "content", "body"};

static bool is_string_field(const char *k) {
    for (size_t i = 0; i < NSTRING; i++)
        if (strcmp(k, STRING_FIELDS[i]) == 0)
            return 1;
    return 0;
}

static bool text_ok(const json_t *v) {
    size_t i;
    const json_t *x;
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x))
            return 0;
    }
    return 1;
}

static bool tags_ok(const json_t *v) {
    return json_is_array(v) && text_ok(v);
}

/* The text a document without one is found by: its string values. */
static char *made_text(const json_t *doc, const char *pk) {
    cxs_buf b = CXS_BUF_INIT;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        if (json_is_string(v) && strcmp(key, pk) != 0 &&
            json_string_length(v) > 0) {
            if ((b.len && cxs_buf_appendc(&b, '\n')) ||
                cxs_buf_append(&b, json_string_value(v), json_string_length(v)))
                break;
        }
    }
    return cxs_buf_detach(&b);
}

typedef struct conv {
    json_t *post; /* the post's JSON (import format) */
    json_t *mark; /* the marker */
    json_t *raw;  /* mark.raw */
} conv;

static void keep_raw(conv *c, const char *key, json_t *v) {
    json_object_set(c->raw, key, v);
}

/* Where the text comes from; fails for a text field that is no text. */
static cxs_status pick_text(conv *c, const json_t *doc, const char *pk,
                            size_t n, cxs_meili_error *e) {
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(doc, TEXT_FIELDS[i]);
        if (!v || json_is_null(v))
            continue;
        if (!text_ok(v))
            return cxs_meili_fail(
                e, 400, "invalid_document_fields",
                "Document %zu: `%s` must be a string or an array of strings, "
                "not %s.",
                n, TEXT_FIELDS[i], json_is_object(v) ? "an object" : "this");
        json_object_set(c->post, "text", v);
        if (i > 0)
            json_object_set_new(c->mark, "text", json_string(TEXT_FIELDS[i]));
        return CXS_OK;
    }
    char *t = made_text(doc, pk);
    json_t *s = t && *t ? json_string(t) : NULL;
    free(t);
    if (!s) {
        char buf[ID_MAX + 1];
        s = json_string(
            cxs_meili_id_text(json_object_get(doc, pk), buf, sizeof buf));
    }
    json_object_set_new(c->post, "text", s);
    json_object_set_new(c->mark, "text", json_false());
    return CXS_OK;
}

static void map_field(conv *c, const char *key, json_t *v, const char *tf) {
    if (strcmp(key, tf) == 0 || strcmp(key, MARK) == 0) {
        if (strcmp(key, MARK) == 0)
            keep_raw(c, key, v);
        return;
    }
    if (is_string_field(key) && json_is_string(v) &&
        json_string_length(v) == strlen(json_string_value(v))) {
        json_object_set(c->post, key, v);
    } else if (strcmp(key, "tags") == 0 && tags_ok(v)) {
        json_object_set(c->post, key, v);
        keep_raw(c, key, v); /* the post folds their case */
    } else if (is_string_field(key) || !strcmp(key, "tags") ||
               !strcmp(key, "text") || !strcmp(key, "id") ||
               !strcmp(key, "source")) {
        keep_raw(c, key, v);
    } else {
        json_object_set(c->post, key, v);
    }
}

/* Fields the post derives when the document lacks them. */
static void note_derived(conv *c, const json_t *doc) {
    static const char *const DERIVED[] = {"title", "lang", "tags"};
    json_t *drop = json_array();
    for (size_t i = 0; i < 3; i++)
        if (!json_object_get(c->post, DERIVED[i]) &&
            !json_object_get(doc, DERIVED[i]))
            json_array_append_new(drop, json_string(DERIVED[i]));
    json_object_set_new(c->mark, "drop", drop);
}

static cxs_status build(conv *c, const json_t *doc, const char *pk, size_t n,
                        cxs_meili_error *e) {
    char buf[ID_MAX + 1];
    const json_t *idv = json_object_get(doc, pk);
    if (!idv)
        return cxs_meili_fail(e, 400, "missing_document_id",
                              "Document %zu doesn't have a `%s` attribute.", n,
                              pk);
    const char *id = cxs_meili_id_text(idv, buf, sizeof buf);
    if (!id)
        return cxs_meili_fail(
            e, 400, "invalid_document_id",
            "Document %zu: the primary key `%s` must be an integer or a string "
            "of at most 511 bytes made of letters, digits, hyphens and "
            "underscores.",
            n, pk);
    json_object_set_new(c->post, "id", json_string(id));
    if (strcmp(pk, "id") != 0)
        json_object_set_new(c->mark, "pk", json_string(pk));
    if (json_is_integer(idv))
        json_object_set_new(c->mark, "int", json_true());
    cxs_status rc = pick_text(c, doc, pk, n, e);
    if (rc != CXS_OK)
        return rc;
    const json_t *tj = json_object_get(c->mark, "text");
    const char *tf = json_is_string(tj) ? json_string_value(tj) : "text";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        if (strcmp(key, pk) != 0)
            map_field(c, key, v, json_is_false(tj) ? "" : tf);
    }
    note_derived(c, doc);
    return CXS_OK;
}

cxs_status cxs_meili_doc_to_post(const json_t *doc, const char *pk, size_t n,
                                 cxs_post *p, cxs_meili_error *e) {
    cxs_err err = {0};
    memset(p, 0, sizeof *p);
    if (!json_is_object(doc))
        return cxs_meili_fail(e, 400, "invalid_document_fields",
                              "Document %zu is not a JSON object.", n);
    conv c = {json_object(), json_object(), json_object()};
    cxs_status rc = c.post && c.mark && c.raw
                        ? build(&c, doc, pk, n, e)
                        : cxs_meili_fail(e, 500, "internal", "out of memory");
    if (rc == CXS_OK) {
        if (json_object_size(c.raw))
            json_object_set(c.mark, "raw", c.raw);
        json_object_set(c.post, MARK, c.mark);
        if (cxs_post_from_json(c.post, p, &err) != CXS_OK ||
            cxs_post_finish(p, &err) != CXS_OK)
            rc = cxs_meili_fail(e, 400, "invalid_document_fields",
                                "Document %zu: %s", n, err.msg);
    }
    if (rc != CXS_OK)
        cxs_post_release(p);
    json_decref(c.post);
    json_decref(c.mark);
    json_decref(c.raw);
    return rc;
}

/* ---- post to document ---- */

static const json_t *marker(const cxs_post *p) {
    const json_t *m = p->extra ? json_object_get(p->extra, MARK) : NULL;
    return json_is_object(m) ? m : NULL;
}

const char *cxs_meili_post_pk(const cxs_post *p) {
    const json_t *pk = json_object_get(marker(p), "pk");
    return json_is_string(pk) ? json_string_value(pk) : "id";
}

static void restore_id(json_t *doc, const json_t *m) {
    json_t *id = json_object_get(doc, "id");
    if (!json_is_string(id))
        return;
    json_incref(id);
    json_object_del(doc, "id");
    json_t *v = json_is_true(json_object_get(m, "int"))
                    ? json_integer(strtoll(json_string_value(id), NULL, 10))
                    : json_incref(id);
    const json_t *pk = json_object_get(m, "pk");
    json_object_set_new(doc, json_is_string(pk) ? json_string_value(pk) : "id",
                        v);
    json_decref(id);
}

static void restore_text(json_t *doc, const json_t *m) {
    const json_t *t = json_object_get(m, "text");
    if (json_is_false(t)) {
        json_object_del(doc, "text");
    } else if (json_is_string(t)) {
        json_t *v = json_object_get(doc, "text");
        if (v) {
            json_object_set(doc, json_string_value(t), v);
            json_object_del(doc, "text");
        }
    }
}

/* The same object with the primary key first, as documents are usually
 * written (JSON objects are unordered; this is for people reading). */
static json_t *pk_first(json_t *doc, const char *pk) {
    json_t *v = json_object_get(doc, pk), *o = v ? json_object() : NULL;
    if (!o || json_object_set(o, pk, v) || json_object_update(o, doc)) {
        json_decref(o);
        return doc;
    }
    json_decref(doc);
    return o;
}

json_t *cxs_meili_post_to_doc(const cxs_post *p) {
    json_t *doc = cxs_post_to_json(p);
    const json_t *m = marker(p);
    if (!doc)
        return NULL;
    json_object_del(doc, "source");
    if (!m)
        return doc;
    json_incref((json_t *)m);
    json_object_del(doc, MARK);
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(m, "drop"), i, x) {
        json_object_del(doc, json_string_value(x));
    }
    restore_text(doc, m);
    restore_id(doc, m);
    json_object_update(doc, json_object_get(m, "raw"));
    json_decref((json_t *)m);
    return pk_first(doc, cxs_meili_post_pk(p));
}
